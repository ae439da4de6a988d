/**
 * What the host remembers for the panel so a freshly loaded webview (first open, or recreated
 * after being hidden — the panel does not retain its context) can be rebuilt through `ready()`:
 * the latest run with all its samples and findings, how it ended, and the latest comparison.
 * Pure (no vscode), so it is unit-tested directly.
 */
import type {
  CompareMessage,
  CompareResult,
  PanelMessage,
  RunDoneMessage,
  RunFailedMessage,
  RunStartedMessage,
  StepSample,
} from '../protocol';

/** Stored sample values beyond which older samples are thinned (≈ 64 MB of doubles). */
export const DEFAULT_REPLAY_MAX_VALUES = 8_000_000;

export class PanelReplayState {
  private started: RunStartedMessage | undefined;
  private samples: StepSample[] = [];
  private values = 0;
  private ending: RunDoneMessage | RunFailedMessage | undefined;
  private comparison: CompareMessage | undefined;
  /** How often old samples were halved to respect the memory cap. */
  thinned = 0;

  constructor(private readonly maxValues = DEFAULT_REPLAY_MAX_VALUES) {}

  /** The run the panel shows (the latest `run-started`). */
  get runId(): string | undefined {
    return this.started?.run.runId;
  }

  /** The comparison the panel shows, whose candidates "Apply" writes to the source. */
  get compareResult(): CompareResult | undefined {
    return this.comparison?.result;
  }

  record(message: PanelMessage): void {
    switch (message.type) {
      case 'run-started':
        this.started = { ...message, samples: [], findings: message.findings ?? [] };
        this.samples = [];
        this.values = 0;
        this.ending = undefined;
        this.addSamples(message.samples ?? []);
        return;
      case 'samples':
        if (message.runId === this.runId) this.addSamples(message.samples);
        return;
      case 'findings':
        if (message.runId === this.runId && this.started) this.started = { ...this.started, findings: message.findings };
        return;
      case 'run-done':
      case 'run-failed':
        if (message.runId === this.runId) this.ending = message;
        return;
      case 'compare':
        this.comparison = message;
        return;
      case 'focus-layer':
        return; // a one-shot action, not state
    }
  }

  /** Messages that rebuild the panel, in the order to apply them. */
  messages(): PanelMessage[] {
    const { initial, follow } = this.replay(Infinity);
    return [...initial, ...follow];
  }

  /**
   * The rebuild split for transport: `initial` is the answer to `ready()` (the run with its first
   * samples, and the comparison), `follow` are sent next as ordinary messages (the other samples in
   * chunks of about `chunkValues` numbers, then how the run ended), so no single message is huge.
   */
  replay(chunkValues: number): { initial: PanelMessage[]; follow: PanelMessage[] } {
    const initial: PanelMessage[] = [];
    const follow: PanelMessage[] = [];
    if (this.started) {
      const chunks = chunk(this.samples, chunkValues);
      initial.push({ ...this.started, samples: chunks[0] ?? [] });
      for (const samples of chunks.slice(1)) follow.push({ type: 'samples', runId: this.started.run.runId, samples });
      if (this.ending) follow.push(this.ending);
    }
    if (this.comparison) initial.push(this.comparison);
    return { initial, follow };
  }

  /** Number of samples kept for the current run. */
  get sampleCount(): number {
    return this.samples.length;
  }

  private addSamples(samples: StepSample[]): void {
    for (const sample of samples) {
      this.samples.push(sample);
      this.values += sample.values?.length ?? 0;
    }
    while (this.values > this.maxValues && this.samples.length >= 4) this.thin();
  }

  /** Keep every other sample (and always the newest): halves memory, charts keep their shape. */
  private thin(): void {
    const last = this.samples[this.samples.length - 1];
    const kept = this.samples.filter((_, i) => i % 2 === 0);
    if (kept[kept.length - 1] !== last) kept.push(last);
    this.samples = kept;
    this.values = kept.reduce((sum, s) => sum + (s.values?.length ?? 0), 0);
    this.thinned++;
  }
}

/** Split samples into runs of about `maxValues` numbers each (at least one sample per chunk). */
function chunk(samples: StepSample[], maxValues: number): StepSample[][] {
  const out: StepSample[][] = [];
  let current: StepSample[] = [];
  let values = 0;
  for (const s of samples) {
    const size = s.values?.length ?? 0;
    if (current.length > 0 && values + size > maxValues) {
      out.push(current);
      current = [];
      values = 0;
    }
    current.push(s);
    values += size;
  }
  if (current.length > 0) out.push(current);
  return out;
}
