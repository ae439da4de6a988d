/**
 * Training calls in a file: `<model>.fit(...)`, `.fitDataset(...)`, `.trainOnBatch(...)`, where a
 * "Check Training Script" CodeLens goes. Only in files that use TensorFlow.js (an import or require of
 * a tfjs package), so that `scaler.fit(x)` in unrelated code gets no lens. Static, no type checking:
 * the receiver is any expression.
 */
import ts from 'typescript';
import { isTfModule } from './tfAliases';

export const TRAINING_METHODS = ['fit', 'fitDataset', 'trainOnBatch'] as const;
export type TrainingMethod = (typeof TRAINING_METHODS)[number];

export interface TrainingCall {
  method: TrainingMethod;
  /** Source text of what is trained (`model`, `this.discriminator`). */
  receiver: string;
  /** 1-based line and column of the receiver's first character. */
  line: number;
  column: number;
  /** Offset of the call's first character. */
  start: number;
}

function scriptKind(fileName: string): ts.ScriptKind {
  if (/\.tsx$/i.test(fileName)) return ts.ScriptKind.TSX;
  if (/\.[cm]?ts$/i.test(fileName)) return ts.ScriptKind.TS;
  return /\.jsx$/i.test(fileName) ? ts.ScriptKind.JSX : ts.ScriptKind.JS;
}

/** A string-literal module name imported, required or dynamically imported anywhere in the file. */
function importsTfjs(sf: ts.SourceFile): boolean {
  let found = false;
  const visit = (node: ts.Node): void => {
    if (found) return;
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      found = isTfModule(node.moduleSpecifier.text);
    } else if (
      ts.isCallExpression(node) &&
      node.arguments.length === 1 &&
      ts.isStringLiteralLike(node.arguments[0]) &&
      ((ts.isIdentifier(node.expression) && node.expression.text === 'require') || node.expression.kind === ts.SyntaxKind.ImportKeyword)
    ) {
      found = isTfModule(node.arguments[0].text);
    }
    if (!found) ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

export function findTrainingCalls(text: string, fileName: string): TrainingCall[] {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, scriptKind(fileName));
  if (!importsTfjs(sf)) return [];
  const calls: TrainingCall[] = [];
  const visit = (node: ts.Node): void => {
    if (
      ts.isCallExpression(node) &&
      ts.isPropertyAccessExpression(node.expression) &&
      (TRAINING_METHODS as readonly string[]).includes(node.expression.name.text)
    ) {
      const receiver = node.expression.expression;
      const start = receiver.getStart(sf);
      const { line, character } = sf.getLineAndCharacterOfPosition(start);
      calls.push({
        method: node.expression.name.text as TrainingMethod,
        receiver: receiver.getText(sf),
        line: line + 1,
        column: character + 1,
        start: node.getStart(sf),
      });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return calls;
}
