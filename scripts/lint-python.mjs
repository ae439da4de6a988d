// The Python half of `npm run lint`: Ruff's lint and format check (its WebAssembly build from npm, so nothing but
// Node is needed) over NormScope's Python, then basedpyright's type check of the `normscope` package. Both take their
// settings from python/pyproject.toml ([tool.ruff], [tool.basedpyright]).
//   node scripts/lint-python.mjs            everything: Ruff over FILES, then the type check
//   node scripts/lint-python.mjs PATH...    Ruff only, over these files or folders
//   node scripts/lint-python.mjs --write    apply Ruff's fixes (import order, ...) and its formatting (the rest stays to fix)
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PositionEncoding, Workspace } from '@astral-sh/ruff-wasm-nodejs';
import { parse } from 'smol-toml';

const ROOT = resolve(fileURLToPath(import.meta.url), '../..');
const PYPROJECT = join(ROOT, 'python', 'pyproject.toml');
// NormScope's own Python; test/fixtures holds copies of public projects' files, kept as their authors wrote them.
const FILES = ['python', 'test/python', 'test/bench', 'test/unit', 'examples'];
const SKIP = new Set(['node_modules', '__pycache__', 'build', 'fixtures']);

function pythonFiles(path) {
  if (!existsSync(path)) return [];
  if (!statSync(path).isDirectory()) return path.endsWith('.py') ? [path] : [];
  return readdirSync(path, { withFileTypes: true })
    .filter((e) => !SKIP.has(e.name) && !e.name.endsWith('.egg-info'))
    .flatMap((e) => pythonFiles(join(path, e.name)))
    .sort();
}

/** `text` with the safe fixes of Ruff's findings applied (import order, ...), a few rounds: fixes may overlap. */
function fixed(workspace, text) {
  for (let round = 0; round < 4; round++) {
    const lines = text.split('\n');
    const offset = ({ row, column }) => lines.slice(0, row - 1).reduce((n, l) => n + l.length + 1, 0) + column - 1;
    const edits = workspace
      .check(text)
      .flatMap((d) => d.fix?.edits ?? [])
      .map((e) => ({ start: offset(e.location), end: offset(e.end_location), content: e.content ?? '' }))
      .sort((a, b) => b.start - a.start);
    let next = text;
    let limit = Infinity;
    for (const e of edits.filter((e) => e.end <= limit && (limit = e.start) >= 0)) {
      next = next.slice(0, e.start) + e.content + next.slice(e.end);
    }
    if (next === text) return text;
    text = next;
  }
  return text;
}

/** Ruff's findings and format differences in `files`, printed as `file:line:column: CODE message`; the count. */
function ruff(files, write) {
  const { ruff: settings } = parse(readFileSync(PYPROJECT, 'utf8')).tool;
  const workspace = new Workspace(settings, PositionEncoding.Utf16);
  let problems = 0;
  for (const file of files) {
    const original = readFileSync(file, 'utf8');
    const text = write ? fixed(workspace, original) : original;
    if (text !== original) writeFileSync(file, text);
    const shown = relative(process.cwd(), file);
    for (const d of workspace.check(text)) {
      problems++;
      console.log(`${shown}:${d.start_location.row}:${d.start_location.column}: ${d.code ?? 'syntax'} ${d.message}`);
    }
    let formatted;
    try {
      formatted = workspace.format(text);
    } catch {
      continue; // a syntax error, which check() has reported
    }
    if (formatted === text) continue;
    if (write) writeFileSync(file, formatted);
    else {
      problems++;
      console.log(`${shown}: not formatted as Ruff formats it (node scripts/lint-python.mjs --write)`);
    }
  }
  return problems;
}

/** The interpreter whose packages (torch) the type check resolves imports against: NORMSCOPE_PYTHON, else Debian's. */
function interpreter() {
  const candidates = [process.env.NORMSCOPE_PYTHON, '/usr/bin/python3'].filter(Boolean);
  return candidates.find((p) => existsSync(p)) ?? 'python3';
}

function typeCheck() {
  const bin = join(ROOT, 'node_modules', 'basedpyright', 'index.js');
  const result = spawnSync(process.execPath, [bin, '--project', PYPROJECT, '--pythonpath', interpreter()], {
    cwd: join(ROOT, 'python'),
    stdio: 'inherit',
  });
  return result.status ?? 1;
}

const args = process.argv.slice(2);
const write = args.includes('--write');
const paths = args.filter((a) => !a.startsWith('--'));
const files = (paths.length ? paths : FILES.map((f) => join(ROOT, f))).flatMap((p) => pythonFiles(resolve(p)));
const problems = ruff(files, write);
console.log(`ruff ${Workspace.version()}: ${files.length} files, ${problems} problem${problems === 1 ? '' : 's'}`);
const types = paths.length || write ? 0 : typeCheck();
process.exit(problems || types ? 1 : 0);
