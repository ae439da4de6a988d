// The import map of the Python package (python/normscope, docs/python-package.md): no cycles, dependencies one way
// between the subpackages, and no private name (leading underscore) imported from another module.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pythonEnginePath } from '../../src/runner/pythonClient';
import { WORKER } from './engine-fixtures';

const PACKAGE = path.join(pythonEnginePath(WORKER), 'normscope');

/** What each subpackage may import of the package besides itself. */
const ALLOWED: Record<string, string[]> = {
  '': ['watching', 'version'], // normscope/__init__.py: the lazy `watch`, the version it re-exports
  version: [], // normscope/version.py: the package's version, a leaf (the run-log writer records it)
  engine: ['measuring', 'analysis', 'refactor', 'runlog', '', 'version'],
  measuring: ['', 'version'],
  analysis: [],
  refactor: ['analysis', 'measuring'],
  runlog: ['measuring', '', 'version'],
  watching: ['measuring', 'runlog', 'engine', '', 'version'],
};

interface Edge {
  from: string;
  to: string;
  names: string[];
}

/** Every module of the package as a dotted name (`engine.run`; '' for the package itself), with its file. */
function modules(dir = PACKAGE, prefix: string[] = []): Map<string, string> {
  const out = new Map<string, string>();
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory() && entry.name !== '__pycache__') {
      for (const [k, v] of modules(path.join(dir, entry.name), [...prefix, entry.name])) out.set(k, v);
    } else if (entry.name.endsWith('.py')) {
      const name = entry.name === '__init__.py' ? prefix : [...prefix, entry.name.slice(0, -3)];
      out.set(name.join('.'), path.join(dir, entry.name));
    }
  }
  return out;
}

/** The relative imports of `module` (its file `file`), resolved to modules of the package. */
function importsOf(module: string, file: string, known: Map<string, string>): Edge[] {
  const text = fs.readFileSync(file, 'utf8');
  const isPackage = file.endsWith('__init__.py');
  const here = module ? module.split('.') : [];
  const base = isPackage ? here : here.slice(0, -1);
  const edges: Edge[] = [];
  for (const m of text.matchAll(/^\s*from (\.+)([\w.]*) import (\([^)]*\)|[^\n#]*)/gm)) {
    const target = [...base.slice(0, base.length - (m[1].length - 1)), ...(m[2] ? m[2].split('.') : [])];
    const names = m[3]
      .replace(/[()]/g, '')
      .split(',')
      .map((n) =>
        n
          .split(/\s+as\s+/)[0]
          .replace(/#.*/, '')
          .trim(),
      )
      .filter(Boolean);
    const submodules = names.filter((n) => known.has([...target, n].join('.')));
    for (const n of submodules) edges.push({ from: module, to: [...target, n].join('.'), names: [] });
    const rest = names.filter((n) => !submodules.includes(n));
    if (rest.length) edges.push({ from: module, to: target.join('.'), names: rest });
  }
  return edges;
}

const known = modules();
const edges = [...known].flatMap(([module, file]) => importsOf(module, file, known));
const top = (module: string) => module.split('.')[0];

test('the package has its subpackages and every relative import names a module of it', () => {
  for (const sub of ['engine', 'measuring', 'analysis', 'refactor', 'runlog']) assert.ok(known.has(sub), `no ${sub}`);
  const unknown = edges.filter((e) => !known.has(e.to) && top(e.to) !== 'watching');
  assert.deepEqual(unknown, []);
});

test('subpackages depend one way: none imports one it may not', () => {
  const wrong = edges
    .filter((e) => top(e.from) !== top(e.to) && !(ALLOWED[top(e.from)] ?? []).includes(top(e.to)))
    .map((e) => `${e.from} → ${e.to}`);
  assert.deepEqual(wrong, []);
});

test('no import cycle between modules', () => {
  const graph = new Map<string, string[]>();
  for (const e of edges) graph.set(e.from, [...(graph.get(e.from) ?? []), e.to]);
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[] = [];
  const visit = (node: string, trail: string[]) => {
    if (state.get(node) === 'done') return;
    if (state.get(node) === 'open') {
      cycles.push([...trail.slice(trail.indexOf(node)), node].join(' → '));
      return;
    }
    state.set(node, 'open');
    for (const next of graph.get(node) ?? []) visit(next, [...trail, node]);
    state.set(node, 'done');
  };
  for (const node of known.keys()) visit(node, []);
  assert.deepEqual(cycles, []);
});

test('no private name is imported from another module', () => {
  const privateImports = edges.flatMap((e) =>
    e.names.filter((n) => n.startsWith('_') && n !== '__version__').map((n) => `${e.from}: ${n} from ${e.to}`),
  );
  assert.deepEqual(privateImports, []);
});
