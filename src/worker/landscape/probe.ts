/**
 * The tf side of the landscape instrument: from the current weights w, evaluate the loss and the
 * gradient at w − s·η·∇L(w) for each step size s, and (ICS) each weighted layer's gradient after only
 * the layers before it took the step's update. Every weight the passes touch (trainable ones and state
 * such as BatchNorm's moving statistics, which a training-mode forward pass updates) is restored to the
 * very same buffers afterwards, so the run trains exactly as it would without the instrument.
 * Generic over a loss closure and variables so it is unit-tested on hand-made quadratics.
 */
import * as tf from '@tensorflow/tfjs';
import type { IcsValue, LandscapeSample } from '../../protocol/landscape';
import { gradientChange, internalCovariateShift, norm, smoothness } from './formulas';

export interface ProbeTarget {
  /** The training loss on this step's batch at the variables' current values. */
  loss: () => tf.Scalar;
  /** The trainable variables the optimizer updates, in order. */
  variables: tf.Variable[];
  /** Every variable a forward pass may change (trainable and not), restored after each probe. */
  state: tf.Variable[];
}

/** A weighted layer for ICS: its `LayerInfo.index` and trainable variables, in forward order. */
export interface IcsLayer {
  index: number;
  variables: tf.Variable[];
}

/** Values held by reference (a clone shares the buffer): restoring assigns the identical data back. */
export class Snapshot {
  private readonly saved: tf.Tensor[];
  constructor(readonly variables: tf.Variable[]) {
    this.saved = variables.map((v) => v.clone());
  }
  valueOf(v: tf.Variable): tf.Tensor {
    return this.saved[this.variables.indexOf(v)];
  }
  restore(only?: tf.Variable[]): void {
    this.variables.forEach((v, i) => {
      if (!only || only.includes(v)) v.assign(this.saved[i]);
    });
  }
  dispose(): void {
    tf.dispose(this.saved);
  }
}

/** Loss and gradients (as host arrays, zeros where a variable has no path to the loss) at the current values. */
export function lossAndGradient(lossFn: () => tf.Scalar, variables: tf.Variable[]): { loss: number; gradient: Float32Array[] } {
  const { value, grads } = tf.variableGrads(lossFn, variables);
  try {
    const gradient = variables.map((v) => (grads[v.name] ? (grads[v.name].dataSync() as Float32Array).slice() : new Float32Array(v.size)));
    return { loss: value.dataSync()[0], gradient };
  } finally {
    value.dispose();
    tf.dispose(Object.values(grads));
  }
}

const finiteOrNull = (v: number): number | null => (Number.isFinite(v) ? v : null);

/**
 * Loss variation, gradient predictiveness and β-smoothness at the current weights for each step size;
 * returns the sample and ∇L(w) (for ICS). The target's state is exactly as before when it returns or throws.
 */
export function probeLandscape(
  target: ProbeTarget,
  step: number,
  learningRate: number,
  stepSizes: number[],
): { sample: LandscapeSample; gradient: Float32Array[] } {
  const snapshot = new Snapshot(target.state);
  try {
    const at = lossAndGradient(target.loss, target.variables);
    snapshot.restore();
    const gradNorm = norm(at.gradient);
    const losses: (number | null)[] = [];
    const gradChange: (number | null)[] = [];
    const beta: (number | null)[] = [];
    for (const s of stepSizes) {
      target.variables.forEach((v, i) => {
        const moved = tf.tidy(() => tf.sub(snapshot.valueOf(v), tf.mul(tf.tensor(at.gradient[i], v.shape, 'float32'), s * learningRate)));
        v.assign(moved);
        moved.dispose();
      });
      const away = lossAndGradient(target.loss, target.variables);
      snapshot.restore();
      const change = gradientChange(at.gradient, away.gradient);
      losses.push(finiteOrNull(away.loss));
      gradChange.push(finiteOrNull(change));
      beta.push(finiteOrNull(smoothness(change, s, learningRate, gradNorm)));
    }
    return {
      sample: { step, loss: finiteOrNull(at.loss), gradNorm: finiteOrNull(gradNorm), losses, gradChange, smoothness: beta },
      gradient: at.gradient,
    };
  } finally {
    snapshot.restore();
    snapshot.dispose();
  }
}

/**
 * ICS per layer (formulas.internalCovariateShift), called after the step's update. `before` holds the
 * trainable values the step started from, `gradient` ∇L at those values (per `target.variables`).
 * Walks the layers from the last down: moving layer i back to its old values leaves layers < i updated
 * and layers ≥ i old, exactly G′'s configuration. The state is restored to the updated values afterwards.
 */
export function measureIcs(target: ProbeTarget, layers: IcsLayer[], before: Snapshot, gradient: Float32Array[]): IcsValue[] {
  const updated = new Snapshot(target.state);
  const out: IcsValue[] = [];
  try {
    for (let k = layers.length - 1; k >= 0; k--) {
      const layer = layers[k];
      before.restore(layer.variables);
      const g = layer.variables.map((v) => gradient[target.variables.indexOf(v)]);
      const after = lossAndGradient(target.loss, layer.variables).gradient;
      const shift = internalCovariateShift(g, after);
      out.unshift({ layer: layer.index, distance: finiteOrNull(shift.distance), cosine: finiteOrNull(shift.cosine) });
    }
    return out;
  } finally {
    updated.restore();
    updated.dispose();
  }
}
