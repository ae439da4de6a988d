/**
 * `ln-on-conv`: LayerNormalization over convolutional feature maps. LN forces all channels of an
 * example to share one mean and scale; channels of a convnet carry very different statistics, so
 * LN's advantage evaporates there (Ba et al. 2016 report it underperforms BN on convnets) and
 * GroupNorm, which normalizes groups of channels, beats it (Wu & He 2018, Group Normalization).
 */
import type { StaticRule } from './context';

export const lnOnConv: StaticRule = {
  kind: 'ln-on-conv',
  citation: 'Ba et al. 2016 (LN on convnets); Wu & He 2018, Group Normalization (GN > LN on conv features)',
  check(ctx) {
    return ctx.parsed.calls
      .filter((c) => c.className === 'LayerNormalization' && ctx.receivesFeatureMap(c))
      .map((call) =>
        ctx.finding(call, {
          kind: 'ln-on-conv',
          severity: 'info',
          message:
            'LayerNormalization on a convolutional feature map makes every channel share one mean and scale, ' +
            "although conv channels detect different things and have very different statistics; LN's advantage evaporates on convnets. " +
            "GroupNorm normalizes groups of related channels per example, keeps LN's batch-size independence and trains conv nets better.",
          fix: 'Swap it for GroupNormalization (e.g. 32 groups, or fewer when there are few channels).',
          refactor: { action: 'swap', to: 'groupNorm' },
        }),
      );
  },
};
