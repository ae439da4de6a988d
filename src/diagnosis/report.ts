/** Builds the `RunReport` (the `normscope check --json` contract) from a run's samples. */
import {
  STAT_NAMES,
  type BackendReport,
  type LandscapeReport,
  type Finding,
  type LayerInfo,
  type LayerReport,
  type RunReport,
  type StepSample,
  type StoppedEarly,
} from '../protocol';

/** Median, robust to the slow first steps (kernel set-up, JIT) and to a busy machine. */
export function median(values: number[]): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** A StepSample, or a run log's sample with float32 rows (src/runlog). */
type LogRow = { step: number; values: ArrayLike<number> };

const finiteOrNull = (v: number): number | null => (Number.isFinite(v) ? v : null);

/** Per layer, every statistic that applies (non-NaN at some sampled step) as a series; a row past a sample's end is NaN. */
export function layerReports(layers: LayerInfo[], samples: readonly LogRow[]): LayerReport[] {
  const width = STAT_NAMES.length;
  return layers.map((layer) => {
    const stats: LayerReport['stats'] = {};
    STAT_NAMES.forEach((name, s) => {
      const series = samples.map((sample) => sample.values[layer.index * width + s] ?? NaN);
      // Infinity is a real finding (nonFinite, exploding gain); only NaN means "does not apply".
      if (series.some((v) => !Number.isNaN(v))) stats[name] = series.map(finiteOrNull);
    });
    return { name: layer.name, className: layer.className, source: layer.source, stats, sampledSteps: samples.map((s) => s.step) };
  });
}

export interface ReportInput {
  file: string;
  backend: BackendReport;
  steps: number;
  batchSize: number;
  syntheticData: boolean;
  loss: number[];
  layers: LayerInfo[];
  samples: StepSample[];
  findings: Finding[];
  instrumentedMs: number[];
  plainMs: number[];
  totalMs: number;
  stoppedEarly?: StoppedEarly;
  evalLoss: number | null;
  landscape?: LandscapeReport;
  learningRate?: number;
}

export function buildReport(input: ReportInput): RunReport {
  const plain = median(input.plainMs);
  return {
    file: input.file,
    backend: input.backend.name,
    backendNotes: input.backend.notes,
    steps: input.loss.length,
    batchSize: input.batchSize,
    syntheticData: input.syntheticData,
    loss: input.loss.map(finiteOrNull),
    evalLoss: input.evalLoss === null ? null : finiteOrNull(input.evalLoss),
    layers: layerReports(input.layers, input.samples),
    findings: input.findings,
    timing: {
      instrumentedStepMs: round(median(input.instrumentedMs)),
      plainStepMs: Number.isFinite(plain) ? round(plain) : null,
      totalMs: Math.round(input.totalMs),
    },
    ...(input.stoppedEarly ? { stoppedEarly: input.stoppedEarly } : {}),
    ...(input.learningRate !== undefined ? { learningRate: input.learningRate } : {}),
    ...(input.landscape ? { landscape: input.landscape } : {}),
  };
}

function round(ms: number): number {
  return Number.isFinite(ms) ? Math.round(ms * 1000) / 1000 : 0;
}
