/** What is wrong with the path the user pointed at, before anything tries to compile or parse it. */
import * as fs from 'node:fs';
import { UserCodeError } from './errors';

/** Bytes read to tell text from binary (the same heuristic as git: a NUL byte means binary). */
const SNIFF_BYTES = 8192;

export function checkModelFile(file: string): void {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    throw new UserCodeError('bad-file', `model file not found: ${file}`, null);
  }
  if (stat.isDirectory())
    throw new UserCodeError('bad-file', `${file} is a directory; point NormScope at a .js/.ts model file or a model.json`, null);
  if (!stat.isFile()) throw new UserCodeError('bad-file', `${file} is not a regular file`, null);
  const fd = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(Math.min(SNIFF_BYTES, stat.size));
    const read = fs.readSync(fd, head, 0, head.length, 0);
    if (head.subarray(0, read).includes(0)) {
      throw new UserCodeError(
        'bad-file',
        `${file} is not a text file (it contains binary data); point NormScope at a .js/.ts model file or a model.json`,
        null,
      );
    }
  } finally {
    fs.closeSync(fd);
  }
}
