/**
 * `normscopeCallback({ every })`: a tfjs callback for `model.fit(…, { callbacks: [...] })` in the user's own process
 * that measures every layer with the worker's instrumentation (src/worker/instrument: the same hooks, meters and
 * statistics as `normscope check`) at every `every`-th batch and writes the run log (src/runlog) that
 * `normscope report` and `watch` read. A measured batch runs the model's own optimizer through `measuredMinimize` in
 * place of its `minimize` for that one call (as a script run does), so the update is the one fit would make; the
 * other batches run untouched. One callback is one run: pass the same one to every fit() of a training loop.
 */
import * as tf from '@tensorflow/tfjs';
import { Instrumenter } from '../worker/instrument/hooks';
import { DeviceMeter, HostMeter, viewFor } from '../worker/instrument/meters';
import { describeLayerList, type LayerProbe } from '../worker/instrument/probes';
import { measuredMinimize, StepError } from '../worker/instrument/step';
import { leafLayers } from '../worker/script/layerTable';
import { learningRateOf } from '../worker/training/spec';
import { RunLogWriter } from '../runlog/writer';
import { creationSite } from './creationSites';
import type { NormscopeCallback, NormscopeCallbackOptions } from './normscope';

type Minimize = tf.Optimizer['minimize'];
type ModelInternals = tf.LayersModel & { optimizer_: tf.Optimizer };

/** The state of one run: its writer, its layer table and the batch being measured. */
class Session {
  writer: RunLogWriter | null = null;
  model: tf.LayersModel | null = null;
  private probes: LayerProbe[] = [];
  private instrumenter: Instrumenter | null = null;
  private step = 0;
  private measuring: { values: number[] | null; loss: number; started: number; restore: () => void } | null = null;
  training = false;

  constructor(private readonly options: NormscopeCallbackOptions) {}

  get every(): number {
    return Math.max(1, Math.floor(this.options.every ?? 1));
  }

  trainBegin(model: tf.LayersModel): void {
    if (this.model && this.model !== model) this.close('closed'); // the same callback on another model: a new run
    if (!this.writer) this.open(model);
    this.instrumenter = new Instrumenter(this.probes);
    this.training = true;
  }

  private open(model: tf.LayersModel): void {
    this.model = model;
    this.step = 0;
    this.probes = describeLayerList(leafLayers(model), (layer) => creationSite(layer));
    const { options } = this;
    this.writer = new RunLogWriter({
      dir: options.dir,
      script: options.script ?? process.argv[1] ?? null,
      projectRoot: options.projectRoot,
      budgetBytes: options.budgetMB ? options.budgetMB * 2 ** 20 : undefined,
      engine: 'tfjs',
      meta: { every: this.every, backend: tf.getBackend(), versions: { tfjs: tf.version.tfjs } },
      exitReason: () => (this.training ? null : { reason: 'closed' }),
    });
    this.writer.layers(this.probes.map((p) => p.info));
    const lr = learningRateOf((model as ModelInternals).optimizer_);
    if (lr !== undefined) this.writer.info({ learningRate: lr });
  }

  batchBegin(model: tf.LayersModel): void {
    if (!this.writer || !this.instrumenter) return;
    if (this.step % this.every !== 0) return;
    const optimizer = (model as ModelInternals).optimizer_;
    const own = Object.prototype.hasOwnProperty.call(optimizer, 'minimize');
    const original = optimizer.minimize;
    const ctx = {
      probes: this.probes,
      instrumenter: this.instrumenter,
      meter: (() => {
        const view = viewFor(tf.getBackend());
        return view ? () => new HostMeter(view) : () => new DeviceMeter();
      })(),
    };
    const measuring = {
      values: null as number[] | null,
      loss: NaN,
      started: performance.now(),
      restore: () => {
        if (own) optimizer.minimize = original;
        else delete (optimizer as Partial<tf.Optimizer>).minimize;
      },
    };
    optimizer.minimize = ((f: () => tf.Scalar, _returnCost: boolean, variables: tf.Variable[]) => {
      measuring.restore(); // one call: a second minimize in the same batch is the model's own business
      try {
        const result = measuredMinimize(ctx, optimizer, f, variables);
        measuring.values = result.values;
        measuring.loss = result.lossValue;
        return result.loss;
      } catch (e) {
        throw e instanceof StepError ? e.cause : e; // the user's error, as fit would have thrown it
      }
    }) as Minimize;
    this.measuring = measuring;
  }

  async batchEnd(loss: unknown, size: unknown): Promise<void> {
    if (!this.writer) return;
    if (this.step === 0 && typeof size === 'number') this.writer.info({ batchSize: size }); // fit sets it after onBatchBegin
    const measuring = this.measuring;
    this.measuring = null;
    measuring?.restore();
    const step = this.step++;
    if (measuring?.values) {
      this.writer.sample(step, measuring.loss, performance.now() - measuring.started, measuring.values);
      return;
    }
    // A tfjs Callback gets the batch's logs unresolved (a CustomCallback resolves them first): a scalar tensor.
    const value = typeof loss === 'number' ? loss : loss instanceof tf.Tensor ? (await loss.data())[0] : NaN;
    this.writer?.loss(step, value);
  }

  trainEnd(): void {
    this.measuring?.restore();
    this.measuring = null;
    this.instrumenter?.restore(); // the model is the user's again between fit() calls
    this.instrumenter = null;
    this.training = false;
  }

  close(reason: string, message?: string): void {
    this.trainEnd();
    this.writer?.close(reason, message);
    this.writer = null;
    this.model = null;
  }
}

/** The model whose fit/fitDataset is running: a callback tfjs wraps in a CustomCallback is never given the model. */
let fitting: tf.LayersModel | null = null;
const tracked = new WeakSet<object>();

/** Notes which model is training, around fit and fitDataset of `tfjs`'s LayersModel (once per tfjs copy). */
export function trackTraining(tfjs: typeof tf): void {
  const proto = tfjs.LayersModel.prototype as unknown as Record<'fit' | 'fitDataset', (...args: unknown[]) => Promise<unknown>>;
  if (tracked.has(proto)) return;
  tracked.add(proto);
  for (const name of ['fit', 'fitDataset'] as const) {
    const original = proto[name];
    proto[name] = async function trainingModel(this: tf.LayersModel, ...args: unknown[]) {
      const previous = fitting;
      // eslint-disable-next-line @typescript-eslint/no-this-alias -- the model being trained, for the callbacks it runs
      fitting = this;
      try {
        return await original.apply(this, args);
      } finally {
        fitting = previous;
      }
    };
  }
}

export function normscopeCallback(options: NormscopeCallbackOptions = {}): NormscopeCallback {
  if (options.every !== undefined && !(Number.isInteger(options.every) && options.every >= 1))
    throw new RangeError(`normscopeCallback: every must be a positive integer, got ${String(options.every)}`);
  const session = new Session(options);
  const modelOf = (self: { model?: tf.LayersModel | null }) => self.model ?? fitting;
  // Not a tf.Callback: a list that starts with one is used as it is, and plain-object callbacks after it break fit.
  // tfjs wraps this object in a CustomCallback instead (calling these with the wrapper as `this`, which has no model:
  // the model is the one whose fit is running); after a tf.Callback it is used as it is (setModel gives the model).
  const callback = {
    model: null as tf.LayersModel | null,
    setParams() {},
    setModel(this: { model: tf.LayersModel | null }, model: tf.LayersModel) {
      this.model = model;
    },
    async onTrainBegin(this: { model?: tf.LayersModel | null }) {
      const model = modelOf(this);
      if (!model) throw new Error('normscopeCallback: no model is training (pass it in the callbacks of model.fit or model.fitDataset)');
      session.trainBegin(model);
    },
    async onEpochBegin() {},
    async onEpochEnd() {},
    async onBatchBegin(this: { model?: tf.LayersModel | null }) {
      const model = modelOf(this);
      if (model) session.batchBegin(model);
    },
    async onBatchEnd(_batch: number, logs?: tf.Logs) {
      await session.batchEnd(logs?.loss, logs?.size);
    },
    async onTrainEnd() {
      session.trainEnd();
    },
    get dir() {
      return session.writer?.dir ?? null;
    },
    close() {
      session.close('closed');
    },
  };
  return callback;
}
