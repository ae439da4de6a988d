/**
 * How a model file is written — import or require, quotes, semicolons, what it calls `tf.layers` —
 * so that inserted code looks like the user's, and the one import of the generated norm-layers
 * module that refactors to NormScope's layers need.
 */
import ts from 'typescript';
import type { ParsedModelSource } from '../analysis/layerCalls';
import { NORMSCOPE_NORM_FACTORIES } from '../analysis/layerNames';
import { collectAlias, emptyAliases, isTfModule, requireSpecifier } from '../analysis/tfAliases';
import { normLayersSource, type NormLayersFormat } from '../layers/emit';
import { deleteListElements, eolOf, lineStart, startsLine } from './sourceText';
import type { ExtraFile, TextEdit } from './types';

export interface FileStyle {
  typeScript: boolean;
  module: 'esm' | 'cjs';
  quote: string;
  semicolon: boolean;
  eol: string;
  /** What goes before a tf.layers factory name: 'tf.layers.', 'L.', or '' for destructured factories. */
  layersPrefix: string;
}

const NORM_LAYERS_SPECIFIER = /^\.\/norm-layers(\.[cm]?[jt]s)?$/;

/** Specifier of a top-level import/require statement, or null for other statements. */
function importedModule(stmt: ts.Statement): string | null {
  if (ts.isImportDeclaration(stmt) && ts.isStringLiteral(stmt.moduleSpecifier)) return stmt.moduleSpecifier.text;
  if (
    ts.isImportEqualsDeclaration(stmt) &&
    ts.isExternalModuleReference(stmt.moduleReference) &&
    ts.isStringLiteral(stmt.moduleReference.expression)
  )
    return stmt.moduleReference.expression.text;
  if (ts.isVariableStatement(stmt)) {
    for (const d of stmt.declarationList.declarations) {
      const spec = requireSpecifier(d.initializer);
      if (spec !== null) return spec;
    }
  }
  return null;
}

function tfLayersPrefix(parsed: ParsedModelSource, text: string): string {
  // Prefer what the file already writes before a tf.layers factory.
  for (const call of parsed.calls) {
    if (call.via !== 'factory' || NORMSCOPE_NORM_FACTORIES.has(call.factory)) continue;
    const callee = text.slice(call.calleeStart, call.calleeEnd);
    if (callee.endsWith(`.${call.factory}`)) return callee.slice(0, -call.factory.length).replace(/\s+/g, '');
  }
  const aliases = emptyAliases();
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isImportEqualsDeclaration(node) || ts.isVariableDeclaration(node)) collectAlias(node, aliases);
    ts.forEachChild(node, visit);
  };
  visit(parsed.sourceFile);
  const [layers] = aliases.layers;
  if (layers) return `${layers}.`;
  const declared = [...aliases.namespaces].filter((n) => n !== 'tf');
  return `${/\btf\s*\./.test(text) || declared.length === 0 ? 'tf' : declared[0]}.layers.`;
}

export function fileStyle(parsed: ParsedModelSource, text: string): FileStyle {
  const fileName = parsed.fileName;
  const statements = parsed.sourceFile.statements;
  const typeScript = /\.[cm]?tsx?$/i.test(fileName);
  const hasImport = statements.some(
    (s) =>
      ts.isImportDeclaration(s) ||
      ts.isImportEqualsDeclaration(s) ||
      ts.isExportDeclaration(s) ||
      (ts.canHaveModifiers(s) && ts.getModifiers(s)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)),
  );
  const hasRequire = /\brequire\s*\(/.test(text);
  const module = hasImport ? 'esm' : hasRequire ? 'cjs' : /\.(mjs|mts|tsx?)$/i.test(fileName) ? 'esm' : 'cjs';
  const tfImport = statements.find((s) => {
    const m = importedModule(s);
    return m !== null && isTfModule(m);
  });
  const sample = tfImport ? tfImport.getText(parsed.sourceFile) : text;
  const quote = /"/.test(sample) && !/'/.test(sample) ? '"' : "'";
  const semicolon = tfImport ? /;\s*$/.test(tfImport.getText(parsed.sourceFile)) : /;\s*(\r?\n|$)/.test(text);
  return { typeScript, module, quote, semicolon, eol: eolOf(text), layersPrefix: tfLayersPrefix(parsed, text) };
}

/** The generated file for this model, and the specifier that imports it. */
export function normLayersFileFor(fileName: string, style: FileStyle, text: string): { file: ExtraFile; specifier: string } {
  const ext = /\.([cm]?[jt]sx?)$/i.exec(fileName)?.[1].toLowerCase() ?? 'js';
  let path: string;
  let format: NormLayersFormat;
  let specifier: string;
  if (style.typeScript) {
    format = 'ts';
    path = ext === 'mts' ? 'norm-layers.mts' : ext === 'cts' ? 'norm-layers.cts' : 'norm-layers.ts';
    // Under node16/nodenext resolution the file's relative imports carry '.js'; follow suit.
    const withJs = /from\s+['"]\.{1,2}\/[^'"]+\.js['"]/.test(text);
    specifier = ext === 'mts' ? './norm-layers.mjs' : ext === 'cts' ? './norm-layers.cjs' : withJs ? './norm-layers.js' : './norm-layers';
  } else {
    format = style.module;
    path = ext === 'mjs' ? 'norm-layers.mjs' : ext === 'cjs' ? 'norm-layers.cjs' : 'norm-layers.js';
    specifier =
      ext === 'mjs'
        ? './norm-layers.mjs'
        : ext === 'cjs'
          ? './norm-layers.cjs'
          : style.module === 'esm'
            ? './norm-layers.js'
            : './norm-layers';
  }
  return { file: { path, content: normLayersSource(format), ifExists: 'keep' }, specifier };
}

export interface NormLayersImport {
  edits: TextEdit[];
  /** How the file refers to each class: 'GroupNormalization', or 'nl.GroupNormalization' under a namespace import. */
  refs: Map<string, string>;
  file: ExtraFile;
}

/**
 * Makes `classNames` available from the generated norm-layers module: reuses an existing
 * import/require of it (adding missing names), or adds one after the file's last import.
 */
export function ensureNormLayersImport(
  parsed: ParsedModelSource,
  text: string,
  style: FileStyle,
  classNames: readonly string[],
  before: number,
): NormLayersImport {
  const sf = parsed.sourceFile;
  const { file, specifier } = normLayersFileFor(parsed.fileName, style, text);
  const refs = new Map<string, string>();
  const statements = sf.statements;
  const existing = statements.find((s) => NORM_LAYERS_SPECIFIER.test(importedModule(s) ?? ''));
  if (existing) {
    let names: ts.NodeArray<ts.ImportSpecifier | ts.BindingElement> | undefined;
    let namespace: string | undefined;
    if (ts.isImportDeclaration(existing)) {
      const bindings = existing.importClause?.namedBindings;
      if (bindings && ts.isNamedImports(bindings)) names = bindings.elements;
      else if (bindings && ts.isNamespaceImport(bindings)) namespace = bindings.name.text;
      else if (existing.importClause?.name) namespace = existing.importClause.name.text;
    } else if (ts.isImportEqualsDeclaration(existing)) {
      namespace = existing.name.text;
    } else if (ts.isVariableStatement(existing)) {
      const decl = existing.declarationList.declarations.find((d) => requireSpecifier(d.initializer) !== null)!;
      if (ts.isObjectBindingPattern(decl.name)) names = decl.name.elements;
      else if (ts.isIdentifier(decl.name)) namespace = decl.name.text;
    }
    if (namespace) {
      for (const c of classNames) refs.set(c, `${namespace}.${c}`);
      return { edits: [], refs, file };
    }
    if (names && names.length > 0) {
      const local = new Map<string, string>();
      for (const el of names) {
        const imported =
          el.propertyName && (ts.isIdentifier(el.propertyName) || ts.isStringLiteral(el.propertyName))
            ? el.propertyName.text
            : el.name.getText(sf);
        local.set(imported, el.name.getText(sf));
      }
      const missing = classNames.filter((c) => !local.has(c));
      for (const c of classNames) refs.set(c, local.get(c) ?? c);
      const edits = missing.length
        ? [{ start: names[names.length - 1].end, end: names[names.length - 1].end, newText: missing.map((m) => `, ${m}`).join('') }]
        : [];
      return { edits, refs, file };
    }
  }
  for (const c of classNames) refs.set(c, c);
  const q = style.quote;
  const semi = style.semicolon ? ';' : '';
  const line =
    style.module === 'esm'
      ? `import { ${classNames.join(', ')} } from ${q}${specifier}${q}${semi}`
      : `const { ${classNames.join(', ')} } = require(${q}${specifier}${q})${semi}`;
  // After the last top-level import/require that precedes the first use.
  const anchor = [...statements].reverse().find((s) => importedModule(s) !== null && s.end <= before);
  if (anchor) return { edits: [{ start: anchor.end, end: anchor.end, newText: style.eol + line }], refs, file };
  const first = statements.find((s) => !(ts.isExpressionStatement(s) && ts.isStringLiteral(s.expression)));
  const at = first ? first.getStart(sf) : text.length;
  return { edits: [{ start: at, end: at, newText: line + style.eol + (first ? style.eol : '') }], refs, file };
}

/**
 * Edits removing `className` from the file's norm-layers import once the last use is gone (a swap
 * away from it), so strict TypeScript settings do not flag an unused import. `uses` counts the
 * identifier's occurrences, the import's own included.
 */
export function dropNormLayersImport(parsed: ParsedModelSource, text: string, className: string, uses: number): TextEdit[] {
  const sf = parsed.sourceFile;
  let count = 0;
  const visit = (node: ts.Node): void => {
    if (ts.isIdentifier(node) && node.text === className) count++;
    ts.forEachChild(node, visit);
  };
  visit(sf);
  if (count !== uses) return [];
  for (const stmt of sf.statements) {
    if (!NORM_LAYERS_SPECIFIER.test(importedModule(stmt) ?? '')) continue;
    let elements: ts.NodeArray<ts.ImportSpecifier | ts.BindingElement> | undefined;
    if (
      ts.isImportDeclaration(stmt) &&
      stmt.importClause?.namedBindings &&
      ts.isNamedImports(stmt.importClause.namedBindings) &&
      !stmt.importClause.name
    ) {
      elements = stmt.importClause.namedBindings.elements;
    } else if (
      ts.isVariableStatement(stmt) &&
      stmt.declarationList.declarations.length === 1 &&
      ts.isObjectBindingPattern(stmt.declarationList.declarations[0].name)
    ) {
      elements = stmt.declarationList.declarations[0].name.elements;
    }
    const index = elements?.findIndex((e) => e.name.getText(sf) === className) ?? -1;
    if (!elements || index < 0) continue;
    if (elements.length > 1) return deleteListElements(text, sf, elements, new Set([index]));
    const start = stmt.getStart(sf);
    const end = /^[ \t]*\r?\n/.exec(text.slice(stmt.end));
    return [{ start: startsLine(text, start) ? lineStart(text, start) : start, end: stmt.end + (end ? end[0].length : 0), newText: '' }];
  }
  return [];
}
