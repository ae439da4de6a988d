/**
 * The default of every `normscope.*` setting, one source for the editor (src/host/settings.ts), the CLI flags
 * (src/cli/check.ts, compare.ts, args.ts) and the worker. package.json cannot import this file, so
 * test/unit/protocol-defaults.test.ts checks that its `contributes.configuration` declares the same values.
 */
import { DEFAULT_LANDSCAPE_EVERY } from './landscape';
import type { BackendChoice } from './run';

export const DEFAULT_SETTINGS = Object.freeze({
  steps: 50,
  batchSize: 32,
  backend: 'auto' as BackendChoice,
  samplingInterval: 1,
  seed: 42,
  runTimeoutSeconds: 300,
  maxMemoryMB: 4096,
  restrictPermissions: true,
  thresholds: Object.freeze({}) as Readonly<Record<string, number>>,
  pythonPath: '',
  landscape: false,
  landscapeEvery: DEFAULT_LANDSCAPE_EVERY,
  landscapeIcs: true,
  compareLearningRates: 'off' as 'off' | 'auto' | number[],
  runsFolder: '',
  runQuietSeconds: 60,
});

/** Smallest accepted value of the numeric settings that have one (package.json's `minimum`). */
export const SETTING_MINIMUMS = Object.freeze({
  steps: 1,
  batchSize: 1,
  samplingInterval: 1,
  runTimeoutSeconds: 5,
  maxMemoryMB: 256,
  landscapeEvery: 1,
  runQuietSeconds: 1,
});
