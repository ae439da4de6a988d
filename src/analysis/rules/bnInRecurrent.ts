/**
 * `bn-in-recurrent`: BatchNormalization between recurrent layers or inside one (e.g. in a
 * TimeDistributed/Bidirectional/RNN config). BN shares one set of batch statistics across every
 * time step and sequence length, and its moving averages describe none of them at inference;
 * LayerNorm normalizes each time step of each sequence on its own (Ba et al. 2016, Layer
 * Normalization: "normalization is much more critical for RNNs").
 */
import { RECURRENT_CLASSES } from '../layerNames';
import type { StaticRule } from './context';

export const bnInRecurrent: StaticRule = {
  kind: 'bn-in-recurrent',
  citation: 'Ba, Kiros & Hinton 2016, Layer Normalization (LN is the norm for recurrent networks)',
  check(ctx) {
    return ctx.parsed.calls
      .filter((c) => c.className === 'BatchNormalization')
      .flatMap((call) => {
        let wrapper = ctx.wrapper(call);
        let inside = false;
        for (let n = 0; wrapper && n < 20; n++, wrapper = ctx.wrapper(wrapper)) {
          if (RECURRENT_CLASSES.has(wrapper.className)) inside = true;
        }
        const outer = ctx.wrapper(call) ?? call;
        const prev = ctx.previousSignificant(outer);
        const next = ctx.nextSignificant(outer);
        const between = !!prev && !!next && RECURRENT_CLASSES.has(prev.className) && RECURRENT_CLASSES.has(next.className);
        if (!inside && !between) return [];
        return [
          ctx.finding(call, {
            kind: 'bn-in-recurrent',
            severity: 'warning',
            message:
              `BatchNormalization ${inside ? 'inside a recurrent layer' : `between ${prev!.className} and ${next!.className}`} averages over the batch and every time step together, ` +
              'so one mean/variance has to serve all positions and sequence lengths, and the moving averages used at inference match none of them. ' +
              'LayerNorm normalizes each time step of each sequence by itself, which is why it is the standard choice for RNNs.',
            fix: 'Swap it for LayerNormalization.',
            refactor: { action: 'swap', to: 'layerNorm' },
          }),
        ];
      });
  },
};
