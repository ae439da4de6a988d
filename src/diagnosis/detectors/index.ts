/**
 * Dynamic fault detectors: turn a run's sampled statistics into findings a user can act on.
 * Pure functions over the numbers; each kind lives in its own module with its citation and
 * thresholds (./thresholds). The engine calls `detectFindings` at the end of every run.
 */
import type { Finding, LayerInfo } from '../../protocol/run';
import { detectBnDrift } from './bnDrift';
import { detectBnPerDeviceBatch } from './bnPerDevice';
import { detectDead, detectGammaCollapse } from './dead';
import { detectEffectiveLr } from './effectiveLr';
import { detectExploding } from './exploding';
import { detectNonFinite } from './nonFinite';
import { detectSaturated } from './saturated';
import { DetectorGuard, type DetectorLog } from './guard';
import { RunStats, type DetectorInput } from './series';
import { DEFAULT_THRESHOLDS, type DetectorThresholds } from './thresholds';
import { detectVanishing } from './vanishing';

export type { DetectorInput } from './series';
export { detectorFailed, type DetectorLog } from './guard';
export { DEFAULT_THRESHOLDS, type DetectorThresholds } from './thresholds';

const SEVERITY_ORDER = { error: 0, warning: 1, info: 2 } as const;

/**
 * Every detector, by the name a failure of it is reported under. Tests replace an entry (and put it back)
 * to prove that a detector that throws is reported, not silently dropped.
 */
export const DETECTORS = {
  'non-finite': detectNonFinite,
  dead: detectDead,
  'gamma-collapse': detectGammaCollapse,
  vanishing: detectVanishing,
  exploding: detectExploding,
  saturated: detectSaturated,
  'BatchNorm drift': detectBnDrift,
  'bn-per-device-batch': detectBnPerDeviceBatch,
  'effective-lr': detectEffectiveLr,
};

/**
 * Every finding of a run, most severe first, then by step and layer order. A detector that throws costs
 * only its own findings: a `detector-failed` finding names it and `log` gets the stack (./guard).
 */
export function detectFindings(input: DetectorInput, thresholds?: Partial<DetectorThresholds>, log?: DetectorLog): Finding[] {
  const rs = new RunStats(input, { ...DEFAULT_THRESHOLDS, ...thresholds });
  if (input.samples.length === 0 && input.loss.length === 0) return [];
  const d = DETECTORS;
  const guard = new DetectorGuard(log);
  const nonFinite = guard.run('non-finite', () => d['non-finite'](rs));
  const dead = guard.run('dead', () => d.dead(rs));
  // No gradient crosses a fully dead layer: starved layers before it are its consequence.
  const layerIndex = new Map(input.layers.map((l) => [l.name, l.index]));
  const blockedBelow = Math.max(-1, ...dead.filter((f) => f.severity === 'error').map((f) => layerIndex.get(f.layer ?? '') ?? -1));
  const vanishing = guard.run('vanishing', () => d.vanishing(rs, blockedBelow));
  const findings = [
    ...nonFinite,
    ...dead,
    ...guard.run('gamma-collapse', () => d['gamma-collapse'](rs)),
    ...vanishing,
    ...guard.run('exploding', () => d.exploding(rs)),
    ...guard.run('saturated', () => d.saturated(rs)),
    ...guard.run('BatchNorm drift', () => d['BatchNorm drift'](rs)),
    ...guard.run('bn-per-device-batch', () => d['bn-per-device-batch'](rs)),
  ];
  // Dead or starved layers barely update; do not report that again as a learning-rate problem.
  const deadLayers = new Set(dead.map((f) => f.layer));
  const explained = (l: LayerInfo) => vanishing.length > 0 || l.index < blockedBelow || deadLayers.has(l.name);
  // After a NaN the update ratios are meaningless.
  if (nonFinite.length === 0) findings.push(...guard.run('effective-lr', () => d['effective-lr'](rs, explained)));
  findings.push(...guard.failures);
  return findings.sort(
    (a, b) =>
      SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] ||
      (a.step ?? 0) - (b.step ?? 0) ||
      (layerIndex.get(a.layer ?? '') ?? -1) - (layerIndex.get(b.layer ?? '') ?? -1),
  );
}
