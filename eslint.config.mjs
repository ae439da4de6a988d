// ESLint (flat config): holds the import boundaries from README's architecture section, plus the
// typescript-eslint recommended rules that pass without mass edits, and a line-length limit. Layout itself is
// Prettier's (`npm run lint` runs both): ESLint judges code, Prettier formats it.
import stylistic from '@stylistic/eslint-plugin';
import tseslint from 'typescript-eslint';

const VSCODE = { name: 'vscode', message: 'Only src/editor, src/panel and src/extension.ts may import vscode.' };

/** A no-restricted-imports rule: always forbids vscode, plus the given path patterns (regexes on the import text). */
function boundaries(...patterns) {
  return { 'no-restricted-imports': ['error', { paths: [VSCODE], patterns }] };
}

const workerNeverImportsHost = {
  regex: '^(\\.\\./)+(runner|editor|panel)(/|$)',
  message:
    'src/worker runs in its own process: it must not import src/runner, src/editor or src/panel (shared types live in src/protocol).',
};
const runLogShared = {
  regex: '^(\\.\\./)+(editor|panel)(/|$)',
  message: 'src/runlog is shared by the CLI, the runner, the library and the editor: it must not import src/editor or src/panel.',
};
const libraryInUserProcess = {
  regex: '^(\\.\\./)+(editor|panel|runner|cli)(/|$)',
  message: "src/library runs in the user's own training process: it imports src/runlog, src/worker and src/protocol only.",
};
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
  { files: ['src/editor/**/*.ts', 'src/panel/**/*.ts', 'src/extension.ts'], rules: { 'no-restricted-imports': 'off' } },
  { files: ['src/worker/**/*.ts'], rules: boundaries(workerNeverImportsHost) },
  { files: ['src/runlog/**/*.ts'], rules: boundaries(runLogShared) },
  { files: ['src/library/**/*.ts'], rules: boundaries(libraryInUserProcess) },
  { files: ['webview/*.ts'], rules: boundaries(webviewOnly('\\.\\./')) },
  { files: ['webview/*/**/*.ts'], rules: boundaries(webviewOnly('\\.\\./\\.\\./')) },
);
