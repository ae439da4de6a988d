/**
 * Errors of user code that are not the user's model being wrong but the file needing something the worker
 * lacks: an npm package that is not installed (say which, and where to `npm install` it) or a browser
 * (`document`, `window`: say so). Everything else goes through UserCodeError.from unchanged.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { UserErrorCode } from '../protocol';
import { UserCodeError } from './errors';
import type { BundleSourceMap } from './sourceMap';

const BROWSER_GLOBALS =
  /^(document|window|navigator|localStorage|sessionStorage|HTMLCanvasElement|HTMLImageElement|HTMLVideoElement|Image|alert|requestAnimationFrame) is not defined$/;

/** `@scope/pkg/sub` → `@scope/pkg`; `pkg/sub` → `pkg`. */
export function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** The folder of the nearest package.json above `file` (where `npm install` belongs), else the file's folder. */
export function packageRoot(file: string): string {
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) return path.dirname(file);
  }
}

export function explainUserError(
  e: unknown,
  fallbackCode: UserErrorCode,
  context: string,
  sourceMap: BundleSourceMap | null,
  file: string,
  fallback?: Parameters<typeof UserCodeError.from>[5],
): UserCodeError {
  if (e instanceof UserCodeError) return e;
  const error = e instanceof Error ? e : new Error(String(e));
  const site = () => sourceMap?.errorSite(error.stack) ?? fallback ?? { file };
  const code = (error as { code?: string }).code;
  const missing =
    code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND' ? /Cannot find (?:module|package) '([^']+)'/.exec(error.message) : null;
  if (missing && !missing[1].startsWith('.') && !path.isAbsolute(missing[1])) {
    const pkg = packageName(missing[1]);
    const root = packageRoot(file);
    return new UserCodeError(
      'missing-package',
      `${context}: it imports '${missing[1]}', but the npm package '${pkg}' is not installed. ` + `Run \`npm install ${pkg}\` in ${root}.`,
      site(),
      error.stack,
    );
  }
  const browser = error instanceof ReferenceError ? BROWSER_GLOBALS.exec(error.message) : null;
  if (browser) {
    return new UserCodeError(
      'browser-only',
      `${context}: it uses \`${browser[1]}\`, which exists only in a web browser; NormScope trains in Node. ` +
        'Check a function that only builds the model (no page, canvas or DOM access), e.g. move it to its own file.',
      site(),
      error.stack,
    );
  }
  return UserCodeError.from(e, fallbackCode, context, sourceMap, file, fallback);
}
