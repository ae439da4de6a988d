/**
 * `normscope lint <file> [--json] [--batch-size B]`: the static rules only (src/analysis/lint) — no
 * code runs, so it is safe on untrusted files. Exit 0 with the findings (JSON `{ file, flags }` or a
 * table), 2 on a usage or read error.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { lintSource } from '../analysis/lint';
import type { Finding } from '../protocol/run';
import { runErrorOf, errorMessage } from '../protocol';
import { lintPython } from '../runner/pythonLint';

const USAGE = 'Usage: normscope lint <file.js|file.ts|file.py> [--json] [--batch-size B] [--python <interpreter>]';

function fail(message: string): number {
  process.stderr.write(`normscope lint: ${message}\n${USAGE}\n`);
  return 2;
}

/**
 * Findings as an aligned table with the message and fix under each row. `elsewhere` names the file of a finding in
 * another file than `file` (a layer built by a module the script imports), shown before its line.
 */
export function formatFindings(file: string, findings: readonly Finding[], elsewhere?: (source: string) => string | undefined): string {
  if (findings.length === 0) return `${file}: no findings\n`;
  const at = (f: Finding) => (f.source ? `${elsewhere?.(f.source.file) ?? ''}${f.source.line}:${f.source.column}` : '-');
  // A run's findings hold from a step on (a layer that dies at step 800 of a long run); static ones have no step.
  const steps = findings.some((f) => f.step !== null);
  const header = ['line', 'severity', 'kind', ...(steps ? ['from step'] : []), 'layer'];
  const rows = findings.map((f) => [
    at(f),
    f.severity,
    f.kind,
    ...(steps ? [f.step === null ? '-' : String(f.step)] : []),
    f.layer ?? '(model)',
  ]);
  const widths = header.map((h, i) => Math.max(...rows.map((r) => r[i].length), h.length));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  const out = [`${file}`, line(header)];
  findings.forEach((f, i) => {
    out.push(line(rows[i]));
    out.push(`    ${f.message}`);
    for (const r of f.related ?? []) {
      const at = r.source ? `${r.source.file === f.source?.file ? '' : `${r.source.file}:`}${r.source.line}:${r.source.column}` : '-';
      out.push(`    Also at ${at} (${r.layer ?? 'model'}): ${r.message}`);
    }
    if (f.fix) out.push(`    Fix: ${f.fix}`);
  });
  const counts = (['error', 'warning', 'info'] as const)
    .map((s) => [s, findings.filter((f) => f.severity === s).length] as const)
    .filter(([, n]) => n > 0);
  out.push(`${findings.length} finding${findings.length === 1 ? '' : 's'} (${counts.map(([s, n]) => `${n} ${s}`).join(', ')})`);
  return `${out.join('\n')}\n`;
}

/** @param enginePath the PyTorch engine's directory (python/), for .py files */
export async function lintCommand(argv: string[], enginePath?: string): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        json: { type: 'boolean', default: false },
        'batch-size': { type: 'string' },
        python: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    return fail(errorMessage(e));
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (positionals.length !== 1) return fail(positionals.length === 0 ? 'missing <file>' : `expected one file, got ${positionals.length}`);
  let batchSize: number | undefined;
  if (values['batch-size'] !== undefined) {
    batchSize = Number(values['batch-size']);
    if (!Number.isInteger(batchSize) || batchSize < 1)
      return fail(`--batch-size must be a positive integer, got '${values['batch-size']}'`);
  }
  const file = resolve(positionals[0]);
  if (/\.py$/i.test(file) && enginePath) {
    try {
      const { findings } = await lintPython(file, enginePath, { explicit: values.python }, batchSize);
      process.stdout.write(values.json ? `${JSON.stringify({ file, flags: findings }, null, 2)}\n` : formatFindings(file, findings));
      return 0;
    } catch (e) {
      return fail(runErrorOf(e).message);
    }
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return fail(
      code === 'ENOENT' ? `${file}: no such file` : code === 'EISDIR' ? `${file}: is a directory` : `${file}: ${errorMessage(e)}`,
    );
  }
  const findings = lintSource(text, file, batchSize !== undefined ? { batchSize } : {});
  process.stdout.write(values.json ? `${JSON.stringify({ file, flags: findings }, null, 2)}\n` : formatFindings(file, findings));
  return 0;
}
