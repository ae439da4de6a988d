/**
 * Adam's update of every variable in one kernel. Stock `AdamOptimizer.applyGradients` runs about 13
 * kernels per variable (each a full pass that allocates its result), ~130 launches a step for a small
 * CNN and most of the MLP's memory traffic; here one pass per variable inside one launch computes
 *   m' = β1·m + (1−β1)·g   v' = β2·v + (1−β2)·g²   w' = w − lr·(m'/(1−β1ᵗ)) / (√(v'/(1−β2ᵗ)) + ε)
 * and the optimizer keeps its own state exactly as stock does (moment variables in the same slots,
 * accBeta1/2, iterations), so its weights save, load and continue the same. New buffers are written
 * (not the old ones in place): a snapshot of the old weights (the instrument's update norm) stays valid.
 */
import * as tf from '@tensorflow/tfjs';
import { TensorAccess } from './tensor-access';
import { kernelRoutines } from './simd-kernels';

export const ADAM_KERNEL = 'NormScopeAdam';

export interface AdamAttrs {
  count: number;
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

/**
 * Inputs w0, g0, m0, v0, w1, ... and accBeta1, accBeta2; outputs w0', m0', v0', w1', ... then
 * accBeta1·β1 and accBeta2·β2.
 */
export function adamUpdate(acc: TensorAccess, inputs: tf.NamedTensorInfoMap, attrs: AdamAttrs): tf.TensorInfo[] {
  const { count, learningRate, beta1, beta2, epsilon } = attrs;
  const input = (name: string): tf.TensorInfo => {
    const t = inputs[name];
    if (!t) throw new Error(`${ADAM_KERNEL}: missing input '${name}'`);
    return t;
  };
  const ordered: tf.TensorInfo[] = [];
  const shapes: number[][] = [];
  for (let k = 0; k < count; k++) {
    for (const part of ['w', 'g', 'm', 'v']) ordered.push(input(`${part}${k}`));
    const shape = input(`w${k}`).shape;
    shapes.push(shape, shape, shape);
  }
  ordered.push(input('accBeta1'), input('accBeta2'));
  shapes.push([], []);
  const { outs, outValues, inValues } = acc.withOutputs(shapes, ordered);
  const acc1 = inValues[4 * count][0];
  const acc2 = inValues[4 * count + 1][0];
  const c1 = 1 / (1 - acc1);
  const c2 = 1 / (1 - acc2);
  const simd = acc.memory ? kernelRoutines(acc.memory) : null;
  for (let k = 0; k < count; k++) {
    const [w, g, m, v] = inValues.slice(4 * k, 4 * k + 4);
    const [w2, m2, v2] = outValues.slice(3 * k, 3 * k + 3);
    // On wasm, SIMD over whole blocks of 4 (in float32, as the stock update); the rest here.
    const simdCount = simd ? w.length & ~3 : 0;
    if (simd && simdCount) {
      const addresses = [w, g, m, v, w2, m2, v2].map((a) => a.byteOffset);
      simd.adam(...addresses, simdCount * 4, beta1, 1 - beta1, beta2, 1 - beta2, c1, c2, learningRate, epsilon);
    }
    for (let i = simdCount; i < w.length; i++) {
      const gi = g[i];
      const mi = beta1 * m[i] + (1 - beta1) * gi;
      const vi = beta2 * v[i] + (1 - beta2) * gi * gi;
      m2[i] = mi;
      v2[i] = vi;
      w2[i] = w[i] - (learningRate * (mi * c1)) / (Math.sqrt(vi * c2) + epsilon);
    }
  }
  outValues[3 * count][0] = acc1 * beta1;
  outValues[3 * count + 1][0] = acc2 * beta2;
  return outs;
}

/** The fields of tfjs' AdamOptimizer that its applyGradients uses (public in tfjs 4.22). */
interface AdamState {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: ({ originalName: string; variable: tf.Variable } | undefined)[];
  accumulatedSecondMoment: ({ originalName: string; variable: tf.Variable } | undefined)[];
  incrementIterations(): void;
}
type ApplyGradients = tf.AdamOptimizer['applyGradients'];
type GradientsArg = Parameters<ApplyGradients>[0];

/** Moment slot i for variable `name`, created as stock Adam creates it (zeros, not trainable). */
function moment(slots: AdamState['accumulatedFirstMoment'], i: number, name: string, value: tf.Variable, suffix: string): tf.Variable {
  slots[i] ??= { originalName: `${name}/${suffix}`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
  return slots[i]!.variable;
}

/**
 * `AdamOptimizer.prototype.applyGradients` through the fused kernel; hands over to `stock` where the
 * kernel is not registered on the current backend (tfjs-node) or a variable is not float32.
 */
export function fusedApplyGradients(stock: ApplyGradients, hasKernel: () => boolean): ApplyGradients {
  return function (this: tf.AdamOptimizer, variableGradients: GradientsArg) {
    const names = Array.isArray(variableGradients) ? variableGradients.map((v) => v.name) : Object.keys(variableGradients);
    const gradientOf = (i: number, name: string) =>
      Array.isArray(variableGradients) ? variableGradients[i].tensor : (variableGradients as tf.NamedTensorMap)[name];
    const values = names.map((name) => tf.engine().registeredVariables[name]);
    const numeric = values.every((v, i) => v?.dtype === 'float32' && (gradientOf(i, names[i]) ?? v).dtype === 'float32');
    if (!numeric || !hasKernel()) return stock.call(this, variableGradients);
    const self = this as unknown as AdamState;
    tf.tidy(() => {
      const inputs: tf.NamedTensorMap = { accBeta1: self.accBeta1, accBeta2: self.accBeta2 };
      const updated: tf.Variable[] = [];
      names.forEach((name, i) => {
        const value = values[i];
        const m = moment(self.accumulatedFirstMoment, i, name, value, 'm');
        const v = moment(self.accumulatedSecondMoment, i, name, value, 'v');
        const g = gradientOf(i, name);
        if (g == null) return;
        const k = updated.length / 3;
        Object.assign(inputs, { [`w${k}`]: value, [`g${k}`]: g, [`m${k}`]: m, [`v${k}`]: v });
        updated.push(value, m, v);
      });
      const attrs: AdamAttrs = {
        count: updated.length / 3,
        learningRate: self.learningRate,
        beta1: self.beta1,
        beta2: self.beta2,
        epsilon: self.epsilon,
      };
      const outs = tf.engine().runKernel(ADAM_KERNEL, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
      updated.forEach((variable, j) => variable.assign(outs[j]));
      self.accBeta1.assign(outs[updated.length]);
      self.accBeta2.assign(outs[updated.length + 1]);
    });
    self.incrementIterations();
  };
}
