/**
 * What NormScope knows about each file's latest run, fed by worker events. Pure (no vscode import) so the
 * hover, diagnostics, tree and panel glue share one source of truth and it can be unit-tested.
 * A new run of a file replaces its previous results; runs of different files are kept apart.
 */
import type { RunError } from '../protocol/errors';
import type { Finding, LayerInfo, RunReport, StatName, StepSample } from '../protocol/run';
import type { PanelRun } from '../protocol/webview';
import type { RunEvent } from '../protocol/worker';

export type RunStatus = 'starting' | 'running' | 'done' | 'failed' | 'cancelled';

/** A run as the panel knows it, plus its status and everything streamed so far. */
export interface FileRun extends PanelRun {
  status: RunStatus;
  samples: StepSample[];
  findings: Finding[];
  report?: RunReport;
  error?: RunError;
}

/** The latest value of every statistic of one layer, and its recent trend. */
export interface LayerSnapshot {
  layer: LayerInfo;
  latest: Partial<Record<StatName, number>>;
  step: number | null;
  series(stat: StatName): number[];
  /** Internal covariate shift over the probed steps, when the run had the landscape instrument on. */
  ics?: { steps: number[]; distance: number[]; cosine: number[] };
}

/** The layer's ‖G − G′‖ and cos(G, G′) series from a report's landscape samples (NaN where missing). */
export function icsSeries(report: RunReport | undefined, layerIndex: number): LayerSnapshot['ics'] {
  const samples = report?.landscape?.samples.filter((s) => s.ics?.some((v) => v.layer === layerIndex)) ?? [];
  if (samples.length === 0) return undefined;
  const at = samples.map((s) => s.ics!.find((v) => v.layer === layerIndex)!);
  return { steps: samples.map((s) => s.step), distance: at.map((v) => v.distance ?? NaN), cosine: at.map((v) => v.cosine ?? NaN) };
}

export class RunResults {
  private readonly runs = new Map<string, FileRun>();
  private readonly listeners = new Set<(file: string) => void>();

  /** Called with the file whose results changed. Returns the unsubscribe function. */
  onDidChange(listener: (file: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get(file: string): FileRun | undefined {
    return this.runs.get(file);
  }

  all(): FileRun[] {
    return [...this.runs.values()];
  }

  /** A run of `file` begins: its previous results are replaced. */
  begin(runId: string, file: string): FileRun {
    const run: FileRun = {
      runId,
      file,
      status: 'starting',
      layers: [],
      statNames: [],
      steps: 0,
      batchSize: 0,
      syntheticData: false,
      samples: [],
      findings: [],
    };
    this.runs.set(file, run);
    this.emit(file);
    return run;
  }

  /** Apply one worker event; events of a run that has since been replaced are ignored. */
  apply(event: RunEvent): FileRun | undefined {
    const run = this.findRun(event.runId);
    if (!run) return undefined;
    switch (event.type) {
      case 'backend':
        run.backend = event.backend;
        break;
      case 'layers':
        Object.assign(run, {
          status: 'running',
          layers: event.layers,
          statNames: event.statNames,
          steps: event.steps,
          batchSize: event.batchSize,
          syntheticData: event.syntheticData,
        });
        break;
      case 'progress':
        run.samples.push(...event.samples);
        break;
      case 'findings':
        run.findings = event.findings;
        break;
      case 'done':
        run.report = event.report;
        run.findings = event.report.findings;
        run.status = event.report.stoppedEarly === 'cancelled' ? 'cancelled' : 'done';
        break;
      case 'error':
        run.error = event.error;
        run.status = 'failed';
        break;
    }
    this.emit(run.file);
    return run;
  }

  /** Mark a run failed from the host side (worker crash, time limit) unless it already ended. */
  fail(runId: string, error: RunError): void {
    const run = this.findRun(runId);
    if (!run || run.status === 'done' || run.status === 'failed' || run.status === 'cancelled') return;
    run.error = error;
    run.status = error.code === 'cancelled' ? 'cancelled' : 'failed';
    this.emit(run.file);
  }

  clear(file: string): void {
    if (this.runs.delete(file)) this.emit(file);
  }

  /** Latest stats of every layer created at `line` of `file` (a loop creates several). */
  layersAtLine(file: string, line: number): LayerSnapshot[] {
    const run = this.runAtLine(file, line);
    if (!run) return [];
    return run.layers.filter((l) => l.source?.file === file && l.source.line === line).map((l) => snapshot(run, l));
  }

  /**
   * The run that measured layers created at `line` of `file`: the file's own run, else the latest run of
   * another file (a training script) whose layers were built there.
   */
  runAtLine(file: string, line: number): FileRun | undefined {
    const at = (run: FileRun) => run.layers.some((l) => l.source?.file === file && l.source.line === line);
    const own = this.runs.get(file);
    if (own && at(own)) return own;
    return [...this.runs.values()].reverse().find((run) => run.file !== file && at(run)) ?? own;
  }

  snapshot(file: string, layerIndex: number): LayerSnapshot | undefined {
    const run = this.runs.get(file);
    const layer = run?.layers[layerIndex];
    return run && layer ? snapshot(run, layer) : undefined;
  }

  private findRun(runId: string): FileRun | undefined {
    for (const run of this.runs.values()) if (run.runId === runId) return run;
    return undefined;
  }

  private emit(file: string): void {
    for (const l of this.listeners) l(file);
  }
}

function statValue(run: FileRun, sample: StepSample, layerIndex: number, stat: StatName): number {
  const col = run.statNames.indexOf(stat);
  const v = col < 0 ? NaN : sample.values[layerIndex * run.statNames.length + col];
  return typeof v === 'number' ? v : NaN;
}

function snapshot(run: FileRun, layer: LayerInfo): LayerSnapshot {
  const last = run.samples[run.samples.length - 1];
  const latest: Partial<Record<StatName, number>> = {};
  if (last) {
    for (const stat of run.statNames) {
      const v = statValue(run, last, layer.index, stat);
      if (Number.isFinite(v) || (stat === 'nonFinite' && !Number.isNaN(v))) latest[stat] = v;
    }
  }
  return {
    layer,
    latest,
    step: last?.step ?? null,
    series: (stat) => run.samples.map((s) => statValue(run, s, layer.index, stat)),
    ics: icsSeries(run.report, layer.index),
  };
}
