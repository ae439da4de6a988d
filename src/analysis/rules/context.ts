/**
 * What the static rules know about a parsed file: layers grouped per model in source order, the
 * data flow between them (sequential order, or `.apply` inputs/outputs in the functional API),
 * how often a call runs in a literal loop, and the smallest batch size the source trains with.
 */
import type { Finding } from '../../protocol/run';
import { PASS_THROUGH_CLASSES } from '../../protocol/vocabulary';
import type { LayerCall, ParsedModelSource } from '../layerCalls';
import { CONV_CLASSES, RECURRENT_CLASSES } from '../layerNames';
import { findBatchSize, loopRepeat, type BatchSizeSource } from './sourceFacts';

export interface LintOptions {
  /** Batch size the run will use when the source does not say (e.g. the normscope.batchSize setting). */
  batchSize?: number;
}

/** Layers that pass statistics through unchanged for the questions the rules ask. */
const PASS_THROUGH = new Set([...PASS_THROUGH_CLASSES, 'Masking']);
/** Layers whose output is a spatial/temporal feature map (channels last). */
const MAKES_FEATURE_MAP = new Set([
  ...CONV_CLASSES,
  'MaxPooling1D',
  'MaxPooling2D',
  'MaxPooling3D',
  'AveragePooling1D',
  'AveragePooling2D',
  'AveragePooling3D',
  'UpSampling2D',
  'ZeroPadding2D',
  'Cropping2D',
]);
/** Layers whose output is a plain vector or a sequence of vectors. */
const MAKES_VECTOR = new Set([
  'Flatten',
  'Dense',
  'GlobalAveragePooling1D',
  'GlobalAveragePooling2D',
  'GlobalMaxPooling1D',
  'GlobalMaxPooling2D',
  'Embedding',
  'Reshape',
  'RepeatVector',
  ...[...RECURRENT_CLASSES].filter((c) => !CONV_CLASSES.has(c)),
]);

export class RuleContext {
  readonly groups: LayerCall[][];
  readonly batchSize: BatchSizeSource | null;
  /** Per call, its group without layers nested in another layer's config (wrapped layers). */
  private readonly flowGroupOf = new Map<LayerCall, LayerCall[]>();
  private readonly wrapperOf = new Map<LayerCall, LayerCall>();

  constructor(
    readonly parsed: ParsedModelSource,
    readonly fileName: string,
    options: LintOptions = {},
  ) {
    const byModel = new Map<number, LayerCall[]>();
    for (const c of parsed.calls) {
      const key = c.model ?? -1;
      const list = byModel.get(key) ?? [];
      list.push(c);
      byModel.set(key, list);
    }
    this.groups = [...byModel.values()];
    for (const g of this.groups) {
      for (const inner of g) {
        let best: LayerCall | undefined;
        for (const c of g) {
          if (c !== inner && c.argsStart <= inner.start && inner.end <= c.argsEnd && (!best || c.start > best.start)) best = c;
        }
        if (best) this.wrapperOf.set(inner, best);
      }
      const flow = g.filter((c) => !this.wrapperOf.has(c));
      for (const c of g) this.flowGroupOf.set(c, this.wrapperOf.has(c) ? [...flow, c].sort((a, b) => a.start - b.start) : flow);
    }
    this.batchSize =
      findBatchSize(parsed.sourceFile) ?? (options.batchSize !== undefined ? { value: options.batchSize, line: null } : null);
  }

  /** The layer call whose arguments contain `call` (`timeDistributed({ layer: <call> })`), if any. */
  wrapper(call: LayerCall): LayerCall | undefined {
    return this.wrapperOf.get(call);
  }

  /** The layer feeding `call`: its `.apply` input's producer, else the previous layer in source order. */
  predecessor(call: LayerCall): LayerCall | undefined {
    const group = this.flowGroupOf.get(call) ?? [];
    if (call.apply) {
      if (call.apply.inputs.length !== 1) return undefined;
      const input = call.apply.inputs[0];
      const { start, end } = call.apply;
      // Nested: norm.apply(tf.layers.add().apply([x, h])).
      const nested = group.filter((c) => c !== call && c.apply && c.apply.start > start && c.apply.end < end);
      if (nested.length) return nested.reduce((a, b) => (b.apply!.end - b.apply!.start > a.apply!.end - a.apply!.start ? b : a));
      // By name: the latest `input = <layer>.apply(...)` before this call.
      const producers = group.filter((c) => c !== call && c.apply?.output === input && c.apply.end <= start);
      return producers[producers.length - 1];
    }
    const i = group.indexOf(call);
    return i > 0 ? group[i - 1] : undefined;
  }

  /** The layer `call` feeds: the first later layer applied to its output, else the next layer in source order. */
  successor(call: LayerCall): LayerCall | undefined {
    const group = this.flowGroupOf.get(call) ?? [];
    if (call.apply) {
      const { output, start, end } = call.apply;
      const enclosing = group.filter((c) => c !== call && c.apply && c.apply.start < start && end < c.apply.end);
      if (enclosing.length) return enclosing.reduce((a, b) => (b.apply!.start > a.apply!.start ? b : a));
      if (output === null) return undefined;
      return group.find((c) => c !== call && c.apply && c.apply.start >= end && c.apply.inputs.includes(output));
    }
    const i = group.indexOf(call);
    return i >= 0 && i + 1 < group.length ? group[i + 1] : undefined;
  }

  /** Like predecessor/successor, skipping dropout and activation layers. */
  previousSignificant(call: LayerCall): LayerCall | undefined {
    let p = this.predecessor(call);
    for (let n = 0; p && PASS_THROUGH.has(p.className) && n < 50; n++) p = this.predecessor(p);
    return p;
  }

  nextSignificant(call: LayerCall): LayerCall | undefined {
    let s = this.successor(call);
    for (let n = 0; s && PASS_THROUGH.has(s.className) && n < 50; n++) s = this.successor(s);
    return s;
  }

  /** True when `call` receives a conv feature map (the nearest shape-setting layer upstream is a conv/pool). */
  receivesFeatureMap(call: LayerCall): boolean {
    let p = this.predecessor(call);
    for (let n = 0; p && n < 200; n++, p = this.predecessor(p)) {
      if (MAKES_FEATURE_MAP.has(p.className)) return true;
      if (MAKES_VECTOR.has(p.className)) return false;
    }
    return false;
  }

  /** How many layers this call creates: the product of the literal trip counts of enclosing loops (1 if unknown). */
  repeat(call: LayerCall): number {
    return loopRepeat(this.parsed.sourceFile, call.start);
  }

  /** A static finding at a layer call. */
  finding(call: LayerCall, fields: Omit<Finding, 'layer' | 'source' | 'step'>): Finding {
    const name = call.config?.name?.value;
    return {
      ...fields,
      layer: typeof name === 'string' ? name : call.className,
      step: null,
      source: { file: this.fileName, line: call.line, column: call.column },
    };
  }
}

/** One static rule: pure, over a parsed file. */
export interface StaticRule {
  kind: Finding['kind'];
  /** Where the rule and its threshold come from. */
  citation: string;
  check(ctx: RuleContext): Finding[];
}
