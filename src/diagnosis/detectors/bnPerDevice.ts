/**
 * `bn-per-device-batch`: BatchNorm trained under DistributedDataParallel with fewer than 16 examples per device and no
 * SyncBatchNorm. DDP runs a replica per process and BatchNorm normalizes each process's batch on its own, so its mean
 * and variance come from the per-device batch, not the global one: 8 GPUs × 4 examples is batch 32 to the optimizer
 * and batch 4 to every BatchNorm. Wu & He (2018, Group Normalization, Fig. 1 and the seeds' group-normalization
 * summary): BN's error grows quickly as that batch shrinks below 16; GroupNorm's does not (per-example statistics over
 * groups of channels). Raised only from a distributed run log (the watcher records worldSize and the per-device batch),
 * and only for BatchNorms that normalized batches in training (a frozen BN in eval mode uses its moving statistics).
 */
import type { Finding } from '../../protocol/run';
import { layerFinding, type RunStats } from './series';

/** Wu & He 2018: BN's error rises sharply below this batch size. */
const SMALL_BATCH = 16;

export function detectBnPerDeviceBatch(rs: RunStats): Finding[] {
  const { layers, batchSize, distributed } = rs.input;
  if (!distributed || distributed.worldSize < 2 || !(batchSize > 0) || batchSize >= SMALL_BATCH) return [];
  const synced = new Set(distributed.syncBatchNorm);
  const out: Finding[] = [];
  for (const layer of layers) {
    if (layer.className !== 'BatchNormalization' || synced.has(layer.name)) continue;
    const first = rs.samples.findIndex((_, i) => Number.isFinite(rs.value(i, layer.index, 'movingMeanGap')));
    if (first < 0) continue; // never normalized a batch in training mode
    const w = distributed.worldSize;
    out.push(
      layerFinding(layer, {
        kind: 'bn-per-device-batch',
        severity: batchSize <= 2 ? 'error' : 'warning',
        step: rs.samples[first].step,
        message:
          `Under DistributedDataParallel each of the ${w} processes normalizes its own batch: this BatchNorm's mean and variance ` +
          `come from ${batchSize} examples, not the ${w * batchSize} the optimizer sees. BatchNorm's error grows as the per-device ` +
          `batch shrinks (sharply below ${SMALL_BATCH}, Wu & He 2018); GroupNorm's does not, as it normalizes each example on its own.`,
        fix:
          'Compute the statistics over every device with SyncBatchNorm: `model = nn.SyncBatchNorm.convert_sync_batchnorm(model)` ' +
          `before wrapping the model in DistributedDataParallel; or swap BatchNorm for GroupNorm, which does not depend on the batch; ` +
          `or train with ${SMALL_BATCH} or more examples per device.`,
        refactor: { action: 'swap', to: 'groupNorm' },
      }),
    );
  }
  return out;
}
