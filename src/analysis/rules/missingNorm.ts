/**
 * `missing-norm`: a deep stack (≥ 8 weight layers, counting literal loops) with no normalization.
 * Without normalization every layer's output scale depends on all the weights before it, so depth
 * compounds small mis-scalings into vanishing or exploding signals (Ioffe & Szegedy 2015, Batch
 * Normalization; Ba et al. 2016, Layer Normalization).
 */
import { NORM_CLASS_NAMES, type NormKind } from '../../protocol/vocabulary';
import { CONV_CLASSES, RECURRENT_CLASSES, WEIGHT_CLASSES } from '../layerNames';
import { SMALL_BATCH } from './bnSmallBatch';
import type { StaticRule } from './context';

export const DEEP_STACK = 8;

export const missingNorm: StaticRule = {
  kind: 'missing-norm',
  citation: 'Ioffe & Szegedy 2015, Batch Normalization; Ba et al. 2016, Layer Normalization (threshold: 8 weight layers)',
  check(ctx) {
    return ctx.groups.flatMap((group) => {
      if (group.some((c) => c.isNorm)) return [];
      const weighted = group.filter((c) => WEIGHT_CLASSES.has(c.className));
      const depth = weighted.reduce((n, c) => n + ctx.repeat(c), 0);
      if (depth < DEEP_STACK || weighted.length === 0) return [];
      const conv = weighted.some((c) => CONV_CLASSES.has(c.className));
      const recurrent = weighted.some((c) => RECURRENT_CLASSES.has(c.className));
      const small = (ctx.batchSize?.value ?? Infinity) < SMALL_BATCH;
      const norm: NormKind = conv && !recurrent ? (small ? 'groupNorm' : 'batchNorm') : 'layerNorm';
      const first = weighted[0];
      return [
        {
          ...ctx.finding(first, {
            kind: 'missing-norm',
            severity: 'warning',
            message:
              `This model stacks ${depth} weight layers (threshold ${DEEP_STACK}) with no normalization. ` +
              "Each layer's output scale then depends on every weight before it, so small mis-scalings compound with depth into vanishing or exploding activations and gradients.",
            fix: `Insert ${NORM_CLASS_NAMES[norm]} after the weight layers (before the activation), starting with this one.`,
            refactor: { action: 'insert-norm', norm },
          }),
          layer: null,
        },
      ];
    });
  },
};
