/** Layers (`LayerInfo`) and runs as the panel knows them (`PanelRun`), for the tests of src/editor, src/panel and webview/. */
import type { LayerInfo, PanelRun } from '../../src/protocol';

/** A Dense layer without a source line; override any field. */
export function layerInfo(index: number, name = `l${index}`, overrides: Partial<LayerInfo> = {}): LayerInfo {
  return { index, name, className: 'Dense', outputShape: [null, 2], paramCount: 1, isNorm: false, source: null, ...overrides };
}

/** A run of Dense layers (`l0`, `l1`, … for a count, else the given names) measuring mean and gradNorm; override any field. */
export function panelRun(layers: number | readonly string[], overrides: Partial<PanelRun> = {}): PanelRun {
  const names = typeof layers === 'number' ? Array.from({ length: layers }, (_, i) => `l${i}`) : layers;
  return {
    runId: 'run',
    file: 'model.ts',
    steps: 100,
    batchSize: 8,
    syntheticData: false,
    statNames: ['mean', 'gradNorm'],
    layers: names.map((name, i) => layerInfo(i, name)),
    ...overrides,
  };
}
