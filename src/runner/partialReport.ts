/**
 * What the host has heard of a run so far (backend, layer table, samples, findings), so a run ended
 * from outside — cancelled while its code was busy, its worker thread terminated — still gives the
 * report of the steps it streamed.
 */
import type { BackendReport, Finding, LayerInfo, RunReport, StepSample } from '../protocol/run';
import type { StoppedEarly } from '../protocol/vocabulary';
import type { RunEvent } from '../protocol/worker';
import { buildReport } from '../diagnosis/report';

export class RunRecorder {
  private backend: BackendReport | null = null;
  private layers: Extract<RunEvent, { type: 'layers' }> | null = null;
  private readonly samples: StepSample[] = [];
  private findings: Finding[] = [];
  private readonly startedAt = performance.now();

  constructor(private readonly file: string) {}

  record(event: RunEvent): void {
    if (event.type === 'backend') this.backend = event.backend;
    else if (event.type === 'layers') this.layers = event;
    else if (event.type === 'progress') this.samples.push(...event.samples);
    else if (event.type === 'findings') this.findings = event.findings;
  }

  /** The report of the streamed steps, or null when the model was not built yet (nothing to report). */
  partialReport(stoppedEarly: StoppedEarly): RunReport | null {
    if (!this.layers || !this.backend) return null;
    const layers: LayerInfo[] = this.layers.layers;
    return buildReport({
      file: this.layers.file || this.file,
      backend: this.backend,
      steps: this.samples.length,
      batchSize: this.layers.batchSize,
      syntheticData: this.layers.syntheticData,
      loss: this.samples.map((s) => s.loss),
      layers,
      samples: this.samples,
      findings: this.findings,
      instrumentedMs: this.samples.map((s) => s.stepMs),
      plainMs: [],
      totalMs: performance.now() - this.startedAt,
      stoppedEarly,
      evalLoss: null,
    });
  }
}
