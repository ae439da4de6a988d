// The defaults of the `normscope.*` settings have one source, src/protocol/defaults.ts. package.json, the
// settings table in docs/settings.md and the CLI's help text cannot import it, so this test holds them to it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseCheckArgs } from '../../src/cli/check';
import { parseLimits } from '../../src/cli/args';
import { readSettings } from '../../src/host/settings';
import { DEFAULT_SETTINGS, SETTING_MINIMUMS } from '../../src/protocol/defaults';
import { DEFAULT_THRESHOLDS } from '../../src/diagnosis/detectors/thresholds';

interface Declared {
  default?: unknown;
  minimum?: number;
  properties?: Record<string, { default?: unknown }>;
}
const root = process.cwd();
const declared: Record<string, Declared> = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).contributes.configuration
  .properties;

test('package.json declares every setting with the default and minimum of src/protocol/defaults.ts', () => {
  const names = Object.keys(declared).map((k) => k.replace(/^normscope\./, ''));
  assert.deepEqual(names.sort(), Object.keys(DEFAULT_SETTINGS).sort());
  for (const [name, value] of Object.entries(DEFAULT_SETTINGS)) {
    assert.deepEqual(declared[`normscope.${name}`].default, value, `normscope.${name} default`);
  }
  for (const [name, min] of Object.entries(SETTING_MINIMUMS)) {
    assert.equal(declared[`normscope.${name}`].minimum, min, `normscope.${name} minimum`);
  }
});

test("package.json's normscope.thresholds lists every detector threshold with its default", () => {
  const listed = Object.fromEntries(Object.entries(declared['normscope.thresholds'].properties ?? {}).map(([k, v]) => [k, v.default]));
  assert.deepEqual(listed, { ...DEFAULT_THRESHOLDS });
});

test('the editor with nothing set, and the CLI with no flags, use the same defaults', () => {
  const editor = readSettings({ get: () => undefined });
  assert.deepEqual({ ...editor }, { ...DEFAULT_SETTINGS });
  const cli = parseCheckArgs(['m.js']);
  assert.ok(cli !== 'help');
  assert.equal(cli.options.steps, DEFAULT_SETTINGS.steps);
  assert.equal(cli.options.seed, DEFAULT_SETTINGS.seed);
  assert.equal(cli.options.samplingInterval, DEFAULT_SETTINGS.samplingInterval);
  assert.equal(cli.options.backend, DEFAULT_SETTINGS.backend);
  assert.equal(cli.options.permissions, DEFAULT_SETTINGS.restrictPermissions ? 'restricted' : 'off');
  assert.deepEqual(cli.limits, parseLimits({}));
  assert.equal(cli.limits.runTimeoutMs, DEFAULT_SETTINGS.runTimeoutSeconds * 1000);
  assert.equal(cli.limits.maxMemoryMB, DEFAULT_SETTINGS.maxMemoryMB);
});

test('the settings table of docs/settings.md and `normscope --help` show the same defaults', () => {
  const readme = readFileSync(join(root, 'docs', 'settings.md'), 'utf8');
  for (const [name, value] of Object.entries(DEFAULT_SETTINGS)) {
    const row = readme.match(new RegExp(`^\\| \`normscope\\.${name}\` \\| ([^|]+) \\|`, 'm'));
    assert.ok(row, `docs/settings.md has no settings row for normscope.${name}`);
    const shown = row[1].trim().replace(/^`|`$/g, '');
    assert.deepEqual(
      JSON.parse(typeof value === 'string' && !shown.startsWith('"') ? JSON.stringify(shown) : shown),
      value,
      `docs/settings.md default of ${name}`,
    );
  }
  const help = readFileSync(join(root, 'src/cli/main.ts'), 'utf8');
  for (const [flag, value] of [
    ['--steps N', DEFAULT_SETTINGS.steps],
    ['--timeout S', DEFAULT_SETTINGS.runTimeoutSeconds],
    ['--max-memory MB', DEFAULT_SETTINGS.maxMemoryMB],
  ] as const) {
    const shown = [...help.matchAll(new RegExp(`\\[${flag}=(\\d+)\\]`, 'g'))].map((m) => Number(m[1]));
    assert.ok(shown.length > 0, `normscope --help shows no default for ${flag}`);
    assert.deepEqual(new Set(shown), new Set([value]), `normscope --help default of ${flag}`);
  }
});
