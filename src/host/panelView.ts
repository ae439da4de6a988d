/**
 * What the editor features ask of the training-health panel. src/panel/panelBridge.ts implements it and
 * src/extension.ts hands it to the editor, so src/editor and src/panel never import each other.
 */
import type { PanelMessage } from '../protocol/webview';
import type { FileRun } from './runResults';

export interface PanelView {
  /** Open (or reveal) the panel, showing the latest run of `file` or of any file. */
  show(file?: string, preserveFocus?: boolean): void;
  /** Record a message for replay and deliver it to the open panel, if any. */
  publish(message: PanelMessage): void;
  /** Focus a layer in the panel (tree selection, hover link) and bring the panel to the front. */
  focusLayer(file: string, index: number): void;
  /** Apply a candidate of the comparison the panel shows; false when nothing changed. */
  applyCandidate(norm: string): Promise<boolean>;
  /** Open the layer's source line; false when the layer has no source line (e.g. model.json). */
  revealLayer(run: FileRun | undefined, index: number): Promise<boolean>;
}
