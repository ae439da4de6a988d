// Installs the VS Code server (from the `code-server` npm package) into .tools/ so that the e2e tests
// and `npm start` can run a real VS Code offline. Idempotent: a marker file records a finished setup.
//
// Why not a devDependency: code-server's own postinstall downloads things and fails offline, which would
// break `npm install`. Steps (see CONTRIBUTING.md "How the e2e harness works"):
//   1. npm install code-server@4.96.4 --ignore-scripts  (4.96.x is the last line that runs on Node 20)
//   2. in lib/vscode: drop npm-shrinkwrap.json (pins a git URL), install its production deps without scripts,
//      rebuild the three native modules the server needs, and link node_modules.asar -> node_modules.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CODE_SERVER_VERSION = '4.96.4';
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const toolDir = join(root, '.tools', 'code-server');
export const vscodeDir = join(toolDir, 'node_modules', 'code-server', 'lib', 'vscode');
const marker = join(toolDir, `.ready-${CODE_SERVER_VERSION}`);

function npm(args, cwd) {
  console.log(`[setup-vscode-server] npm ${args.join(' ')}  (in ${cwd})`);
  execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, stdio: 'inherit', env: process.env });
}

export function vscodeServerReady() {
  return existsSync(marker) && existsSync(join(vscodeDir, 'out', 'server-main.js'));
}

export function setupVscodeServer() {
  if (vscodeServerReady()) return vscodeDir;
  mkdirSync(toolDir, { recursive: true });
  writeFileSync(join(toolDir, 'package.json'), JSON.stringify({ name: 'normscope-tools', private: true }, null, 2));
  npm(['install', '--ignore-scripts', `code-server@${CODE_SERVER_VERSION}`], toolDir);
  rmSync(join(vscodeDir, 'npm-shrinkwrap.json'), { force: true });
  npm(['install', '--omit=dev', '--ignore-scripts'], vscodeDir);
  // kerberos is left out on purpose: it needs libkrb5-dev and the server runs without it.
  npm(['rebuild', '@vscode/spdlog', 'node-pty', 'native-watchdog'], vscodeDir);
  const asar = join(vscodeDir, 'node_modules.asar');
  if (!existsSync(asar)) symlinkSync('node_modules', asar);
  writeFileSync(marker, new Date().toISOString());
  return vscodeDir;
}

/** The VS Code version the server reports (lib/vscode/product.json). */
export function vscodeServerVersion() {
  const product = JSON.parse(readFileSync(join(vscodeDir, 'product.json'), 'utf8'));
  return `${product.version ?? '?'} (code-server ${CODE_SERVER_VERSION}, commit ${String(product.commit ?? '?').slice(0, 10)})`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  setupVscodeServer();
  console.log(`VS Code server ready: ${vscodeServerVersion()}`);
}
