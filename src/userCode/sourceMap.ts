/**
 * Maps stack frames of the bundled user code back to the user's own files, through the source
 * map esbuild produced, with Node's built-in `module.SourceMap`.
 */
import { SourceMap } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SourceLocation } from '../protocol';

export interface StackFrame {
  functionName: string;
  file: string;
  line: number;
  column: number;
}

const FRAME = /^\s*at (?:(.*?) \()?(.+):(\d+):(\d+)\)?$/;

/** The stack of the current call, deep enough that long helper chains still reach the user's frame. */
export function captureStack(): string {
  const previous = Error.stackTraceLimit;
  Error.stackTraceLimit = 50;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = previous;
  return stack;
}

/** Parses V8 stack lines ("at fn (file:line:col)" / "at file:line:col"). */
export function parseStack(stack: string): StackFrame[] {
  const frames: StackFrame[] = [];
  for (const text of stack.split('\n')) {
    const m = FRAME.exec(text);
    if (m) frames.push({ functionName: m[1] ?? '', file: m[2], line: Number(m[3]), column: Number(m[4]) });
  }
  return frames;
}

/**
 * A source-map `sources` entry as a file path. Entries are URLs: esbuild percent-encodes non-ASCII
 * letters and emoji in relative ones, Node resolves some to file:// URLs; both must be decoded, or
 * findings for `dir ü 模型/thröw ☃.js` would name a file that does not exist.
 */
export function sourcePath(source: string, sourcesDir: string): string {
  if (source.startsWith('file://')) return fileURLToPath(source);
  let decoded = source;
  try {
    decoded = decodeURIComponent(source);
  } catch {
    /* a literal '%' that is not an escape: the name is already plain */
  }
  return path.resolve(sourcesDir, decoded);
}

export class BundleSourceMap {
  private readonly map: SourceMap;
  private readonly sourcesDir: string;

  /** `bundleFile` is the file name the bundle was run under; `mapJson` its source map. */
  constructor(
    readonly bundleFile: string,
    mapJson: string,
    private readonly userFiles: (file: string) => boolean,
  ) {
    this.map = new SourceMap(JSON.parse(mapJson));
    this.sourcesDir = path.dirname(bundleFile);
  }

  /** The user-code location of one frame of the bundle, or null for library/shim code. */
  locate(frame: { file: string; line: number; column: number }): SourceLocation | null {
    if (frame.file !== this.bundleFile) return null;
    const entry = this.map.findEntry(frame.line - 1, frame.column - 1) as {
      originalSource?: string;
      originalLine?: number;
      originalColumn?: number;
    };
    if (!entry || entry.originalSource === undefined || entry.originalLine === undefined) return null;
    const source = sourcePath(entry.originalSource, this.sourcesDir);
    if (!this.userFiles(source)) return null;
    return { file: source, line: entry.originalLine + 1, column: (entry.originalColumn ?? 0) + 1 };
  }

  /**
   * Where the user's code created a layer: the first user frame of its creation stack. Constructor
   * frames (`new MyLayer`, i.e. the `super()` line of a custom layer class) are passed over in
   * favour of the line that ran `new MyLayer(...)`.
   */
  creationSite(stack: string): SourceLocation | null {
    let constructorSite: SourceLocation | null = null;
    for (const frame of parseStack(stack)) {
      const location = this.locate(frame);
      if (!location) continue;
      if (frame.functionName.startsWith('new ')) {
        constructorSite ??= location;
        continue;
      }
      return location;
    }
    return constructorSite;
  }

  /** The first user frame of an error's stack: where the user's code called what threw. */
  errorSite(stack: string | undefined): SourceLocation | null {
    for (const frame of parseStack(stack ?? '')) {
      const location = this.locate(frame);
      if (location) return location;
    }
    return null;
  }
}
