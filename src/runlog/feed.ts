/**
 * A followed run log as the events of a check run (src/protocol/worker `RunEvent`), so the editor's results, hovers,
 * diagnostics and the training-health panel take a user's own run exactly as they take a check: the layer table,
 * then the samples as they are appended, the findings as they change, the report at the end record.
 *
 * Bounded for long, wide runs (500 layers × 100,000 steps): a (re)start sends at most `maxValues` numbers, the
 * newest samples whole and the older ones evenly thinned (the panel draws a few hundred points per line anyway);
 * later samples are appended as they come (the panel and the host thin their own copies past their caps).
 */
import type { Finding, LayerInfo, RunReport, StepSample } from '../protocol';
import type { LayersEvent, ProgressEvent, RunEvent } from '../protocol/worker';
import type { LogSample } from './format';
import { mapSources } from './read';
import { runLogFindings, runLogReport } from './report';
import type { RunLog } from './scan';

/** Numbers a (re)start sends at most: 2M ≈ 170 samples of 500 layers, the whole log of a small model. */
export const FEED_MAX_VALUES = 2_000_000;
const CHUNK_VALUES = 200_000;

/** A sample as the panel takes it: plain numbers, rows padded with NaN to the whole layer table. */
export function toStepSample(sample: LogSample, width: number): StepSample {
  const values = Array.from(sample.values);
  for (let i = values.length; i < width; i++) values.push(NaN);
  return { step: sample.step, loss: sample.loss, stepMs: sample.stepMs, values };
}

/**
 * At most `maxValues` numbers of `samples` (each `width` numbers): the newest half of the budget whole, the older
 * samples at an even stride, always the first (the baseline) and the newest.
 */
export function pickSamples<T>(samples: readonly T[], width: number, maxValues: number): T[] {
  const fit = Math.max(2, Math.floor(maxValues / Math.max(1, width)));
  if (samples.length <= fit) return [...samples];
  const recent = Math.floor(fit / 2);
  const older = samples.length - recent;
  const stride = Math.ceil(older / (fit - recent));
  const out: T[] = [];
  for (let i = 0; i < older; i += stride) out.push(samples[i]);
  for (let i = older; i < samples.length; i++) out.push(samples[i]);
  return out;
}

/** Keep every other older sample until `samples` hold at most `maxValues` numbers (in place; the newest stays). */
export function thinInPlace(samples: StepSample[], maxValues: number): void {
  const size = (s: StepSample) => s.values.length;
  let total = samples.reduce((sum, s) => sum + size(s), 0);
  while (total > maxValues && samples.length >= 4) {
    const last = samples[samples.length - 1];
    const kept = samples.filter((_, i) => i % 2 === 0);
    if (kept[kept.length - 1] !== last) kept.push(last);
    samples.splice(0, samples.length, ...kept);
    total = samples.reduce((sum, s) => sum + size(s), 0);
  }
}

/** Translates one followed log into run events; a new layer table restarts the run under a new id. */
export class RunLogFeed {
  private generation = 0;
  private lastSeq = -1;
  private layerCount = -1;
  private findingsKey = '[]';
  runId = '';

  constructor(
    private readonly id: string,
    /** The run's file as the editor knows it (its script on this machine, or its folder). */
    readonly file: string,
    private readonly maxValues = FEED_MAX_VALUES,
  ) {}

  /** Whether the next `update` restarts (nothing sent yet, or layers joined the table). */
  needsStart(log: RunLog): boolean {
    return this.layerCount !== log.layers.length;
  }

  /**
   * The events that bring a listener up to `log`: a restart (layer table and a bounded pick of the kept samples)
   * when the table changed, else the samples appended since the last call. `layers` are the log's, mapped here.
   */
  update(log: RunLog, layers: LayerInfo[], steps: number): RunEvent[] {
    const width = layers.length * log.statNames.length;
    if (this.needsStart(log)) {
      this.runId = `${this.id}#${++this.generation}`;
      this.layerCount = log.layers.length;
      this.findingsKey = '[]';
      const picked = pickSamples(log.samples, width, this.maxValues);
      this.lastSeq = log.samples.length ? log.samples[log.samples.length - 1].seq : -1;
      const start: LayersEvent = {
        type: 'layers',
        runId: this.runId,
        file: this.file,
        layers,
        statNames: log.statNames,
        steps,
        batchSize: typeof log.meta.batchSize === 'number' ? log.meta.batchSize : 0,
        syntheticData: false,
        followed: log.dir,
      };
      const events: RunEvent[] = [start];
      // In messages of about CHUNK_VALUES numbers, so no single message to the panel is huge.
      const perMessage = Math.max(1, Math.floor(CHUNK_VALUES / Math.max(1, width)));
      for (let i = 0; i < picked.length; i += perMessage)
        events.push({ type: 'progress', runId: this.runId, samples: picked.slice(i, i + perMessage).map((s) => toStepSample(s, width)) });
      return events;
    }
    const fresh = log.samples.filter((s) => s.seq > this.lastSeq);
    if (fresh.length === 0) return [];
    this.lastSeq = fresh[fresh.length - 1].seq;
    const progress: ProgressEvent = { type: 'progress', runId: this.runId, samples: fresh.map((s) => toStepSample(s, width)) };
    return [progress];
  }

  /** A `findings` event when they differ from the last ones sent, else null. */
  findings(findings: Finding[]): RunEvent | null {
    const key = findings.length
      ? JSON.stringify(findings.map((f) => [f.kind, f.layer, f.step, f.source?.file, f.source?.line, f.message]))
      : '[]';
    if (key === this.findingsKey) return null;
    this.findingsKey = key;
    return { type: 'findings', runId: this.runId, findings };
  }
}

/**
 * The run's report for the panel at its end record: its series over at most `maxValues` numbers of samples (a
 * 500-layer log's every kept sample would be a message of hundreds of MB), its findings from every kept sample.
 */
export function boundedReport(log: RunLog, root: string, maxValues = FEED_MAX_VALUES): RunReport {
  const picked = pickSamples(log.samples, log.layers.length * log.statNames.length, maxValues);
  if (picked.length === log.samples.length) return runLogReport(log, { root });
  const report = runLogReport({ ...log, samples: picked }, { root });
  report.findings = runLogFindings(log, mapSources(log, root));
  report.backendNotes.push(
    `the panel's series show ${picked.length} of the ${log.samples.length} kept samples; \`normscope report ${log.dir} --json\` has them all`,
  );
  return report;
}
