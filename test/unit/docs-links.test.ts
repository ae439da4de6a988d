// The documentation's links hold: every finding kind a detector or rule can raise has the section its diagnostic
// links to (docs/findings.md#finding-<kind>, shipped in the .vsix), and every relative link of the README and the
// docs pages reaches an existing file, and for a Markdown target with a fragment, an existing anchor.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { FINDINGS_DOC, findingDocAnchor } from '../../src/editor/findingRanges';
import { FINDING_KINDS } from '../../src/protocol/vocabulary';

const root = process.cwd();

/** The id GitHub (and VS Code's preview) gives a heading: lower case, punctuation dropped, spaces to hyphens. */
export function headingSlug(heading: string): string {
  return heading
    .replace(/<[^>]*>/g, '')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** Markdown text without fenced code blocks and inline code, where link-like text is no link. */
function prose(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '');
}

/** The anchors a Markdown file defines: explicit ids and heading slugs (repeated headings get -1, -2, … as on GitHub). */
export function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  for (const m of markdown.matchAll(/\b(?:id|name)="([^"]+)"/g)) anchors.add(m[1]);
  const seen = new Map<string, number>();
  for (const m of prose(markdown).matchAll(/^#{1,6}\s+(.+?)\s*#*$/gm)) {
    const slug = headingSlug(m[1]);
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return anchors;
}

/** Targets of the Markdown links and images in `markdown` (inline form), outside code. */
export function linkTargets(markdown: string): string[] {
  const text = prose(markdown);
  return [...text.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g), ...text.matchAll(/\bhref="([^"]+)"/g)].map((m) => m[1]);
}

/** Every broken relative link of one Markdown file, as 'file: target (why)'. */
export function brokenLinks(file: string): string[] {
  const broken: string[] = [];
  const name = relative(root, file);
  for (const target of linkTargets(readFileSync(file, 'utf8'))) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:, vscode: …
    const [path, fragment] = target.split('#', 2);
    const to = path === '' ? file : resolve(dirname(file), decodeURI(path));
    if (!existsSync(to)) {
      broken.push(`${name}: ${target} (no such file)`);
      continue;
    }
    if (fragment && to.endsWith('.md') && statSync(to).isFile() && !anchorsOf(readFileSync(to, 'utf8')).has(fragment)) {
      broken.push(`${name}: ${target} (no anchor '${fragment}' in ${relative(root, to)})`);
    }
  }
  return broken;
}

const pages = [
  'README.md',
  'ARCHITECTURE.md',
  'CONTRIBUTING.md',
  'CHANGELOG.md',
  'examples/README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => join('docs', f)),
]
  .map((f) => join(root, f))
  .filter((f) => existsSync(f));

test('every finding kind has the section its diagnostic links to in docs/findings.md', () => {
  const anchors = anchorsOf(readFileSync(join(root, FINDINGS_DOC), 'utf8'));
  const missing = FINDING_KINDS.filter((kind) => !anchors.has(findingDocAnchor(kind)));
  assert.deepEqual(missing, [], `no #finding-<kind> anchor in ${FINDINGS_DOC} for: ${missing.join(', ')}`);
});

test('every relative link of the README and the docs pages reaches a file (and its anchor)', () => {
  assert.ok(pages.some((p) => p.endsWith('README.md')) && pages.length > 5, `too few pages found: ${pages.join(', ')}`);
  assert.deepEqual(pages.flatMap(brokenLinks), []);
});

test('the link checker sees broken links and anchors', () => {
  assert.equal(headingSlug('Speed without tfjs-node'), 'speed-without-tfjs-node');
  assert.equal(
    headingSlug('2. Any function that builds a model, with its arguments'),
    '2-any-function-that-builds-a-model-with-its-arguments',
  );
  assert.equal(headingSlug('`report` and `watch`'), 'report-and-watch');
  const anchors = anchorsOf('# A\n\n## <a id="finding-dead"></a>dead\n\n```\n# not a heading\n```\n## A\n');
  assert.deepEqual([...anchors].sort(), ['a', 'a-1', 'dead', 'finding-dead']);
  assert.deepEqual(linkTargets('[x](a.md#b) ![p](c.png) `[no](d.md)` <a href="e.md">e</a> [w](https://x.y)'), [
    'a.md#b',
    'c.png',
    'https://x.y',
    'e.md',
  ]);
});
