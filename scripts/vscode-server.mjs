// Starts the real VS Code server (installed by setup-vscode-server.mjs) on 127.0.0.1 with NormScope
// loaded, for `npm start` and the e2e tests. Only loopback is ever bound.
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setupVscodeServer } from './setup-vscode-server.mjs';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Ask the OS for a free loopback port. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

let shipped;
/**
 * The files the .vsix ships, as vsce itself lists them from .vscodeignore: the one list of shipped files, for the
 * package (`npm run package`) and for the copy `npm start` and the e2e suites install. Read once per process.
 */
export function shippedFiles() {
  shipped ??= import('@vscode/vsce').then(({ listFiles, PackageManager }) =>
    listFiles({ cwd: repoRoot, packageManager: PackageManager.None }),
  );
  return shipped;
}

/**
 * Install NormScope as a user would have it: a copy of exactly the files the .vsix ships (VS Code writes metadata
 * into an installed extension's package.json, so the repo itself must not be linked). Returns the folder.
 */
export async function installCopy(extensionsDir) {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
  const target = join(extensionsDir, `${pkg.publisher}.${pkg.name}-${pkg.version}`);
  for (const file of await shippedFiles()) {
    mkdirSync(dirname(join(target, file)), { recursive: true });
    cpSync(join(repoRoot, file), join(target, file));
  }
  return target;
}

/**
 * What `npm start` adds for the demo: no prompts unrelated to NormScope. examples/ sits inside the NormScope
 * git checkout, so VS Code's git extension would offer to open "a repository found in parent folders".
 */
export const demoSettings = {
  'git.openRepositoryInParentFolders': 'never',
  'extensions.ignoreRecommendations': true,
  'workbench.tips.enabled': false,
  'typescript.disableAutomaticTypeAcquisition': true,
};

/** Install a .vsix the way a user does (`--install-extension`), into the fresh extensions folder. */
function installVsix(vscodeDir, vsix, dirs) {
  execFileSync(
    process.execPath,
    [
      join(vscodeDir, 'out', 'server-main.js'),
      '--install-extension',
      vsix,
      '--accept-server-license-terms',
      '--extensions-dir',
      dirs.extensionsDir,
      '--user-data-dir',
      dirs.userDataDir,
      '--server-data-dir',
      dirs.serverDataDir,
    ],
    { stdio: 'pipe', env: { ...process.env, VSCODE_AGENT_FOLDER: dirs.serverDataDir } },
  );
}

/**
 * Start a server. `settings` become the user settings of a fresh profile (e.g. workspace trust off for
 * test mode, which refuses dialogs). `vsix` installs that package instead of a copy of the checkout.
 * Resolves once the server listens.
 */
export async function startVscodeServer({ port, settings = {}, installExtension = true, vsix, stateDir, env = {} } = {}) {
  const vscodeDir = setupVscodeServer();
  const chosenPort = port || (await freePort());
  const dir = stateDir ?? mkdtempSync(join(tmpdir(), 'normscope-vscode-'));
  const extensionsDir = join(dir, 'extensions');
  const userDataDir = join(dir, 'user-data');
  const serverDataDir = join(dir, 'server-data');
  for (const d of [extensionsDir, join(userDataDir, 'User'), join(serverDataDir, 'data', 'Machine')]) mkdirSync(d, { recursive: true });
  const settingsJson = JSON.stringify(
    {
      'workbench.startupEditor': 'none',
      'telemetry.telemetryLevel': 'off',
      'update.mode': 'none',
      'extensions.autoCheckUpdates': false,
      // The npm package ships VS Code without its bundled TypeScript; point the built-in TS extension at ours.
      'typescript.tsdk': join(repoRoot, 'node_modules', 'typescript', 'lib'),
      ...settings,
    },
    null,
    2,
  );
  // The web client keeps user settings on the server under the user-data dir; machine settings under the server-data dir.
  writeFileSync(join(userDataDir, 'User', 'settings.json'), settingsJson);
  writeFileSync(join(serverDataDir, 'data', 'Machine', 'settings.json'), settingsJson);
  if (vsix) installVsix(vscodeDir, vsix, { extensionsDir, userDataDir, serverDataDir });
  else if (installExtension) await installCopy(extensionsDir);
  const args = [
    join(vscodeDir, 'out', 'server-main.js'),
    '--host',
    '127.0.0.1',
    '--port',
    String(chosenPort),
    '--without-connection-token',
    '--accept-server-license-terms',
    '--disable-telemetry',
    '--extensions-dir',
    extensionsDir,
    '--user-data-dir',
    userDataDir,
    '--server-data-dir',
    serverDataDir,
  ];
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env, VSCODE_AGENT_FOLDER: serverDataDir },
  });
  let log = '';
  const onData = (d) => {
    log += d.toString();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`VS Code server did not start within 60 s:\n${log}`)), 60_000);
    const check = () => {
      if (/Extension host agent listening on/.test(log)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`VS Code server exited with code ${code}:\n${log}`));
    });
  });
  const base = `http://127.0.0.1:${chosenPort}`;
  return {
    port: chosenPort,
    base,
    dir,
    child,
    log: () => log,
    /** URL that opens `folder`, optionally with a dev-extension test payload. */
    urlFor(folder, payload) {
      const q = new URLSearchParams({ folder });
      if (payload) q.set('payload', JSON.stringify(payload));
      return `${base}/?${q.toString()}`;
    },
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => {
          const t = setTimeout(() => {
            child.kill('SIGKILL');
            r();
          }, 5000);
          child.once('exit', () => {
            clearTimeout(t);
            r();
          });
        });
      }
      if (!stateDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
