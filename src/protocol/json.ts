/**
 * The JSON the CLI prints (and the panel exports), at the edge: inside the code findings are `findings`,
 * but the documented JSON of `normscope check --json`, `compare --json` and `lint --json` names them `flags`.
 */
import type { Finding, RunReport } from './run';
import type { CompareCandidate, CompareResult } from './webview';

/** `normscope check --json` (and the panel's "Export JSON"): a RunReport with its findings under `flags`. */
export type RunReportJson = Omit<RunReport, 'findings'> & { flags: Finding[] };
export type CompareCandidateJson = Omit<CompareCandidate, 'findings'> & { flags: Finding[] };
/** `normscope compare --json`. */
export type CompareResultJson = Omit<CompareResult, 'candidates'> & { candidates: CompareCandidateJson[] };

/** `value` with its `findings` key renamed `flags`, in the same position (the printed key order is unchanged). */
function findingsAsFlags<T extends { findings: Finding[] }>(value: T): Omit<T, 'findings'> & { flags: Finding[] } {
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k === 'findings' ? 'flags' : k, v])) as Omit<T, 'findings'> & {
    flags: Finding[];
  };
}

export function reportJson(report: RunReport): RunReportJson {
  return findingsAsFlags(report);
}

export function compareJson(result: CompareResult): CompareResultJson {
  return { ...result, candidates: result.candidates.map(findingsAsFlags) };
}
