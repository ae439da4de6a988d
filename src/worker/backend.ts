/**
 * Picks the tfjs backend a run trains on. `auto` tries native TensorFlow (tfjs-node, optional and
 * loaded only if installed), then WebAssembly, then plain JavaScript, and reports why each one it
 * passed over was skipped.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { BackendChoice, BackendName, BackendReport } from '../protocol';
import { UserCodeError } from '../userCode/errors';
import { registerFastKernels } from './kernels';

/** Where the .wasm binaries are: next to the bundle (dist/wasm/), or in node_modules when unbundled (tests). */
export function wasmDirectory(): string | null {
  const candidates = [path.join(__dirname, 'wasm/')];
  try {
    candidates.push(path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist/'));
  } catch {
    /* not installed next to us: only the bundled copy counts */
  }
  return candidates.find((dir) => fs.existsSync(path.join(dir, 'tfjs-backend-wasm.wasm'))) ?? null;
}

/** Loads tfjs-node, which registers the 'tensorflow' backend in the shared global engine. */
function loadTensorflow(): void {
  // A plain require of an external module: esbuild leaves it out of the bundle, and an absent
  // package throws MODULE_NOT_FOUND here instead of at start-up.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- see above
  require('@tensorflow/tfjs-node');
}

/**
 * Emscripten's runtime (the wasm backend) installs process handlers that rethrow every uncaught
 * exception and unhandled rejection, which would turn one bad user callback into a dead worker.
 */
async function withoutEmscriptenHandlers<T>(body: () => Promise<T>): Promise<T> {
  const events = ['uncaughtException', 'unhandledRejection'];
  const listeners = (event: string) => process.listeners(event as 'uncaughtException') as ((...args: unknown[]) => void)[];
  const before = events.map((event) => new Set(listeners(event)));
  try {
    return await body();
  } finally {
    events.forEach((event, i) => {
      for (const listener of listeners(event)) {
        if (!before[i].has(listener)) process.off(event, listener);
      }
    });
  }
}

async function tryBackend(name: BackendName): Promise<string | null> {
  try {
    if (name === 'tensorflow') {
      if (!tf.findBackendFactory('tensorflow')) loadTensorflow();
    } else if (name === 'wasm') {
      const dir = wasmDirectory();
      if (!dir) return 'its .wasm binaries were not found next to the worker';
      setWasmPaths(dir);
    }
    if (!(await withoutEmscriptenHandlers(() => tf.setBackend(name)))) return `tf.setBackend('${name}') failed to initialize`;
    await tf.ready();
    if (name === 'wasm' || name === 'cpu') registerFastKernels(name);
    return null;
  } catch (e) {
    const message = (e as Error).message ?? String(e);
    if (name === 'tensorflow' && /Cannot find module/.test(message)) return '@tensorflow/tfjs-node is not installed';
    return message.split('\n')[0];
  }
}

// Importing the wasm backend registers it with a higher priority than cpu, so the first tf call
// would start it from the default (wrong) path. Point it at its binaries, and run on cpu (sync to
// start) until a run selects its backend, so that tf.memory() works from the first moment.
{
  const dir = wasmDirectory();
  if (dir) setWasmPaths(dir);
  void tf.setBackend('cpu');
}

let current: BackendReport | null = null;
let currentChoice: BackendChoice | null = null;

/** Switches the engine to the chosen backend (cached: a second run with the same choice is instant). */
export async function selectBackend(choice: BackendChoice): Promise<BackendReport> {
  if (current && currentChoice === choice && tf.getBackend() === current.name) {
    return { name: current.name, notes: [...current.notes] };
  }
  const order: BackendName[] = choice === 'auto' ? ['tensorflow', 'wasm', 'cpu'] : [choice];
  const notes: string[] = [];
  for (const name of order) {
    const skipped = await tryBackend(name);
    if (skipped === null) {
      current = { name, notes: [...notes] };
      currentChoice = choice;
      return { name, notes: [...notes] };
    }
    notes.push(`${name}: ${skipped}`);
  }
  throw new UserCodeError('backend', `backend '${choice}' is not available (${notes.join('; ')})`, null);
}
