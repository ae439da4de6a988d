/**
 * The detectors on a PyTorch run (the Python engine's statistics, or a Python run log): PyTorch class names as
 * the detectors know them, norms and fix hints in PyTorch's words. Shared by src/runner (a live run) and
 * src/runlog (a run log read later).
 */
import type { Finding, LayerInfo, NormKind, RunReport, StatName, StepSample } from '../protocol';
import { detectFindings } from './detectors';
import type { FixWords } from './detectors/series';

/** PyTorch class names as the detectors know them (they were written against tfjs layer names). */
export function detectorClassName(className: string): string {
  if (/^BatchNorm[123]d$|^SyncBatchNorm$/.test(className)) return 'BatchNormalization';
  if (/^Dropout[123]?d?$|^AlphaDropout$/.test(className)) return 'Dropout';
  if (/^(F|torch|Tensor)\./.test(className)) return 'Activation'; // a functional activation (F.relu in forward)
  return className;
}

/**
 * A norm to insert after `layer`, as PyTorch code names it: the dimensionality from the layer's output
 * (N, C, *spatial), and LayerNorm over a feature map as GroupNorm(1, C) (what the Python swap emits; nn.LayerNorm(C)
 * would normalize the last spatial axis).
 */
export function pytorchNormName(kind: NormKind, layer: LayerInfo): string {
  const shape = layer.outputShape as (number | null)[];
  const spatial = Math.min(3, Math.max(1, shape.length - 2));
  const channels = typeof shape[1] === 'number' ? shape[1] : 'C';
  switch (kind) {
    case 'batchNorm':
      return `nn.BatchNorm${spatial}d`;
    case 'instanceNorm':
      return `nn.InstanceNorm${spatial}d`;
    case 'groupNorm':
      return 'nn.GroupNorm';
    case 'rmsNorm':
      return 'nn.RMSNorm';
    case 'layerNorm':
      return shape.length > 2 ? `nn.GroupNorm(1, ${channels}) (LayerNorm over a feature map)` : 'nn.LayerNorm';
  }
}

/** Fix hints name PyTorch APIs on a PyTorch run. */
export const PYTORCH_WORDS: FixWords = {
  clip: 'torch.nn.utils.clip_grad_norm_ between backward() and step()',
  init: 'nn.init.xavier_normal_ / nn.init.kaiming_normal_',
  heInit: 'nn.init.kaiming_normal_',
  leakyRelu: 'nn.LeakyReLU',
  fasterAverages: 'a larger momentum, e.g. momentum=0.2: PyTorch weighs each new batch by it',
};

/** The findings of a finished run, from the TS detectors (null over JSON is NaN to them). */
export function pythonFindings(
  layers: LayerInfo[],
  statNames: readonly StatName[],
  samples: StepSample[],
  report: RunReport,
  thresholds?: Record<string, number>,
  log?: (message: string) => void,
): Finding[] {
  const asNumber = (v: number | null) => (v === null ? NaN : v);
  return detectFindings(
    {
      layers: layers.map((l) => ({ ...l, className: detectorClassName(l.className) })),
      statNames,
      samples: samples.map((s) => ({
        ...s,
        loss: asNumber(s.loss as number | null),
        values: s.values.map((v) => asNumber(v as number | null)),
      })),
      loss: report.loss.map(asNumber),
      batchSize: report.batchSize,
      normName: pytorchNormName,
      words: PYTORCH_WORDS,
    },
    thresholds,
    log,
  );
}
