/**
 * `normscope report [<run-dir>] [--json] [--fail-on kind,...] [--threshold name=value]... [--root <dir>]`: the report
 * of a run log written by the user's own training (normscope.watch, normscopeCallback; docs/run-log.md), as `check`
 * prints it and with its exit codes: 0, 1 when a finding of a --fail-on kind was raised, 2 on an error. Without a
 * folder: the newest run under $NORMSCOPE_DIR or ./.normscope/runs; a folder of runs: its newest.
 */
import { relative } from 'node:path';
import { errorMessage, reportJson, STATIC_FINDING_KINDS, type FindingKind } from '../protocol';
import { readRunLog, resolveRunDir, runLogReport, runsFolder } from '../runlog';
import { runLiveness } from '../runlog/status';
import { EXIT, parseFailOn, parseFlags, parseThresholds, UsageError } from './args';
import type { CheckIO } from './check';
import { formatReport } from './checkTable';

const USAGE = 'Usage: normscope report [<run-dir>] [--json] [--fail-on kind,...] [--threshold name=value]... [--root <project root>]';
const STATIC: ReadonlySet<string> = new Set(STATIC_FINDING_KINDS);

/** The options of `report` and `watch`: a run folder, --fail-on, --threshold, --root; throws UsageError. */
export function parseLogArgs(
  argv: string[],
  extra: Record<string, { type: 'string' | 'boolean' }> = {},
): { dir: string; failOn: Set<FindingKind>; thresholds: Record<string, number>; root?: string; values: Record<string, unknown> } | 'help' {
  const parsed = parseFlags(argv, {
    json: { type: 'boolean', default: false },
    'fail-on': { type: 'string' },
    threshold: { type: 'string', multiple: true },
    root: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
    ...extra,
  });
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  if (positionals.length > 1) throw new UsageError(`expected one run folder, got ${positionals.length}`);
  const failOn = parseFailOn(values['fail-on'] as string | undefined);
  const asked = [...failOn].filter((k) => STATIC.has(k));
  if (asked.length)
    throw new UsageError(`--fail-on ${asked.join(',')}: a run log holds measured findings; static ones come from \`normscope lint\``);
  return {
    dir: resolveRunDir(positionals[0] ?? runsFolder()),
    failOn,
    thresholds: parseThresholds(values.threshold as string[] | undefined),
    ...(values.root !== undefined ? { root: values.root as string } : {}),
    values,
  };
}

/**
 * `JSON.stringify(value, null, 2)` written a layer at a time: a long run's report (500 layers × thousands of kept
 * samples) is larger than the longest string V8 can build.
 */
export function writeJson(value: object, write: (text: string) => void): void {
  const indent = (text: string, by: string) => text.replace(/\n/g, `\n${by}`);
  const entries = Object.entries(value).filter(([, v]) => v !== undefined);
  write('{\n');
  entries.forEach(([key, v], i) => {
    write(`  ${JSON.stringify(key)}: `);
    if (Array.isArray(v) && v.length && v.every((item) => typeof item === 'object' && item !== null)) {
      write('[\n');
      v.forEach((item, j) => write(`    ${indent(JSON.stringify(item, null, 2), '    ')}${j < v.length - 1 ? ',' : ''}\n`));
      write('  ]');
    } else write(indent(JSON.stringify(v, null, 2), '  '));
    write(i < entries.length - 1 ? ',\n' : '\n');
  });
  write('}\n');
}

export async function reportCommand(argv: string[], io: CheckIO = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  try {
    const args = parseLogArgs(argv);
    if (args === 'help') {
      io.stdout.write(`${USAGE}\n`);
      return EXIT.ok;
    }
    const log = readRunLog(args.dir);
    const report = runLogReport(log, {
      thresholds: args.thresholds,
      root: args.root,
      log: (m) => io.stderr.write(`normscope report: ${m}\n`),
    });
    for (const warning of log.warnings) io.stderr.write(`normscope report: ${warning}\n`);
    if (args.values.json) writeJson(reportJson(report), (text) => io.stdout.write(text));
    else io.stdout.write(formatReport(report, (f) => relative(process.cwd(), f) || f));
    // A report of a run that is still writing is a snapshot: say how to keep up with it (docs/follow.md).
    if (!args.values.json && runLiveness(log) === 'live')
      io.stderr.write(
        `normscope report: the run is still writing; follow it with \`normscope watch ${args.dir}\`, or in VS Code with "NormScope: Follow Training Run…"\n`,
      );
    return report.findings.some((f) => args.failOn.has(f.kind)) ? EXIT.findings : EXIT.ok;
  } catch (e) {
    io.stderr.write(`normscope report: ${errorMessage(e)}\n${e instanceof UsageError ? `${USAGE}\n` : ''}`);
    return EXIT.error;
  }
}
