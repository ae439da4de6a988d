/**
 * Host ↔ webview (training-health panel) protocol, over `webview.postMessage` with birpc.
 * Messages cross a JSON boundary: NaN arrives as null.
 */
import type { RunError } from './errors';
import type { BackendReport, Finding, RunReport, StepSample } from './run';
import type { LandscapeReport } from './landscape';
import type { ExportKind, NormKind, StoppedEarly } from './vocabulary';
import type { RunLayout } from './worker';

export const PANEL_REQUEST_TIMEOUT_MS = 10_000;

/** A run as the panel knows it: its layout and the backend that ran it. */
export interface PanelRun extends RunLayout {
  backend?: BackendReport;
}

/** A run started: reset the charts to these layers. */
export interface RunStartedMessage {
  type: 'run-started';
  run: PanelRun;
  samples: StepSample[];
  findings: Finding[];
}
/** New measurements for the current run. */
export interface SamplesMessage {
  type: 'samples';
  runId: string;
  samples: StepSample[];
}
/** The current list of findings for a run. */
export interface FindingsMessage {
  type: 'findings';
  runId: string;
  findings: Finding[];
}
/** The run ended; the report is what `normscope check --json` prints. */
export interface RunDoneMessage {
  type: 'run-done';
  runId: string;
  report: RunReport;
}
/** The run failed. */
export interface RunFailedMessage {
  type: 'run-failed';
  runId: string;
  error: RunError;
}
/** Show one layer's detail (selected in the tree view or from a hover link). */
export interface FocusLayerMessage {
  type: 'focus-layer';
  runId: string;
  layerIndex: number;
}
/** Loss and grad-norm curves of a what-if comparison. */
export interface CompareMessage {
  type: 'compare';
  result: CompareResult;
}

export type PanelMessage =
  RunStartedMessage | SamplesMessage | FindingsMessage | RunDoneMessage | RunFailedMessage | FocusLayerMessage | CompareMessage;

/** One candidate of a what-if comparison. */
export interface CompareCandidate {
  norm: NormKind;
  /** The normalization the file has now (the baseline the others are compared with). */
  original?: boolean;
  /**
   * Loss of the trained candidate in inference mode on a batch it did not train on (RunReport.evalLoss):
   * what the model will do when used, so BatchNorm's train/inference gap counts against it.
   */
  finalLoss: number | null;
  /** Mean training loss over the last quarter of the run. */
  trainLoss?: number | null;
  loss: (number | null)[];
  gradNorm: (number | null)[];
  findings: Finding[];
  /** Why the candidate's run ended early (e.g. a non-finite loss), if it did. */
  stoppedEarly?: StoppedEarly;
  error?: string;
  /** Loss-landscape measurements of the candidate's run, when the instrument was on. */
  landscape?: LandscapeReport;
}
export interface CompareResult {
  file: string;
  line: number;
  candidates: CompareCandidate[];
  /** Why the comparison stopped at its first candidate: the line builds no norm layer of the model (`no-norm-at-line`). */
  stopped?: string;
  /** Learning-rate sensitivity, when a sweep was asked for (src/runner/lrSweep.ts). */
  sweep?: LrSweep;
}

/** One norm × learning-rate run of a sweep. */
export interface LrSweepCell {
  variant: string;
  learningRate: number;
  /** Inference-mode loss on an unseen batch after training (null when the run failed or stopped early). */
  evalLoss: number | null;
  /** Training loss at the first step: where the run started. */
  startLoss: number | null;
  stoppedEarly?: StoppedEarly;
  error?: string;
}
/** The widest run of neighbouring rates at which a variant reached a good loss. */
export interface LrTolerance {
  variant: string;
  goodRates: number;
  low: number | null;
  high: number | null;
}
export interface LrSweep {
  learningRates: number[];
  cells: LrSweepCell[];
  /** A loss at or below this is good: best cell + half the gap from the starting loss to it. */
  goodLoss: number | null;
  tolerance: LrTolerance[];
  /** The variant tolerating the widest range, or null when none reached a good loss. */
  best: string | null;
  message: string;
}

/** Functions the webview implements; the host calls them. */
export interface PanelFunctions {
  /** Deliver one message (fire-and-forget). */
  receive(message: PanelMessage): void;
  /**
   * Produce an export exactly as the panel's buttons do (PNG as a data URL, CSV, or the JSON report),
   * so the host can write it without a save dialog (tests). `chartId` names the chart for 'png'.
   * Resolves null when there is nothing to export yet.
   */
  exportData(kind: ExportKind, chartId?: string): Promise<{ suggestedName: string; data: string } | null>;
}

/** Functions the host implements; the webview calls them. */
export interface PanelHostFunctions {
  /** The webview loaded; the host answers with what to show (the latest run, if any). */
  ready(): Promise<PanelMessage[]>;
  /** Open the layer's source line in the editor. Resolves false when the layer has no source. */
  revealLayer(runId: string, layerIndex: number): Promise<boolean>;
  /** Ask the user where to save an export; resolves with the path written, or null if cancelled. */
  saveExport(kind: ExportKind, suggestedName: string, data: string): Promise<string | null>;
  /** Apply the chosen candidate of a comparison to the source. */
  applyCandidate(norm: NormKind): Promise<boolean>;
}
