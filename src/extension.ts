/**
 * NormScope's entry point: builds the one context that owns every disposable and wires the editor
 * features (src/editor), the training-health panel (src/panel) and the training worker (src/runner).
 */
import * as vscode from 'vscode';
import { NormCodeActionProvider } from './editor/codeActions';
import { registerCommands } from './editor/commands';
import { ModelCodeLensProvider } from './editor/codeLens';
import { NormScopeContext } from './editor/context';
import { FindingDiagnostics } from './editor/diagnostics';
import { FINDINGS_DOC } from './editor/findingRanges';
import { useCodeCache, whenAnalysisLoads } from './editor/analysis';
import { DocumentIndex, MODEL_SELECTOR } from './editor/documentIndex';
import { LayerHoverProvider } from './editor/hover';
import { lintPython, PythonLintCache } from './runner/pythonLint';
import { PythonModels } from './editor/pythonModels';
import { PYTHON_SELECTOR, PythonCodeLensProvider, PythonHoverProvider } from './editor/pythonEditor';
import { LayersTreeProvider } from './editor/layersTree';
import { PanelBridge } from './panel/panelBridge';
import { RunResults } from './host/runResults';
import { applyNormAt, registerRefactorCommands } from './editor/refactorCommands';
import { RunManager } from './editor/runs';
import { registerWalkthroughCommands } from './editor/walkthrough';
import { PythonScriptLensProvider, registerScriptRuns, ScriptLensProvider } from './editor/scriptRuns';
import { HealthPanel } from './panel/healthPanel';
import { errorMessage } from './protocol';
import { registerFollow, type FollowManager } from './editor/followCommands';

/** Set by the first line of dist/extension.js (esbuild.mjs banner): when the bundle started loading. */
declare const __normscopeLoadStart: number | undefined;

let context: NormScopeContext | undefined;

/** What activate() returns: used by the extension-host tests to look inside. */
export interface NormScopeApi {
  results: RunResults;
  runs: RunManager;
  diagnostics: FindingDiagnostics;
  /** The run log being followed (docs/follow.md). */
  follow: FollowManager;
  /** Milliseconds from the bundle's first line to activate(), and inside activate(). */
  timing: { loadMs: number | null; activateMs: number };
}

export function activate(extension: vscode.ExtensionContext): NormScopeApi {
  const started = performance.now();
  const ctx = (context = new NormScopeContext(extension));
  extension.subscriptions.push(ctx);
  ctx.log.info(`NormScope ${extension.extension.packageJSON.version} activating (VS Code ${vscode.version}, Node ${process.version})`);

  whenAnalysisLoads((ms, how) =>
    ctx.log.info(`TypeScript analysis (dist/analysis.js) loaded on first use in ${ms.toFixed(1)} ms (${how})`),
  );
  useCodeCache(ctx.distPath('analysis.js'), vscode.Uri.joinPath(extension.globalStorageUri, 'code-cache').fsPath, (e) =>
    ctx.log.warn(`code cache of dist/analysis.js: ${errorMessage(e)}`),
  );
  const index = ctx.own(new DocumentIndex(ctx.log));
  const results = new RunResults();
  const panel = ctx.own(new PanelBridge(ctx.extensionUri, results, (file, line, norm) => applyNormAt(ctx, index, file, line, norm)));
  const runs = ctx.own(new RunManager(ctx, results, (file, e) => panel.forward(file, e)));
  const pythonLints = new PythonLintCache((file, text) =>
    lintPython(file, extension.asAbsolutePath('python'), { explicit: ctx.settings.pythonPath || undefined }, undefined, text),
  );
  const diagnostics = ctx.own(
    new FindingDiagnostics(
      index,
      results,
      ctx.log,
      vscode.Uri.joinPath(extension.extensionUri, ...FINDINGS_DOC.split('/')),
      async (file, text) => (await pythonLints.get(file, text)).findings,
    ),
  );
  const lenses = ctx.own(new ModelCodeLensProvider(ctx, index, results));
  const tree = ctx.own(new LayersTreeProvider(results));

  ctx.own(vscode.window.registerWebviewPanelSerializer(HealthPanel.viewType, panel.serializer));
  ctx.own(vscode.languages.registerHoverProvider(MODEL_SELECTOR, new LayerHoverProvider(index, results)));
  ctx.own(vscode.languages.registerCodeLensProvider(MODEL_SELECTOR, lenses));
  ctx.own(vscode.languages.registerHoverProvider(PYTHON_SELECTOR, new PythonHoverProvider(results)));
  const pythonModels = new PythonModels(extension.workspaceState, pythonLints);
  const pythonLenses = ctx.own(new PythonCodeLensProvider(ctx, results, pythonModels));
  ctx.own(vscode.languages.registerCodeLensProvider(PYTHON_SELECTOR, pythonLenses));
  ctx.own(
    vscode.languages.registerCodeActionsProvider(
      MODEL_SELECTOR,
      new NormCodeActionProvider(index, (uri, d) => diagnostics.findingFor(uri, d), ctx.log),
      { providedCodeActionKinds: NormCodeActionProvider.kinds },
    ),
  );
  const view = ctx.own(vscode.window.createTreeView('normscope.layers', { treeDataProvider: tree, showCollapseAll: true }));
  ctx.own(
    view.onDidChangeSelection((e) => {
      const node = e.selection[0];
      if (node?.kind === 'layer') panel.focusLayer(node.file, node.index);
    }),
  );
  ctx.own(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('normscope')) {
        ctx.log.info('settings changed; they apply to the next run');
        lenses.refresh();
        pythonLenses.refresh();
      }
    }),
  );
  registerCommands(ctx, runs, panel, results, index, pythonModels);
  registerRefactorCommands(ctx, index, runs, panel);
  registerWalkthroughCommands(ctx);
  ctx.own(vscode.languages.registerCodeLensProvider(MODEL_SELECTOR, new ScriptLensProvider(ctx)));
  ctx.own(vscode.languages.registerCodeLensProvider(PYTHON_SELECTOR, ctx.own(new PythonScriptLensProvider(ctx, pythonLints))));
  registerScriptRuns(ctx, runs, panel);
  const follow = registerFollow(ctx, results, panel);
  const timing = {
    loadMs: typeof __normscopeLoadStart === 'number' ? started - __normscopeLoadStart : null,
    activateMs: performance.now() - started,
  };
  ctx.log.info(`activated in ${timing.activateMs.toFixed(1)} ms (bundle load to activate: ${timing.loadMs?.toFixed(1) ?? '?'} ms)`);
  return { results, runs, diagnostics, follow, timing };
}

export function deactivate(): void {
  context?.dispose();
  context = undefined;
}
