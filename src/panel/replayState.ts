/**
 * What the host remembers for the panel so a freshly loaded webview (first open, or recreated
 * after being hidden — the panel does not retain its context) can be rebuilt through `ready()`:
 * the latest run with all its samples and flags, how it ended, and the latest comparison.
 * Pure (no vscode), so it is unit-tested directly.
 */
import type { CompareMessage, PanelMessage, RunDoneMessage, RunFailedMessage, RunStartedMessage, StepSample } from '../protocol';

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

  get runId(): string | undefined {
    return this.started?.run.runId;
  }

  record(message: PanelMessage): void {
    switch (message.type) {
      case 'run-started':
        this.started = { ...message, samples: [], flags: message.flags ?? [] };
        this.samples = [];
        this.values = 0;
        this.ending = undefined;
        this.addSamples(message.samples ?? []);
        return;
      case 'samples':
        if (message.runId === this.runId) this.addSamples(message.samples);
        return;
      case 'flags':
        if (message.runId === this.runId && this.started) this.started = { ...this.started, flags: message.flags };
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
    const out: PanelMessage[] = [];
    if (this.started) out.push({ ...this.started, samples: this.samples.slice() });
    if (this.ending) out.push(this.ending);
    if (this.comparison) out.push(this.comparison);
    return out;
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
