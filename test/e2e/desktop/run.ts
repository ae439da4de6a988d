/**
 * `npm run test:desktop`: the same extension-host suite in VS Code desktop through @vscode/test-electron.
 * It DOWNLOADS VS Code on first use, so it needs a network and is not part of `npm test` or CI;
 * offline, `npm test` runs the suite in the VS Code server instead (scripts/e2e.mjs).
 */
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runTests } from '@vscode/test-electron';

async function main(): Promise<void> {
  const root = resolve(__dirname, '..', '..', '..', '..');
  const workspace = mkdtempSync(join(tmpdir(), 'normscope-desktop-'));
  cpSync(join(root, 'test', 'fixtures', 'workspace'), workspace, { recursive: true });
  await runTests({
    extensionDevelopmentPath: root,
    extensionTestsPath: join(root, 'dist', 'test', 'e2e', 'host', 'index.js'),
    launchArgs: [workspace, '--disable-workspace-trust', '--disable-extensions'],
  });
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
