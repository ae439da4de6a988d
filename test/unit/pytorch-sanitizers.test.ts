// The C annex (python/normscope/measuring: fused_stats.c, hooks*.c) under AddressSanitizer and
// UndefinedBehaviorSanitizer: the parity check (test/unit/pytorch_meter_check.py: C ↔ torch ↔ float64) with the
// library built with -fsanitize=address,undefined and libasan preloaded into the (uninstrumented) interpreter. Any
// out-of-bounds access, use after free or undefined behaviour aborts the run. Skipped where gcc has no libasan.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { resolvePython } from '../../src/runner/pythonInterpreter';
import { pythonEnginePath } from '../../src/runner/pythonClient';
import { WORKER } from './engine-fixtures';

const CHECK = path.join(pythonEnginePath(WORKER), '..', 'test', 'unit', 'pytorch_meter_check.py');
const SANITIZE = '-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined';

function run(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { env, timeout: 300_000, maxBuffer: 16 << 20 }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

test('the parity check passes with the C library built under AddressSanitizer and UBSan, which are live', async (t) => {
  const asan = (await run('gcc', ['-print-file-name=libasan.so'], process.env)).stdout.trim();
  if (!path.isAbsolute(asan) || !fs.existsSync(asan)) {
    t.skip('no gcc with libasan here');
    return;
  }
  const python = (await resolvePython({})).path;
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'normscope-asan-'));
  t.after(() => fs.rmSync(cache, { recursive: true, force: true }));
  const env = {
    ...process.env,
    PYTHONPATH: pythonEnginePath(WORKER),
    PYTHONDONTWRITEBYTECODE: '1',
    XDG_CACHE_HOME: cache,
    NORMSCOPE_STRICT_C: '1',
    NORMSCOPE_CFLAGS: SANITIZE,
    LD_PRELOAD: asan,
    // Python and torch allocate for the life of the process: their leaks are not the C annex's.
    ASAN_OPTIONS: 'detect_leaks=0',
    UBSAN_OPTIONS: 'print_stacktrace=1',
  };
  for (const seed of ['0', '1']) {
    const checked = await run(python, [CHECK, seed], env);
    assert.equal(checked.code, 0, checked.stderr.slice(-4000));
    const result = JSON.parse(checked.stdout.trim().split('\n').pop()!) as { mismatches: unknown[]; compiled: boolean; headers: boolean };
    assert.deepEqual(result.mismatches, [], `seed ${seed}`);
    assert.equal(result.compiled, result.headers, 'the compiled hooks ran under the sanitizers where Python.h is there');
  }
  // The sanitizers are really in: a read past the end of a heap buffer by the library aborts with ASan's report.
  const overflow = await run(
    python,
    [
      '-c',
      'import ctypes\nfrom normscope.measuring import native\nx = ctypes.create_string_buffer(4096)\nout = ctypes.c_double()\n' +
        'native.library().ns_norm(ctypes.addressof(x), 2048, ctypes.addressof(out))',
    ],
    env,
  );
  assert.notEqual(overflow.code, 0, 'reading 8 KiB of a 4 KiB buffer went unnoticed: the library is not instrumented');
  assert.match(overflow.stderr, /AddressSanitizer: heap-buffer-overflow/);
});
