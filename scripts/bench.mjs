// `npm run bench [-- --json] [--only backends|overhead|script|landscape|analysis|activation|pytorch|runlog|follow|watch]`:
// NormScope's
// benchmarks, measured in one run on this machine so that ratios are comparable (machines are shared and noisy:
// compare ratios, not absolute times).
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from './vscode-server.mjs';

const require = createRequire(import.meta.url);
const { values } = parseArgs({ options: { json: { type: 'boolean' }, only: { type: 'string' }, 'no-build': { type: 'boolean' } } });
if (!values['no-build'])
  execFileSync(process.execPath, [join(repoRoot, 'esbuild.mjs')], { stdio: ['ignore', 'ignore', 'inherit'], cwd: repoRoot });

const out = { machine: { node: process.version, cpus: (await import('node:os')).cpus().length } };
if (!values.only || values.only === 'backends') {
  const { benchBackends } = require(join(repoRoot, 'dist/test/bench/backends.js'));
  Object.assign(out, await benchBackends());
}
if (!values.only || values.only === 'overhead') {
  const { benchOverhead } = require(join(repoRoot, 'dist/test/bench/overhead.js'));
  out.overhead = await benchOverhead();
}
if (!values.only || values.only === 'script') {
  const { benchScriptOverhead } = require(join(repoRoot, 'dist/test/bench/scriptOverhead.js'));
  out.scriptOverhead = await benchScriptOverhead();
}
if (!values.only || values.only === 'landscape') {
  const { benchLandscape } = require(join(repoRoot, 'dist/test/bench/landscape.js'));
  out.landscape = await benchLandscape();
}
if (!values.only || values.only === 'analysis') {
  const { benchAnalysis } = require(join(repoRoot, 'dist/test/bench/analysis.js'));
  out.analysis = await benchAnalysis();
}
if (!values.only || values.only === 'activation') {
  const { benchActivation } = require(join(repoRoot, 'dist/test/bench/activation.js'));
  out.startup = await benchActivation();
}
if (!values.only || values.only === 'pytorch') {
  const { benchPytorch } = require(join(repoRoot, 'dist/test/bench/pytorch.js'));
  out.pytorch = await benchPytorch();
}
if (!values.only || values.only === 'runlog') {
  const { benchRunlog } = require(join(repoRoot, 'dist/test/bench/runlog.js'));
  out.runlog = await benchRunlog();
}
if (!values.only || values.only === 'follow') {
  const { benchFollow } = require(join(repoRoot, 'dist/test/e2e/webview-follow.js'));
  out.follow = await benchFollow();
}
if (!values.only || values.only === 'watch') {
  const { benchWatch } = require(join(repoRoot, 'dist/test/bench/watch.js'));
  out.watch = await benchWatch();
}
if (values.json) {
  process.stdout.write(`${JSON.stringify(out)}\n`);
} else {
  console.log(JSON.stringify(out, null, 2));
}
