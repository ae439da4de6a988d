/**
 * Online events of a run log (docs/run-log.md "Events"): what the detectors will look for, noticed as each sample
 * is written so the samples around it are kept. The same rules, constants and order as
 * python/normscope/runlog/policy.py (test/unit/runlog-conformance.test.ts holds the two writers to the same
 * files); computed on the float32 values as stored.
 */
import { DEFAULT_THRESHOLDS } from '../diagnosis/detectors/thresholds';

export const BEFORE = 4;
export const AFTER = 12;
export const START_SAMPLES = 32;
const EMA_RATE = 1 / 8;
const WARMUP = 8;
const JUMP = 10;
const DEAD_JUMP = 0.25;
const LOSS_RATE = 1 / 16;
const LOSS_WARMUP = 16;
const LOSS_SPIKE = 6;
const MAX_PER_KEY = 8;
const T = DEFAULT_THRESHOLDS;

const CONDITIONS = ['non-finite', 'dead', 'gamma-collapse', 'saturated', 'effective-lr', 'bn-train-inference-drift'] as const;
const JUMPS = ['gradient-jump', 'variance-jump', 'dead-jump'] as const;
/** A window around a condition (what the detectors report) outranks one around a jump or a loss spike. */
export function eventPriority(kind: string): number {
  return (CONDITIONS as readonly string[]).includes(kind) || kind === 'exploding' ? 2 : 1;
}
/** The statistics the events read; a log whose statNames lack one has no sample events. */
const READ = [
  'nonFinite',
  'weightNorm',
  'gradNorm',
  'activationGradNorm',
  'deadFraction',
  'gammaMin',
  'gammaMax',
  'saturatedFraction',
  'updateRatio',
  'movingMeanGap',
  'movingVarGap',
  'variance',
] as const;

export interface RaisedEvent {
  kind: string;
  layer: number | null;
  value: number;
}

const finite = (x: number) => x - x === 0;
/** The larger of two values where either may be NaN (not applicable); NaN when both are. */
const larger = (a: number, b: number) => (a !== a ? b : b !== b || a >= b ? a : b);

export class RunEvents {
  private readonly width: number;
  private readonly cols: number[] | null;
  private flags: boolean[] = [];
  private active: boolean[] = [];
  private counts: number[] = [];
  private means: number[] = [];
  /** Whether each jump statistic is jumping now: a jump is raised when it starts, like a condition. */
  private jumping: boolean[] = [];
  private readonly last = new Map<string, { seq: number; count: number }>();
  private lossSteps = 0;
  private lossMean = 0;
  private lossDev = 0;
  private lossActive: string | null = null;
  /** The first three finite losses' magnitudes: their median is the start the exploding rule measures growth from. */
  private readonly lossStart: number[] = [];

  constructor(statNames: readonly string[]) {
    this.width = statNames.length;
    this.cols = READ.every((n) => statNames.includes(n)) ? READ.map((n) => statNames.indexOf(n)) : null;
  }

  private raise(out: RaisedEvent[], kind: string, layer: number | null, seq: number, value: number): void {
    const key = `${kind}:${layer}`;
    const last = this.last.get(key);
    if (last && (seq - last.seq < AFTER || last.count >= MAX_PER_KEY)) return;
    this.last.set(key, { seq, count: (last?.count ?? 0) + 1 });
    out.push({ kind, layer, value });
  }

  /** Events of one sample: `v` holds rows × width values as stored (float32). */
  sample(seq: number, rows: number, v: Float32Array): RaisedEvent[] {
    const out: RaisedEvent[] = [];
    if (!this.cols || rows === 0) return out;
    const [nfC, wC, gC, aC, deadC, gminC, gmaxC, satC, urC, mgC, vgC, varC] = this.cols;
    while (this.flags.length < 3 * rows) {
      this.flags.push(false, false, false);
      this.active.push(false, false, false, false, false, false);
      this.counts.push(0, 0, 0);
      this.means.push(0, 0, 0);
      this.jumping.push(false, false, false);
    }
    const { flags, active, counts, means, jumping } = this;
    for (let layer = 0; layer < rows; layer++) {
      const o = layer * this.width;
      const nf = v[o + nfC];
      if (nf !== nf) continue; // the step did not run this layer (a GAN's other network), as the detectors read it
      let bad = nf > 0;
      [wC, gC, aC].forEach((col, k) => {
        const x = v[o + col];
        if (finite(x)) flags[3 * layer + k] = true;
        else if (x === x || flags[3 * layer + k]) bad = true; // ±inf, or NaN where the layer had a finite value
      });
      const dead = v[o + deadC];
      const ratio = v[o + urC];
      const gamma = larger(Math.abs(v[o + gminC]), Math.abs(v[o + gmaxC]));
      const gap = larger(v[o + mgC], v[o + vgC]);
      const sat = v[o + satC];
      const conds = [
        bad,
        dead > T.deadFraction,
        gamma < T.gammaCollapse,
        sat > T.saturatedFraction,
        ratio < T.updateRatioMin || ratio > T.updateRatioMax,
        gap > T.driftMeanGap,
      ];
      const values = [nf, dead, gamma, sat, ratio, gap];
      for (let k = 0; k < 6; k++) {
        if (conds[k] && !active[6 * layer + k]) this.raise(out, CONDITIONS[k], layer, seq, values[k]);
        active[6 * layer + k] = conds[k];
      }
      [v[o + gC], v[o + varC], dead].forEach((x, k) => {
        if (!finite(x)) return;
        const i = 3 * layer + k;
        const n = counts[i];
        const mean = means[i];
        const was = jumping[i];
        const jumped =
          n >= WARMUP && (k === 2 ? Math.abs(x - mean) > DEAD_JUMP : mean > 0 && x > 0 && (x > JUMP * mean || x * JUMP < mean));
        if (jumped && !was) this.raise(out, JUMPS[k], layer, seq, x);
        // A spike moves the average at most ~2× (no echo as it passes); a level that stays is followed from its second sample on.
        const toward = k < 2 && n > 0 && mean > 0 && !was ? Math.min(Math.max(x, mean / JUMP), mean * JUMP) : x;
        means[i] = n === 0 ? x : mean + (toward - mean) * EMA_RATE;
        counts[i] = n + 1;
        jumping[i] = jumped;
      });
    }
    return out;
  }

  /** Events of one step's loss; `seq` is the sample the window centres on (the next one written). */
  loss(seq: number, value: number): RaisedEvent[] {
    const out: RaisedEvent[] = [];
    const ok = finite(value);
    if (ok && this.lossStart.length < 3) this.lossStart.push(Math.abs(value));
    const start = [...this.lossStart].sort((a, b) => a - b)[this.lossStart.length >> 1] ?? 0;
    const exploding = ok && start > 0 && Math.abs(value) > start * T.explodingLossGrowth;
    const kind = !ok ? 'non-finite' : exploding ? 'exploding' : null;
    if (kind && kind !== this.lossActive) this.raise(out, kind, null, seq, value);
    this.lossActive = kind;
    if (ok) {
      const n = this.lossSteps;
      if (n === 0) this.lossMean = value;
      else {
        const delta = value - this.lossMean;
        if (n >= LOSS_WARMUP && delta > LOSS_SPIKE * this.lossDev && delta > 0.1 * Math.abs(this.lossMean))
          this.raise(out, 'loss-spike', null, seq, value);
        this.lossMean += delta * LOSS_RATE;
        this.lossDev += (Math.abs(delta) - this.lossDev) * LOSS_RATE;
      }
      this.lossSteps = n + 1;
    }
    return out;
  }
}
