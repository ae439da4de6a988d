/**
 * Host ↔ training-worker protocol. The worker is a forked Node process (src/worker/main.ts);
 * the host is the extension or the CLI (src/runner). Requests go through birpc (ids, error
 * replies, timeouts); everything the worker streams back is one `WorkerEvent` union.
 */
import type { RunError } from './errors';
import type { BackendReport, Finding, LayerInfo, RunOptions, RunReport, StatName, StepSample } from './run';
import type { LogLevel } from './vocabulary';

/** How long a request (not a run) may take before it rejects. */
export const WORKER_REQUEST_TIMEOUT_MS = 15_000;

/** Functions the worker implements; the host calls them. */
export interface WorkerFunctions {
  /**
   * Accept a run and start it in the background. Progress and the result arrive as events. `prepared` is
   * the model file compiled by the host, for a worker under Node's permission model (no esbuild there).
   */
  start(options: RunOptions, prepared?: PreparedModule): Promise<{ runId: string }>;
  /** Stop a run at the next step boundary; a `done` event with `stoppedEarly` follows. */
  cancel(runId: string): Promise<{ cancelled: boolean }>;
  /** Liveness and leak check: engine tensor count and process memory. */
  ping(): Promise<{ pid: number; numTensors: number; rssMB: number }>;
}

/** A model module compiled to one CommonJS bundle (src/userCode/compile.ts). */
export interface PreparedModule {
  file: string;
  code: string;
  map: string;
  /** The file name the code runs under (labels stack frames; anchors the map's relative sources). */
  bundleFile: string;
}

/** Functions the host implements; the worker calls them (fire-and-forget events). */
export interface HostFunctions {
  event(event: WorkerEvent): void;
}

/** The backend that ran and why others were skipped. First event of a run. */
export interface BackendEvent {
  type: 'backend';
  runId: string;
  backend: BackendReport;
}
/** What a run is, as its layer table announces it: the shape of every sample that follows. */
export interface RunLayout {
  runId: string;
  file: string;
  layers: LayerInfo[];
  statNames: readonly StatName[];
  steps: number;
  batchSize: number;
  syntheticData: boolean;
  /**
   * Set for a user's own run followed from its run log (docs/follow.md): the log's folder. Its length is not known
   * ahead, so the panel says which step it is at rather than "of N".
   */
  followed?: string;
}
/** The layer table, sent once after the model is built and before training. */
export interface LayersEvent extends RunLayout {
  type: 'layers';
}
/** Measurements of one or more steps, batched so that a fast run sends few messages. */
export interface ProgressEvent {
  type: 'progress';
  runId: string;
  samples: StepSample[];
}
/** Findings raised so far (replaces the previous list). */
export interface FindingsEvent {
  type: 'findings';
  runId: string;
  findings: Finding[];
}
/** The run finished (or stopped early); the full report. */
export interface DoneEvent {
  type: 'done';
  runId: string;
  report: RunReport;
}
/** The run failed; the worker stays usable. */
export interface ErrorEvent {
  type: 'error';
  runId: string;
  error: RunError;
}
/** A line for the log channel. */
export interface LogEvent {
  type: 'log';
  level: LogLevel;
  message: string;
}

export type WorkerEvent = BackendEvent | LayersEvent | ProgressEvent | FindingsEvent | DoneEvent | ErrorEvent | LogEvent;
/** Events that belong to one run. */
export type RunEvent = Exclude<WorkerEvent, LogEvent>;
