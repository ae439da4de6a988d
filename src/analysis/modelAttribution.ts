/**
 * The attribution half of `parseModelSource` (layerCalls.ts): which model definition a layer call belongs to,
 * and which `.apply(...)` wires a layer held in a variable. Built once per parse from the tree's call expressions.
 */
import ts from 'typescript';
import type { ModelDefinition } from './modelDefinitions';

/** The function (or source file) a node sits in, cached: attribution asks about the same nodes many times. */
export class Scopes {
  private readonly cache = new Map<ts.Node, ts.Node>();

  of(node: ts.Node): ts.Node {
    let scope = this.cache.get(node);
    if (!scope) this.cache.set(node, (scope = containingFunction(node)));
    return scope;
  }

  same(a: ts.Node, b: ts.Node): boolean {
    return this.of(a) === this.of(b);
  }
}

function containingFunction(node: ts.Node): ts.Node {
  let n = node.parent;
  while (n && !ts.isFunctionLike(n) && !ts.isSourceFile(n)) n = n.parent;
  return n;
}

/** `x.<method>(...)` calls grouped by the receiver's name `x` (for layers bound to variables). */
export function callsByReceiver(calls: readonly ts.CallExpression[], method: string): Map<string, ts.CallExpression[]> {
  const out = new Map<string, ts.CallExpression[]>();
  for (const c of calls) {
    const callee = c.expression;
    if (ts.isPropertyAccessExpression(callee) && callee.name.text === method && ts.isIdentifier(callee.expression)) {
      const list = out.get(callee.expression.text) ?? [];
      list.push(c);
      out.set(callee.expression.text, list);
    }
  }
  return out;
}

/** Answers "which model does this layer belong to?" as an index into `models`. */
export class ModelAttribution {
  private readonly modelOfNode = new Map<ts.Node, number>();
  private readonly sequentialsByName = new Map<string, number[]>();
  private readonly functionalByScope = new Map<ts.Node, number>();
  private readonly adds: Map<string, ts.CallExpression[]>;

  constructor(
    private readonly sf: ts.SourceFile,
    calls: readonly ts.CallExpression[],
    private readonly models: readonly ModelDefinition[],
    private readonly scopes: Scopes,
  ) {
    this.adds = callsByReceiver(calls, 'add');
    models.forEach((m, i) => {
      this.modelOfNode.set(m.node, i);
      if (m.kind === 'sequential' && m.name) this.sequentialsByName.set(m.name, [...(this.sequentialsByName.get(m.name) ?? []), i]);
      if (m.kind === 'model' && !this.functionalByScope.has(scopes.of(m.node))) this.functionalByScope.set(scopes.of(m.node), i);
    });
  }

  /**
   * In order: the sequential/functional model whose definition encloses the layer, or the `m.add(layer)` it is an
   * argument of; then `m.add(binding)` in the same function; then the `tf.model(...)` built in the same function;
   * last, the factory function that encloses it.
   */
  modelOf(node: ts.Node, binding: string | null): number | null {
    let factory: number | null = null;
    for (let n: ts.Node = node; n.parent; n = n.parent) {
      const parent = n.parent;
      const direct = this.modelOfNode.get(parent);
      if (direct !== undefined) {
        if (this.models[direct].kind === 'factory') {
          factory ??= direct;
          continue;
        }
        return direct;
      }
      const added = this.sequentialAddingArgument(parent, n);
      if (added !== null) return added;
    }
    if (binding !== null) {
      const added = this.sequentialAddingBinding(binding, node);
      if (added !== null) return added;
    }
    return this.functionalByScope.get(this.scopes.of(node)) ?? factory;
  }

  /** `m.add(<child>)` where `m` names a sequential model. */
  private sequentialAddingArgument(parent: ts.Node, child: ts.Node): number | null {
    if (
      ts.isCallExpression(parent) &&
      parent.arguments.includes(child as ts.Expression) &&
      ts.isPropertyAccessExpression(parent.expression) &&
      parent.expression.name.text === 'add' &&
      ts.isIdentifier(parent.expression.expression)
    )
      return this.sequentialNamed(parent.expression.expression.text, parent);
    return null;
  }

  /** `m.add(binding)` in the same function as `node`. */
  private sequentialAddingBinding(binding: string, node: ts.Node): number | null {
    for (const add of this.adds.values()) {
      for (const c of add) {
        const arg = c.arguments[0];
        if (arg && ts.isIdentifier(arg) && arg.text === binding && this.scopes.same(c, node)) {
          const seq = this.sequentialNamed((c.expression as ts.PropertyAccessExpression).expression.getText(this.sf), c);
          if (seq !== null) return seq;
        }
      }
    }
    return null;
  }

  /** The sequential model bound to `name`, preferring one built in the same function as `near`. */
  private sequentialNamed(name: string, near: ts.Node): number | null {
    const candidates = this.sequentialsByName.get(name);
    if (!candidates) return null;
    return candidates.find((i) => this.scopes.same(this.models[i].node, near)) ?? candidates[0];
  }
}
