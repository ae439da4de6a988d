// `npm start [-- <folder>] [--port N]`: build, start VS Code (server) with NormScope loaded on 127.0.0.1,
// open the folder (default: examples/) and serve until Ctrl-C.
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { demoSettings, repoRoot, startVscodeServer } from './vscode-server.mjs';

const { values, positionals } = parseArgs({
  args: process.argv.slice(2),
  allowPositionals: true,
  options: { port: { type: 'string' }, 'no-build': { type: 'boolean' } },
});
const folder = resolve(positionals[0] ?? join(repoRoot, 'examples'));
if (!existsSync(folder) || !statSync(folder).isDirectory()) {
  console.error(`NormScope: ${folder} is not a folder`);
  process.exit(2);
}
const port = values.port ? Number(values.port) : 0;
if (values.port && !(Number.isInteger(port) && port > 0 && port < 65536)) {
  console.error(`NormScope: --port must be a port number, got '${values.port}'`);
  process.exit(2);
}
if (!values['no-build']) execFileSync(process.execPath, [join(repoRoot, 'esbuild.mjs')], { stdio: 'inherit', cwd: repoRoot });

const server = await startVscodeServer({ port, settings: demoSettings });
console.log(`NormScope: ${server.base}/?folder=${folder}`);
const stop = async () => {
  await server.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
server.child.once('exit', (code) => {
  console.error(`NormScope: the VS Code server stopped (code ${code}).\n${server.log().slice(-2000)}`);
  process.exit(1);
});
