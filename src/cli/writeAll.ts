/**
 * Writes several files as one change: all of them or none. Each new content goes to a temp file next to
 * its target first (so a full disk or a read-only folder fails before anything is touched), then the
 * temp files are renamed over the targets; if a rename fails, the targets already replaced get their
 * old bytes back and the files created are removed.
 */
import { chmodSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { errorMessage } from '../protocol';

export interface FileWrite {
  path: string;
  content: string;
}

export class WriteError extends Error {}

interface Staged extends FileWrite {
  temp: string;
  /** The target's bytes before the change, null when it did not exist. */
  original: Buffer | null;
}

function tempNameFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.normscope-${process.pid}-${Math.random().toString(36).slice(2, 8)}.tmp`);
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* already gone */
  }
}

function stage(write: FileWrite): Staged {
  let original: Buffer | null = null;
  let mode: number | undefined;
  try {
    original = readFileSync(write.path);
    mode = statSync(write.path).mode & 0o7777;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const temp = tempNameFor(write.path);
  try {
    writeFileSync(temp, write.content, { flag: 'wx' });
    if (mode !== undefined) chmodSync(temp, mode);
  } catch (e) {
    removeQuietly(temp);
    throw e;
  }
  return { ...write, temp, original };
}

/** Puts back what `done` replaced or created; best effort, and says what it could not restore. */
function rollBack(done: Staged[]): string[] {
  const failed: string[] = [];
  for (const file of done.reverse()) {
    try {
      if (file.original === null) unlinkSync(file.path);
      else {
        const temp = tempNameFor(file.path);
        writeFileSync(temp, file.original);
        renameSync(temp, file.path);
      }
    } catch {
      failed.push(file.path);
    }
  }
  return failed;
}

export function writeAllOrNothing(writes: FileWrite[]): void {
  const staged: Staged[] = [];
  try {
    for (const write of writes) staged.push(stage(write));
  } catch (e) {
    staged.forEach((s) => removeQuietly(s.temp));
    const failed = writes[staged.length].path;
    throw new WriteError(`cannot write ${failed}: ${errorMessage(e)}; no file was changed`);
  }
  const done: Staged[] = [];
  for (const file of staged) {
    try {
      renameSync(file.temp, file.path);
      done.push(file);
    } catch (e) {
      staged.forEach((s) => removeQuietly(s.temp));
      const notRestored = rollBack(done);
      throw new WriteError(
        `cannot write ${file.path}: ${errorMessage(e)}; ${
          notRestored.length
            ? `could not restore ${notRestored.join(', ')}`
            : 'the files written before it were restored, no file was changed'
        }`,
      );
    }
  }
}
