/**
 * Entry point of the extension-host suite (`extensionTestsPath`): runs mocha *inside* the Node extension host
 * of a real VS Code and writes the results to NORMSCOPE_E2E_RESULTS for the driver (scripts/e2e.mjs).
 * The same module serves `npm run test:desktop` (@vscode/test-electron), where the file is optional.
 */
import { writeFileSync } from 'node:fs';
import * as vscode from 'vscode';
import Mocha from 'mocha';

interface TestResult {
  title: string;
  ok: boolean;
  error?: string;
  ms?: number;
}

export async function run(): Promise<void> {
  const resultsFile = process.env.NORMSCOPE_E2E_RESULTS;
  const tests: TestResult[] = [];
  const write = (finished: boolean, error?: string) => {
    if (resultsFile) {
      writeFileSync(resultsFile, JSON.stringify({ finished, error, tests, nodeVersion: process.version, vscodeVersion: vscode.version }));
    }
  };
  const mocha = new Mocha({ ui: 'tdd', timeout: 120_000, color: false, grep: process.env.NORMSCOPE_E2E_GREP || undefined });
  // Register the tdd globals, then load the suites (bundled, so they run on require).
  mocha.suite.emit('pre-require', globalThis, 'normscope-suites', mocha);
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- must load after pre-require
  require('./suites');
  try {
    const failures = await new Promise<number>((resolve) => {
      const runner = mocha.run(resolve);
      runner.on('pass', (t) => tests.push({ title: t.fullTitle(), ok: true, ms: t.duration }));
      runner.on('fail', (t, err) => tests.push({ title: t.fullTitle(), ok: false, error: err?.stack ?? String(err), ms: t.duration }));
    });
    write(true);
    if (failures > 0 && !resultsFile) throw new Error(`${failures} extension-host tests failed`);
  } catch (e) {
    write(true, e instanceof Error ? e.stack : String(e));
    throw e;
  }
}
