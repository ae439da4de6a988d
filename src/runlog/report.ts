/**
 * A run log as a RunReport (the `normscope check --json` contract) with its findings from the same detectors as a
 * check (src/diagnosis/detectors) on the log's kept samples: `normscope report`, `normscope watch` and the editor.
 */
import { STAT_NAMES, type BackendName, type Finding, type LayerInfo, type RunReport } from '../protocol';
import { detectFindings, type DetectorInput } from '../diagnosis/detectors';
import { checkThresholds } from '../diagnosis/findings';
import { layerReports, median } from '../diagnosis/report';
import { detectorClassName, PYTORCH_WORDS, pytorchNormName } from '../diagnosis/pytorch';
import type { LogSample } from './format';
import { detectorLoss, localPath, localRoot, lossByStep, mapSources, type RunLog } from './read';

export interface LogReportOptions {
  /** Detector threshold overrides by name (`--threshold`); unknown names throw. */
  thresholds?: Record<string, number>;
  /** The local project root the log's relative paths map onto (./read `localRoot`). */
  root?: string;
  /** Where a detector's failure is logged (its finding says it failed). */
  log?: (message: string) => void;
}

const BACKENDS: readonly string[] = ['tensorflow', 'wasm', 'cpu'];

/** The samples with values in STAT_NAMES order (a log written with the same names, the usual case, as it is). */
function inStatOrder(log: RunLog): readonly LogSample[] {
  const names = log.statNames;
  if (names.length === STAT_NAMES.length && names.every((n, i) => n === STAT_NAMES[i])) return log.samples;
  const from = STAT_NAMES.map((n) => names.indexOf(n));
  return log.samples.map((s) => {
    const rows = s.values.length / names.length;
    const values = new Float32Array(rows * STAT_NAMES.length).fill(NaN);
    for (let r = 0; r < rows; r++) from.forEach((c, i) => c >= 0 && (values[r * STAT_NAMES.length + i] = s.values[r * names.length + c]));
    return { ...s, values };
  });
}

/**
 * The last step the detectors read: the first non-finite loss the optimizer did not skip, as a check stops there (after
 * it every statistic is NaN fallout, and a layer's last value would describe the wreck, not the onset); null: all.
 */
export function findingsEnd(log: RunLog, loss = detectorLoss(log)): number | null {
  const step = loss.findIndex((l) => !Number.isFinite(l));
  return step < 0 ? null : step;
}

/** The findings of a log's samples with the thresholds in force; `layers` as mapped to this machine. */
export function runLogFindings(log: RunLog, layers: LayerInfo[], options: LogReportOptions = {}): Finding[] {
  const pytorch = log.meta.engine === 'pytorch';
  const loss = detectorLoss(log);
  const end = findingsEnd(log, loss);
  const input: DetectorInput = {
    layers: pytorch ? layers.map((l) => ({ ...l, className: detectorClassName(l.className) })) : layers,
    statNames: log.statNames,
    samples: end === null ? log.samples : log.samples.filter((s) => s.step <= end),
    loss: end === null ? loss : loss.slice(0, end + 1),
    batchSize: typeof log.meta.batchSize === 'number' ? log.meta.batchSize : 0,
    ...(typeof log.meta.learningRate === 'number' ? { learningRate: log.meta.learningRate } : {}),
    ...(pytorch ? { normName: pytorchNormName, words: PYTORCH_WORDS } : {}),
    ...distributed(log, layers),
  };
  return detectFindings(input, checkThresholds(options.thresholds), options.log);
}

/** A distributed run's processes and its SyncBatchNorm layers (the detectors read both as BatchNorm otherwise). */
function distributed(log: RunLog, layers: LayerInfo[]): Pick<DetectorInput, 'distributed'> {
  const worldSize = log.meta.worldSize;
  if (worldSize < 2) return {};
  return { distributed: { worldSize, syncBatchNorm: layers.filter((l) => l.className === 'SyncBatchNorm').map((l) => l.name) } };
}

/** The RunReport of a log: its layers' series over the kept samples, the loss of every step, the findings. */
export function runLogReport(log: RunLog, options: LogReportOptions = {}): RunReport {
  const root = localRoot(log, options.root);
  const layers = mapSources(log, root);
  const meta = log.meta;
  const backend = typeof meta.backend === 'string' && BACKENDS.includes(meta.backend) ? (meta.backend as BackendName) : 'cpu';
  const loss = lossByStep(log);
  const started = Date.parse(meta.started);
  const ended = log.end ? Date.parse(log.end.time) : log.lastWriteTime;
  return {
    file: meta.file ? localPath(meta.file, root) : log.dir,
    backend,
    backendNotes: runNotes(log),
    steps: loss.length,
    batchSize: typeof meta.batchSize === 'number' ? meta.batchSize : 0,
    syntheticData: false,
    loss,
    evalLoss: null,
    layers: layerReports(layers, inStatOrder(log)),
    findings: runLogFindings(log, layers, options),
    timing: {
      instrumentedStepMs: Math.round(median(log.samples.map((s) => s.stepMs)) * 1000) / 1000 || 0,
      plainStepMs: null,
      totalMs: Number.isFinite(started) && Number.isFinite(ended) ? Math.max(0, Math.round(ended - started)) : 0,
    },
    ...(typeof meta.learningRate === 'number' ? { learningRate: meta.learningRate } : {}),
  };
}

/** What the report's header says about the run: who wrote it where, how it is sampled, how it ended. */
export function runNotes(log: RunLog): string[] {
  const m = log.meta;
  const versions = Object.entries(m.versions ?? {})
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const notes = [
    `run log ${log.dir}: ${m.engine} on ${m.host} (pid ${m.pid}), started ${m.started}${versions ? `; ${versions}` : ''}`,
    `measured every ${m.every} step${m.every === 1 ? '' : 's'}${m.worldSize > 1 ? ` on ${m.worldSize} processes` : ''}; ` +
      `${log.samples.length} samples kept${log.stride > 1 ? ` (older ones thinned to every ${log.stride}th, samples around events kept)` : ''}`,
  ];
  const end = findingsEnd(log);
  if (end !== null) notes.push(`findings read up to step ${end}, the first non-finite loss (a check stops there too)`);
  if (log.skipped.length)
    notes.push(`${log.skipped.length} optimizer step${log.skipped.length === 1 ? '' : 's'} skipped (${log.skipped[0].reason})`);
  notes.push(endNote(log));
  return notes;
}

/** How the run ended, or that it has not (yet). */
export function endNote(log: RunLog, now = Date.now()): string {
  const end = log.end;
  if (end?.reason === 'closed') return `ended normally at ${end.time}`;
  if (end)
    return `ended by ${end.reason === 'exception' ? 'an exception' : end.reason}${end.message ? `: ${end.message}` : ''} at ${end.time}`;
  const quiet = Math.max(0, Math.round((now - log.lastWriteTime) / 1000));
  return `no end record: still running, or killed (last write ${quiet} s ago)`;
}
