// Measures what the supervision of user code costs and how fast it reacts, printing one JSON object:
//   firstProgressMs   run start → first progress event on a warm worker: runs back to back, or 1.5 s apart
//                     (restricted: the host compiles the model; off: the worker does)
//   cancelBusyMs      SIGINT to the CLI's process group during `for(;;){}` after some steps → CLI exit (code too)
//   parentKilledMs    kill -9 of the CLI during `for(;;){}` → its worker process gone
//   pytorchCancelSpinning  the same Ctrl-C while a PyTorch model's forward spins → CLI exit (code too)
//   pytorchParentKilled    kill -9 of the CLI then → every process of the engine's group gone (engine, reaper, child)
// Usage: node scripts/measure-supervision.mjs (after `npm run build`)
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist/cli.js');
const fixture = (name) => join(root, 'test/fixtures/models', name);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** Running (a zombie waiting for PID 1 to reap it runs nothing and holds no memory). */
const alive = (pid) => {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1][0] !== 'Z';
  } catch {
    return false;
  }
};

/** Child pids of `pid` (Linux /proc). */
async function childrenOf(pid) {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .filter((p) => {
      try {
        return Number(readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' ')[1]) === pid;
      } catch {
        return false;
      }
    });
}

async function workerOf(cliPid) {
  for (let i = 0; i < 200; i++) {
    for (const child of await childrenOf(cliPid)) {
      if (readFileSync(`/proc/${child}/cmdline`, 'utf8').includes('worker.js')) return child;
    }
    await sleep(25);
  }
  throw new Error('no worker process appeared');
}

async function firstProgress(permissions, gapMs) {
  // The host's client in a fresh process, as the CLI and the editor use it.
  const script = `
    const { WorkerClient } = require(${JSON.stringify(join(root, 'dist/test/bench/supervision-client.js'))});
    (async () => {
      const c = new WorkerClient({ workerPath: ${JSON.stringify(join(root, 'dist/worker.js'))}, runTimeoutMs: 60000 });
      await c.warmUp();
      const out = [];
      for (let i = 0; i < 4; i++) {
        await new Promise((r) => setTimeout(r, ${gapMs}));
        const t = performance.now();
        let first = null;
        await c.run({ file: ${JSON.stringify(fixture('module-exports-model.js'))}, steps: 3, backend: 'auto', seed: 1, samplingInterval: 1, permissions: '${permissions}' },
          (e) => { if (e.type === 'progress' && first === null) first = performance.now() - t; });
        out.push(Math.round(first));
      }
      c.dispose();
      process.stdout.write(JSON.stringify(out));
    })();`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let text = '';
  child.stdout.on('data', (d) => {
    text += d;
  });
  await new Promise((r) => child.on('exit', r));
  return JSON.parse(text);
}

async function cancelBusy() {
  const child = spawn(process.execPath, [cli, 'check', fixture('../workspace/busy.js')], { stdio: 'ignore', detached: true });
  await workerOf(child.pid);
  await sleep(3000);
  const t = performance.now();
  process.kill(-child.pid, 'SIGINT'); // the whole process group, like Ctrl-C in a terminal
  const code = await new Promise((r) => child.on('exit', (c) => r(c)));
  return { ms: Math.round(performance.now() - t), exitCode: code };
}

async function parentKilled() {
  const child = spawn(process.execPath, [cli, 'check', fixture('errors/infinite-loop.js')], { stdio: 'ignore' });
  const worker = await workerOf(child.pid);
  await sleep(2000);
  const t = performance.now();
  process.kill(child.pid, 'SIGKILL');
  while (alive(worker) && performance.now() - t < 10_000) await sleep(10);
  return { ms: Math.round(performance.now() - t), workerAlive: alive(worker) };
}

/** The running processes of process group `pgid`. */
function group(pgid) {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .filter((p) => {
      try {
        const [state, , pg] = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' ');
        return Number(pg) === pgid && state !== 'Z';
      } catch {
        return false;
      }
    });
}

/** The CLI checking test/fixtures/pytorch/lifetime/spin_forward.py, once its forward spins: { child, members }. */
async function pytorchSpinning() {
  const file = join(root, 'test/fixtures/pytorch/lifetime/spin_forward.py');
  const child = spawn(process.execPath, [cli, 'check', file], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  while (!stderr.includes('spinning in forward')) {
    if (child.exitCode !== null) throw new Error(`the PyTorch check ended: ${stderr}`);
    await sleep(20);
  }
  const engine = (await childrenOf(child.pid)).find((p) => readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('normscope.engine'));
  return { child, members: group(engine) };
}

async function pytorchCancelSpinning() {
  const { child, members } = await pytorchSpinning();
  const t = performance.now();
  process.kill(-child.pid, 'SIGINT');
  const code = await new Promise((r) => child.on('exit', (c) => r(c)));
  return { ms: Math.round(performance.now() - t), exitCode: code, processes: members.length, left: members.filter(alive).length };
}

async function pytorchParentKilled() {
  const { child, members } = await pytorchSpinning();
  const t = performance.now();
  process.kill(child.pid, 'SIGKILL');
  while (members.some(alive) && performance.now() - t < 10_000) await sleep(5);
  return { ms: Math.round(performance.now() - t), processes: members.length, left: members.filter(alive).length };
}

const result = {
  firstProgressMs: {
    restrictedBackToBack: await firstProgress('restricted', 0),
    restrictedAfterPause: await firstProgress('restricted', 1500),
    offAfterPause: await firstProgress('off', 1500),
  },
  cancelBusy: await cancelBusy(),
  parentKilled: await parentKilled(),
  pytorchCancelSpinning: await pytorchCancelSpinning(),
  pytorchParentKilled: await pytorchParentKilled(),
};
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
