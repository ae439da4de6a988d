/**
 * `bn-small-batch`: BatchNormalization trained with batches smaller than 16.
 * BN normalizes with the mean/variance of the current batch; Wu & He (2018, Group Normalization,
 * Fig. 1) show its error rising quickly below 16 examples per batch, and at batch 1 the variance
 * is 0, so the output is just β. GroupNorm/LayerNorm compute statistics per example instead.
 */
import type { StaticRule } from './context';

/** Wu & He 2018: BN's error grows quickly below this batch size. */
export const SMALL_BATCH = 16;

export const bnSmallBatch: StaticRule = {
  kind: 'bn-small-batch',
  citation: 'Wu & He 2018, Group Normalization (BN error rises sharply below batch 16)',
  check(ctx) {
    const batch = ctx.batchSize;
    if (!batch || batch.value >= SMALL_BATCH) return [];
    const where = batch.line !== null ? ` (line ${batch.line})` : '';
    return ctx.parsed.calls
      .filter((c) => c.className === 'BatchNormalization')
      .map((call) => {
        const to = ctx.receivesFeatureMap(call) ? 'groupNorm' : 'layerNorm';
        return ctx.finding(call, {
          kind: 'bn-small-batch',
          severity: batch.value <= 2 ? 'error' : 'warning',
          message:
            `BatchNormalization normalizes with the statistics of the current batch, but this model trains with batch size ${batch.value}${where}. ` +
            (batch.value === 1
              ? 'With one example the batch variance is 0, so every output collapses to β and the layer learns nothing.'
              : `Mean and variance estimated from ${batch.value} examples are noisy (BN's error rises sharply below ${SMALL_BATCH}), and the moving averages used at inference never match training.`),
          fix: `Use ${to === 'groupNorm' ? 'GroupNormalization (per-example statistics over groups of channels)' : 'LayerNormalization (per-example statistics)'}, which does not depend on the batch size, or train with batches of ${SMALL_BATCH} or more.`,
          refactor: { action: 'swap', to },
        });
      });
  },
};
