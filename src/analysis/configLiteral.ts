/**
 * Reads a layer's config object literal (`{ units: 64, activation: 'relu' }`) into a map of
 * properties with their source text, offsets and, where the value is a literal, its value.
 */
import ts from 'typescript';

export type LiteralValue = number | string | boolean | null | LiteralValue[];

export interface ConfigProperty {
  name: string;
  /** Source text of the value expression. */
  text: string;
  /** The value, when the expression is a literal (numbers, strings, booleans, null, arrays of those). */
  value?: LiteralValue;
  /** Offsets of the whole `name: value` property. */
  start: number;
  end: number;
  /** Offsets of the value expression. */
  valueStart: number;
  valueEnd: number;
}

export type LayerConfig = Record<string, ConfigProperty>;

/** The value of a literal expression, or undefined when it is not a literal. */
export function literalValue(expr: ts.Expression): LiteralValue | undefined {
  if (ts.isParenthesizedExpression(expr)) return literalValue(expr.expression);
  if (ts.isNumericLiteral(expr)) return Number(expr.text);
  if (ts.isStringLiteralLike(expr)) return expr.text;
  if (expr.kind === ts.SyntaxKind.TrueKeyword) return true;
  if (expr.kind === ts.SyntaxKind.FalseKeyword) return false;
  if (expr.kind === ts.SyntaxKind.NullKeyword) return null;
  if (ts.isPrefixUnaryExpression(expr) && ts.isNumericLiteral(expr.operand)) {
    if (expr.operator === ts.SyntaxKind.MinusToken) return -Number(expr.operand.text);
    if (expr.operator === ts.SyntaxKind.PlusToken) return Number(expr.operand.text);
  }
  if (ts.isArrayLiteralExpression(expr)) {
    const out: LiteralValue[] = [];
    for (const el of expr.elements) {
      const v = literalValue(el);
      if (v === undefined) return undefined;
      out.push(v);
    }
    return out;
  }
  return undefined;
}

function propertyName(name: ts.PropertyName): string | null {
  if (ts.isIdentifier(name) || ts.isStringLiteral(name) || ts.isNumericLiteral(name)) return name.text;
  return null;
}

/** Properties of an object literal; spreads and computed names are skipped (unknowable statically). */
export function readConfig(obj: ts.ObjectLiteralExpression, sf: ts.SourceFile): LayerConfig {
  const config: LayerConfig = {};
  for (const prop of obj.properties) {
    let name: string | null = null;
    let valueNode: ts.Expression | null = null;
    if (ts.isPropertyAssignment(prop)) {
      name = propertyName(prop.name);
      valueNode = prop.initializer;
    } else if (ts.isShorthandPropertyAssignment(prop)) {
      name = prop.name.text;
      valueNode = prop.name;
    }
    if (name === null || valueNode === null) continue;
    const value = literalValue(valueNode);
    config[name] = {
      name,
      text: valueNode.getText(sf),
      ...(value !== undefined ? { value } : {}),
      start: prop.getStart(sf),
      end: prop.end,
      valueStart: valueNode.getStart(sf),
      valueEnd: valueNode.end,
    };
  }
  return config;
}
