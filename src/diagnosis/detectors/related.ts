/**
 * Where else an activation's finding belongs: on the line of the layer that feeds it (LayerInfo.fedBy). A dead
 * ReLU is dead because the outputs of the Linear or Conv before it are all negative — in tfjs the activation is part
 * of that layer and its line; in PyTorch (`nn.ReLU()` or `F.relu` in forward) it is a line of its own, so the
 * finding is shown on both, naming both.
 */
import type { Finding, LayerInfo } from '../../protocol/run';
import type { RunStats } from './series';

/** The layer that feeds `layer`, when the run knows it and it has a place in the code. */
export function feeder(rs: RunStats, layer: LayerInfo): LayerInfo | undefined {
  if (!layer.fedBy) return undefined;
  const found = rs.layers.find((l) => l.name === layer.fedBy);
  return found?.source ? found : undefined;
}

/** `{ related }` placing a finding about `layer` on its feeding layer's line too, with `why` there; else nothing. */
export function onFeeder(rs: RunStats, layer: LayerInfo, why: (feeding: LayerInfo) => string): Pick<Finding, 'related'> {
  const feeding = feeder(rs, layer);
  return feeding ? { related: [{ layer: feeding.name, source: feeding.source, message: why(feeding) }] } : {};
}
