// ESLint (flat config): holds the import boundaries of the architecture (tested in test/unit/lint-boundaries.test.ts),
// plus the typescript-eslint recommended rules that pass without mass edits, and a line-length limit. Layout itself
// is Prettier's (`npm run lint` runs both): ESLint judges code, Prettier formats it.
import stylistic from '@stylistic/eslint-plugin';
import tseslint from 'typescript-eslint';

const VSCODE = {
  name: 'vscode',
  message: 'Only src/editor, src/panel and src/extension.ts may import vscode.',
};

/** A no-restricted-imports rule forbidding the given path patterns (regexes on the import text), and vscode unless allowed. */
function boundaries(patterns = [], { vscode = false } = {}) {
  return { 'no-restricted-imports': ['error', { paths: vscode ? [] : [VSCODE], patterns }] };
}

/** Forbids importing any of `folders` (siblings under src/), from any depth. */
function never(folders, message) {
  return { regex: `^(\\.\\./)+(${folders.join('|')})(/|$)`, message };
}

/**
 * Config entries for src/<folder>: a relative import that leaves the folder goes only to `allowed` (one entry per
 * depth, since the regex sees the import's text, not the resolved path).
 */
function onlyImports(folder, allowed, message, options) {
  return [1, 2, 3].map((depth) => ({
    files: [`src/${folder}/${'*/'.repeat(depth - 1)}*.ts`],
    rules: boundaries([{ regex: `^${'\\.\\./'.repeat(depth)}(?!(${[folder, ...allowed].join('|')})(/|$))`, message }], options),
  }));
}

const workerNeverImportsHost = never(
  ['runner', 'editor', 'panel', 'host', 'cli', 'runlog', 'library'],
  'src/worker runs in its own process: it must not import the host side (src/runner, src/editor, src/panel, src/host, src/cli) ' +
    'nor src/runlog or src/library (shared code lives in src/protocol, src/diagnosis, src/userCode).',
);
const noWorkerInternals = never(
  ['worker'],
  "src/worker is the training process, not a library: import the detectors, findings and report from src/diagnosis, the user's model file helpers from src/userCode.",
);
const runLogShared = never(
  ['editor', 'panel', 'host'],
  'src/runlog is shared by the CLI, the runner, the library and the editor: it must not import src/editor, src/panel or src/host.',
);
const libraryInUserProcess = never(
  ['editor', 'panel', 'host', 'runner', 'cli'],
  "src/library runs in the user's own training process: it imports src/runlog, src/worker, src/diagnosis, src/userCode and src/protocol only.",
);
const panelNotEditor = never(
  ['editor', 'worker'],
  'src/panel and src/editor never import each other: what both need lives in src/host (the editor reaches the panel through host/panelView).',
);
const editorNotPanel = never(
  ['panel', 'worker'],
  'src/editor and src/panel never import each other: what both need lives in src/host (the editor reaches the panel through host/panelView).',
);
const webviewOnly = (up) => ({
  regex: `^${up}(?!src/protocol(/|$))`,
  message: 'webview/ is a browser bundle: it imports only src/protocol and its own files.',
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.tools/**', 'test/fixtures/**', 'examples/**', 'media/**', 'python/**', 'docs/**'] },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommended],
    rules: {
      // `_name` marks a parameter kept for an interface, `{ dropped, ...rest }` a key left out on purpose.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    // A function reads as one screen: split longer ones into named steps (set-up / loop / tear-down, one rule each).
    // The exceptions say why in an eslint-disable comment at the function. Tests are lists of cases: not counted.
    files: ['src/**/*.ts', 'webview/**/*.ts'],
    rules: { 'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true }] },
  },
  {
    // The layer classes extend the caller's tf.layers.Layer, so they are defined inside defineNormLayers(tf); the file's
    // text is also what users get as norm-layers.js, so the exception lives here, not in a comment there.
    files: ['src/layers/defineNormLayers.ts'],
    rules: { 'max-lines-per-function': 'off' },
  },
  {
    files: ['**/*.ts', '**/*.mjs'],
    plugins: { '@stylistic': stylistic },
    rules: {
      // Prettier wraps code at 140; this catches what it cannot (comments). User-facing messages stay on one
      // line each so a message seen in the UI can be found with grep.
      '@stylistic/max-len': [
        'error',
        { code: 140, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true, ignoreUrls: true },
      ],
    },
  },
  { files: ['src/**/*.ts', 'webview/**/*.ts'], rules: boundaries() },
  { files: ['src/extension.ts'], rules: boundaries([], { vscode: true }) },
  { files: ['src/editor/**/*.ts'], rules: boundaries([editorNotPanel], { vscode: true }) },
  { files: ['src/panel/**/*.ts'], rules: boundaries([panelNotEditor], { vscode: true }) },
  { files: ['src/worker/**/*.ts'], rules: boundaries([workerNeverImportsHost]) },
  { files: ['src/runner/**/*.ts', 'src/cli/**/*.ts'], rules: boundaries([noWorkerInternals]) },
  { files: ['src/runlog/**/*.ts'], rules: boundaries([runLogShared, noWorkerInternals]) },
  { files: ['src/library/**/*.ts'], rules: boundaries([libraryInUserProcess]) },
  ...onlyImports(
    'diagnosis',
    ['protocol'],
    'src/diagnosis is a pure library (worker, runner, runlog, CLI, library): it imports only src/protocol.',
  ),
  ...onlyImports(
    'userCode',
    ['protocol'],
    "src/userCode (compiling and checking the user's model file) is shared: it imports only src/protocol.",
  ),
  ...onlyImports(
    'host',
    ['protocol'],
    'src/host is what the editor and the panel share: it imports only src/protocol, never vscode, src/editor or src/panel.',
  ),
  { files: ['webview/*.ts'], rules: boundaries([webviewOnly('\\.\\./')]) },
  { files: ['webview/*/**/*.ts'], rules: boundaries([webviewOnly('\\.\\./\\.\\./')]) },
);
