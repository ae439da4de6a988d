/**
 * A cheaper `Engine.clone`, the method tfjs calls for every tensor a kernel saves for its gradient (and
 * customGrad saves): stock runs a whole Identity kernel through `runKernel` (scope, profiler hooks, a tape
 * node of its own) and adds a second tape node; about 80 times in a small CNN's training step. On the
 * backends where Identity only adds a reference to the same data (cpu, and wasm with our Identity),
 * the same result is that reference, a tensor wrapping it and the one tape node whose gradient (a cast to
 * float32) stock records too. Other backends, and tensors living on another backend, keep the stock method.
 */
import * as tf from '@tensorflow/tfjs';

interface EngineInternals {
  backend: { incRef(dataId: object): void };
  state: { tensorInfo: Map<object, { backend: unknown }>; activeScope: { name: string } };
  makeTensorFromTensorInfo(info: tf.TensorInfo, backend: unknown): tf.Tensor;
  addTapeNode(
    scope: string,
    inputs: tf.NamedTensorMap,
    outputs: tf.Tensor[],
    grad: (dy: tf.Tensor) => unknown,
    saved: tf.Tensor[],
    attrs: object,
  ): void;
  runKernel(name: string, inputs: tf.NamedTensorMap, attrs: object): tf.Tensor;
}
type Clone = (this: EngineInternals, x: tf.Tensor) => tf.Tensor;

/** `stock` is the engine's own clone; `aliasing()` says whether the current backend's Identity only adds a reference. */
export function fastClone(stock: Clone, aliasing: () => boolean): Clone {
  return function (this: EngineInternals, x: tf.Tensor): tf.Tensor {
    if (this.state.tensorInfo.get(x.dataId)?.backend !== this.backend || !aliasing()) return stock.call(this, x);
    this.backend.incRef(x.dataId);
    const y = this.makeTensorFromTensorInfo({ dataId: x.dataId, shape: x.shape, dtype: x.dtype }, this.backend);
    const grad = (dy: tf.Tensor) => ({ x: () => this.runKernel('Cast', { x: dy }, { dtype: 'float32' }) });
    this.addTapeNode(this.state.activeScope.name, { x }, [y], grad, [], {});
    return y;
  };
}
