/**
 * The run folder and its files on disk, for the TypeScript writer (./writer): where a new run goes, the project root
 * and paths relative to it, the start time as the Python writer writes it, the sample files (./segments' store).
 */
import * as fs from 'node:fs';
import { basename, extname, join, relative, resolve, sep } from 'node:path';
import type { SourceLocation } from '../protocol';
import { FRAME_BYTES, readRecords, sampleSeq } from './format';
import { runsFolder } from './read';
import type { RecordStore, StoredRecord } from './segments';

const PROJECT_MARKERS = ['.git', 'package.json', 'pyproject.toml', 'setup.py', 'setup.cfg'];

/** The nearest folder at or above `file`'s folder with a project marker, else `file`'s folder (as creation.py's project_root). */
export function projectRootOf(file: string): string {
  const start = resolve(file, '..');
  let folder = start;
  for (;;) {
    if (PROJECT_MARKERS.some((m) => fs.existsSync(join(folder, m)))) return folder;
    const parent = resolve(folder, '..');
    if (parent === folder) return start;
    folder = parent;
  }
}

/** A source with its file relative to `root` (POSIX separators), absolute when outside it. */
export function relativeSource(source: SourceLocation | null, root: string): SourceLocation | null {
  if (!source?.file) return source;
  const file = resolve(source.file);
  const inside = file === root || file.startsWith(root.endsWith(sep) ? root : root + sep);
  return { ...source, file: inside ? relative(root, file).split(sep).join('/') : file };
}

export function newRunDir(script: string | null): string {
  const base = runsFolder();
  fs.mkdirSync(base, { recursive: true });
  const stem =
    basename(script ?? 'node', extname(script ?? ''))
      .replace(/[^A-Za-z0-9_.-]+/g, '-')
      .replace(/^[-.]+|[-.]+$/g, '') || 'run';
  const d = new Date();
  const two = (n: number) => String(n).padStart(2, '0');
  const name = `${d.getFullYear()}${two(d.getMonth() + 1)}${two(d.getDate())}-${two(d.getHours())}${two(d.getMinutes())}${two(d.getSeconds())}-${stem}`;
  for (let n = 1; n < 1000; n++) {
    const dir = join(base, n === 1 ? name : `${name}-${n}`);
    try {
      fs.mkdirSync(dir);
      return dir;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  throw new Error(`${base}: no free run folder named ${name}-N`);
}

/** ISO 8601 in local time with its UTC offset, as Python's isoformat(timespec='milliseconds'). */
export function localIso(d = new Date()): string {
  const offset = -d.getTimezoneOffset();
  const local = new Date(d.getTime() + offset * 60_000).toISOString().slice(0, 23);
  const two = (n: number) => String(Math.floor(Math.abs(n))).padStart(2, '0');
  return `${local}${offset >= 0 ? '+' : '-'}${two(offset / 60)}:${two(offset % 60)}`;
}

/** Sample files on disk: one open descriptor per file being appended to. */
export class FsRecordStore implements RecordStore {
  private readonly open = new Map<string, number>();

  constructor(private readonly dir: string) {}

  append(file: string, records: readonly StoredRecord[]): void {
    let fd = this.open.get(file);
    if (fd === undefined) {
      fd = fs.openSync(join(this.dir, file), 'ax');
      this.open.set(file, fd);
    }
    fs.writeSync(fd, records.length === 1 ? records[0].data! : Buffer.concat(records.map((r) => r.data!)));
  }

  close(file: string): void {
    const fd = this.open.get(file);
    if (fd !== undefined) fs.closeSync(fd);
    this.open.delete(file);
  }

  closeAll(): void {
    for (const fd of this.open.values()) {
      try {
        fs.closeSync(fd);
      } catch {
        /* already gone */
      }
    }
    this.open.clear();
  }

  read(file: string): StoredRecord[] {
    const data = fs.readFileSync(join(this.dir, file));
    return readRecords(data).records.map((span) => ({
      seq: sampleSeq(data, span),
      size: span.end - span.start + FRAME_BYTES,
      data: data.subarray(span.start - FRAME_BYTES, span.end),
    }));
  }

  remove(file: string): void {
    fs.unlinkSync(join(this.dir, file));
  }

  write(file: string, records: readonly StoredRecord[]): void {
    const path = join(this.dir, file);
    fs.writeFileSync(`${path}.tmp`, Buffer.concat(records.map((r) => r.data!)));
    fs.renameSync(`${path}.tmp`, path);
  }
}
