/**
 * Everything the panel knows about the current run, stored by column (one Float64Array per
 * statistic, layer-major) so a chart reads a layer's series as a zero-copy view.
 * Values arrive over JSON, so missing numbers come as null; they are stored as NaN.
 */
import type { Finding, PanelRun, RunError, RunReport, StatName, StepSample } from '../src/protocol';
import { emptyRange, includeValue, type ValueRange } from './valueRange';

/** Stored values beyond which old samples are thinned (8M doubles ≈ 64 MB). */
export const DEFAULT_MAX_VALUES = 8_000_000;

const toNumber = (v: unknown): number => (typeof v === 'number' ? v : Number.NaN);

export class RunStore {
  readonly layerCount: number;
  readonly statCount: number;
  /** Number of stored samples. */
  size = 0;
  /** Bumped on every change; views redraw when it differs from what they last drew. */
  version = 0;
  /** How many times old samples were halved to stay under the memory cap. */
  thinned = 0;
  /** Bumped when stored samples change other than by appending (thinning, a late sample inserted). */
  rewrites = 0;
  findings: Finding[] = [];
  report: RunReport | undefined;
  error: RunError | undefined;
  steps: Float64Array = new Float64Array(0);
  loss: Float64Array = new Float64Array(0);
  stepMs: Float64Array = new Float64Array(0);
  private capacity = 0;
  private columns: Float64Array[];
  /** Per statistic, over all layers and samples ever added (kept incrementally; thinning may leave it wider). */
  private ranges: ValueRange[];
  private readonly statIndexes = new Map<StatName, number>();

  constructor(
    readonly run: PanelRun,
    private readonly maxValues = DEFAULT_MAX_VALUES,
  ) {
    if (!Array.isArray(run.layers) || !Array.isArray(run.statNames)) {
      throw new Error(`NormScope panel: run ${run.runId} has no layer table or statistic names`);
    }
    this.layerCount = run.layers.length;
    this.statCount = run.statNames.length;
    run.statNames.forEach((s, i) => this.statIndexes.set(s, i));
    this.columns = run.statNames.map(() => new Float64Array(0));
    this.ranges = run.statNames.map(() => emptyRange());
    this.grow(64);
  }

  /** Column of a statistic in `StepSample.values` rows, or -1 when the run did not measure it. */
  statIndex(stat: StatName): number {
    return this.statIndexes.get(stat) ?? -1;
  }

  /** The stored series of one statistic for one layer (a view; do not keep across `add`). */
  series(stat: StatName, layer: number): Float64Array {
    const s = this.statIndex(stat);
    if (s < 0 || layer < 0 || layer >= this.layerCount) return new Float64Array(0);
    const start = layer * this.capacity;
    return this.columns[s].subarray(start, start + this.size);
  }

  /** Range of a statistic over every layer (for axis bounds and log/linear choice). */
  range(stat: StatName): ValueRange {
    const s = this.statIndex(stat);
    return s < 0 ? emptyRange() : this.ranges[s];
  }

  /**
   * Where the step axis ends: the run's length; for a followed run (its length unknown) a round number ≥ 10 % past the
   * newest step, so the axis — and every line already drawn against it — stays put for many polls rather than moving
   * with each new step (a moved axis redraws all lines: 500 layers' worth).
   */
  get axisEnd(): number {
    if (!this.run.followed) return this.run.steps;
    return niceCeil(Math.max(10, (this.size > 0 ? this.steps[this.size - 1] : 0) * 1.1));
  }

  /** Newest finite value of a statistic for a layer, or NaN. */
  latest(stat: StatName, layer: number): number {
    const values = this.series(stat, layer);
    for (let i = values.length - 1; i >= 0; i--) if (Number.isFinite(values[i])) return values[i];
    return Number.NaN;
  }

  /**
   * Add samples. They normally arrive in step order and are appended; a late one is inserted in
   * place (bumping `rewrites`), and a step already stored is skipped (replays overlap).
   */
  add(samples: StepSample[]): number {
    const rowLength = this.layerCount * this.statCount;
    let added = 0;
    for (const sample of samples) {
      if (!sample || !Array.isArray(sample.values) || sample.values.length !== rowLength) {
        throw new Error(
          `NormScope panel: sample for step ${sample?.step} of run ${this.run.runId} has ` +
            `${Array.isArray(sample?.values) ? sample.values.length : 'no'} values, expected ${rowLength} ` +
            `(${this.layerCount} layers × ${this.statCount} statistics)`,
        );
      }
      if (this.insert(sample, rowLength)) added++;
    }
    if (added > 0) this.version++;
    return added;
  }

  private insert(sample: StepSample, rowLength: number): boolean {
    if ((this.size + 1) * rowLength > this.maxValues && this.size >= 4) this.thin();
    const i = this.size === 0 || sample.step > this.steps[this.size - 1] ? this.size : this.insertionIndex(sample.step);
    if (i < 0) return false;
    if (this.size === this.capacity) this.grow(this.capacity * 2);
    if (i < this.size) this.openGap(i);
    this.steps[i] = sample.step;
    this.loss[i] = toNumber(sample.loss);
    this.stepMs[i] = toNumber(sample.stepMs);
    const values = sample.values as unknown[];
    for (let layer = 0; layer < this.layerCount; layer++) {
      const rowStart = layer * this.statCount;
      const colStart = layer * this.capacity + i;
      for (let s = 0; s < this.statCount; s++) {
        const v = toNumber(values[rowStart + s]);
        this.columns[s][colStart] = v;
        includeValue(this.ranges[s], v);
      }
    }
    this.size++;
    return true;
  }

  /** Where a step belongs among the stored ones, or -1 when it is already stored. */
  private insertionIndex(step: number): number {
    let lo = 0;
    let hi = this.size;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.steps[mid] < step) lo = mid + 1;
      else hi = mid;
    }
    return lo < this.size && this.steps[lo] === step ? -1 : lo;
  }

  /** Shift samples i.. one place right (capacity is available). */
  private openGap(i: number): void {
    for (const arr of [this.steps, this.loss, this.stepMs]) arr.copyWithin(i + 1, i, this.size);
    for (const column of this.columns) {
      for (let layer = 0; layer < this.layerCount; layer++) {
        const start = layer * this.capacity;
        column.copyWithin(start + i + 1, start + i, start + this.size);
      }
    }
    this.rewrites++;
  }

  setFindings(findings: Finding[]): void {
    this.findings = Array.isArray(findings) ? findings : [];
    this.version++;
  }

  setReport(report: RunReport): void {
    this.report = report;
    if (Array.isArray(report.findings)) this.findings = report.findings;
    this.version++;
  }

  setError(error: RunError): void {
    this.error = error;
    this.version++;
  }

  /** Findings of one layer (matched by name, as `Finding.layer` names it). */
  findingsOf(layer: number): Finding[] {
    const name = this.run.layers[layer]?.name;
    return this.findings.filter((f) => f.layer !== null && f.layer === name);
  }

  private grow(capacity: number): void {
    const copy = (from: Float64Array): Float64Array => {
      const to = new Float64Array(capacity).fill(Number.NaN);
      to.set(from.subarray(0, this.size));
      return to;
    };
    this.steps = copy(this.steps);
    this.loss = copy(this.loss);
    this.stepMs = copy(this.stepMs);
    this.columns = this.columns.map((old) => {
      const next = new Float64Array(this.layerCount * capacity).fill(Number.NaN);
      for (let layer = 0; layer < this.layerCount; layer++) {
        next.set(old.subarray(layer * this.capacity, layer * this.capacity + this.size), layer * capacity);
      }
      return next;
    });
    this.capacity = capacity;
  }

  /** Drop every other sample except the newest, halving memory; charts then show every 2nd step. */
  private thin(): void {
    const keep: number[] = [];
    for (let i = 0; i < this.size - 1; i += 2) keep.push(i);
    keep.push(this.size - 1);
    const compact = (arr: Float64Array, offset: number): void => {
      keep.forEach((from, to) => {
        arr[offset + to] = arr[offset + from];
      });
    };
    compact(this.steps, 0);
    compact(this.loss, 0);
    compact(this.stepMs, 0);
    for (const column of this.columns) {
      for (let layer = 0; layer < this.layerCount; layer++) compact(column, layer * this.capacity);
    }
    this.size = keep.length;
    this.thinned++;
    this.rewrites++;
  }
}

/** The smallest of 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10^k that is ≥ v. */
export function niceCeil(v: number): number {
  const scale = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) {
    const end = scale >= 1 ? Math.round(m * scale) : m * scale; // 1.2 × 1e5 is 120000.00000000001
    if (end >= v) return end;
  }
  return 10 * scale;
}
