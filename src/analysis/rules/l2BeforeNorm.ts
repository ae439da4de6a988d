/**
 * `l2-before-norm`: an L2 kernel regularizer on a layer whose output goes straight into a
 * normalization layer. The norm makes the output invariant to the scale of W, so L2 cannot
 * constrain the function; it only shrinks ‖W‖, and since the gradient scales with 1/‖W‖ this
 * raises the effective learning rate (van Laarhoven 2017, L2 Regularization versus Batch and Weight
 * Normalization; Ba et al. 2016: "the norm of the weight vector effectively controls the learning rate").
 */
import type { StaticRule } from './context';

/** Activations with f(a·x) = a·f(x) for a > 0 keep the layer scale-invariant through the norm. */
const HOMOGENEOUS = new Set(['linear', 'relu', undefined]);

export const l2BeforeNorm: StaticRule = {
  kind: 'l2-before-norm',
  citation: 'van Laarhoven 2017, L2 Regularization versus Batch and Weight Normalization; Ba et al. 2016',
  check(ctx) {
    return ctx.parsed.calls.flatMap((call) => {
      const reg = call.config?.kernelRegularizer;
      if (!reg || !/l2/i.test(reg.text)) return [];
      const activation = call.config?.activation?.value;
      if (!HOMOGENEOUS.has(typeof activation === 'string' ? activation : activation === undefined ? undefined : 'other')) return [];
      const next = ctx.nextSignificant(call);
      if (!next?.isNorm) return [];
      return [
        ctx.finding(call, {
          kind: 'l2-before-norm',
          severity: 'info',
          message:
            `The L2 kernel regularizer on this ${call.className} does not regularize: the following ${next.className} makes the output independent of the weights' scale, ` +
            'so L2 only shrinks ‖W‖, and because the gradient grows as ‖W‖ shrinks it just raises the effective learning rate.',
          fix: 'Remove the regularizer (and tune the learning rate instead), or regularize the layers after the normalization.',
          refactor: { action: 'remove-regularizer' },
        }),
      ];
    });
  },
};
