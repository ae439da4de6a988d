/** What a CLI command prints, for the tests of src/cli: one copy of the capture instead of one per test file. */
import type { CheckIO } from '../../src/cli/check';

export interface Printed {
  stdout: string;
  stderr: string;
}

/** Streams for the commands that take their output streams (check, run), and what was written to them. */
export function capturingIO(): { io: CheckIO; printed: Printed } {
  const printed: Printed = { stdout: '', stderr: '' };
  const io: CheckIO = {
    stdout: { write: (text: string) => void (printed.stdout += text) },
    stderr: { write: (text: string) => void (printed.stderr += text) },
  };
  return { io, printed };
}

/**
 * Runs `fn` with process.stdout and process.stderr captured, for the commands that write there (swap, lint, the
 * model's own console output); restores them even when `fn` throws.
 */
export async function capturingProcessOutput<T>(fn: () => Promise<T>): Promise<Printed & { value: T }> {
  const printed: Printed = { stdout: '', stderr: '' };
  const writeOut = process.stdout.write;
  const writeErr = process.stderr.write;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    printed.stdout += String(chunk);
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    printed.stderr += String(chunk);
    return true;
  }) as typeof process.stderr.write;
  try {
    const value = await fn();
    return { ...printed, value };
  } finally {
    process.stdout.write = writeOut;
    process.stderr.write = writeErr;
  }
}
