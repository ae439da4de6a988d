/**
 * `post-norm`: residual blocks written norm(x + f(x)). Normalizing after the addition rescales the
 * identity path at every block, so gradients to early blocks must pass through every norm and the
 * model needs learning-rate warm-up; pre-norm x + f(norm(x)) keeps a clean identity path and trains
 * with smoother gradients (Xiong et al. 2020, On Layer Normalization in the Transformer Architecture).
 * A deep stack (≥ 6 such blocks, the depth of the original Transformer) raises it to a warning.
 */
import type { LayerCall } from '../layerCalls';
import type { StaticRule } from './context';

export const DEEP_POST_NORM_BLOCKS = 6;

export const postNorm: StaticRule = {
  kind: 'post-norm',
  citation: 'Xiong et al. 2020, On Layer Normalization in the Transformer Architecture',
  check(ctx) {
    const blocks: LayerCall[] = ctx.parsed.calls.filter((c) => {
      if (!c.isNorm || !c.apply) return false;
      const p = ctx.predecessor(c);
      return p?.className === 'Add' && (p.apply?.inputs.length ?? 0) >= 2;
    });
    const count = blocks.reduce((n, c) => n + ctx.repeat(c), 0);
    return blocks.map((call) =>
      ctx.finding(call, {
        kind: 'post-norm',
        severity: count >= DEEP_POST_NORM_BLOCKS ? 'warning' : 'info',
        message:
          `This residual block normalizes after the addition, norm(x + f(x)) (post-norm${count > 1 ? `, ${count} blocks in this file` : ''}). ` +
          'The norm rescales the identity path at every block, so gradients to early blocks pass through every norm layer: deep post-norm stacks need warm-up and train unstably. ' +
          'Pre-norm, x + f(norm(x)), keeps the identity path clean and gives smoother gradients.',
        fix: 'Move the normalization to the start of the residual branch: x + f(norm(x)) (add a final norm after the last block).',
        refactor: { action: 'pre-norm' },
      }),
    );
  },
};
