/** The `normscope.*` settings, typed and clamped (package.json declares them). Pure: no vscode import. */
import { DEFAULT_SETTINGS, SETTING_MINIMUMS } from '../protocol/defaults';
import { BACKEND_CHOICES, type BackendChoice } from '../protocol/run';

export interface NormScopeSettings {
  steps: number;
  batchSize: number;
  backend: BackendChoice;
  samplingInterval: number;
  seed: number;
  runTimeoutSeconds: number;
  maxMemoryMB: number;
  /** Run model code under Node's permission model (README "Security and trust"). */
  restrictPermissions: boolean;
  /** Detector threshold overrides by name (README "Findings"). */
  thresholds: Record<string, number>;
  /** Interpreter for PyTorch (.py) models; '' = the Python extension's, else python3 (src/runner/pythonInterpreter.ts). */
  pythonPath: string;
  /** Loss-landscape instrument (README "Loss landscape"): off, or probe every `landscapeEvery` steps. */
  landscape: boolean;
  landscapeEvery: number;
  /** With the instrument on, also measure internal covariate shift (one extra pass per weighted layer). */
  landscapeIcs: boolean;
  /** Compare's learning-rate sweep: 'off', 'auto' (4 rates over 30× around the model's own) or explicit rates. */
  compareLearningRates: 'off' | 'auto' | number[];
  /** Another folder of run logs for the Training Runs view ('' = only each workspace folder's .normscope/runs). */
  runsFolder: string;
  /** A followed run that writes nothing for this long is shown as stopped. */
  runQuietSeconds: number;
}

/** `RunOptions.landscape` from the settings, or nothing when the instrument is off. */
export function landscapeOption(s: NormScopeSettings): { landscape?: { every: number; ics: boolean } } {
  return s.landscape ? { landscape: { every: s.landscapeEvery, ics: s.landscapeIcs } } : {};
}

/** What `vscode.WorkspaceConfiguration.get` offers; kept minimal so this stays testable. */
export interface ConfigurationReader {
  get<T>(key: string): T | undefined;
}

const DEFAULTS: Readonly<NormScopeSettings> = DEFAULT_SETTINGS;
const MIN = SETTING_MINIMUMS;

function learningRates(value: unknown): NormScopeSettings['compareLearningRates'] {
  if (value === 'auto') return 'auto';
  if (!Array.isArray(value)) return DEFAULTS.compareLearningRates;
  const rates = [...new Set(value.filter((v): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0))].sort((a, b) => a - b);
  return rates.length >= 2 ? rates : DEFAULTS.compareLearningRates;
}

function bool(value: unknown, fallback: boolean): boolean {
  return typeof value === 'boolean' ? value : fallback;
}

function positiveInt(value: unknown, fallback: number, min = 1): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= min ? Math.floor(value) : fallback;
}

/** Keeps the numeric entries of an object setting (the worker rejects unknown names with a clear error). */
function numberRecord(value: unknown): Record<string, number> {
  if (!value || typeof value !== 'object') return {};
  return Object.fromEntries(Object.entries(value).filter(([, v]) => typeof v === 'number'));
}

export function readSettings(config: ConfigurationReader): NormScopeSettings {
  const backend = config.get<string>('backend');
  return {
    steps: positiveInt(config.get('steps'), DEFAULTS.steps),
    batchSize: positiveInt(config.get('batchSize'), DEFAULTS.batchSize),
    backend: BACKEND_CHOICES.includes(backend as BackendChoice) ? (backend as BackendChoice) : DEFAULTS.backend,
    samplingInterval: positiveInt(config.get('samplingInterval'), DEFAULTS.samplingInterval),
    seed: typeof config.get('seed') === 'number' ? Math.floor(config.get<number>('seed')!) : DEFAULTS.seed,
    runTimeoutSeconds: positiveInt(config.get('runTimeoutSeconds'), DEFAULTS.runTimeoutSeconds, MIN.runTimeoutSeconds),
    maxMemoryMB: positiveInt(config.get('maxMemoryMB'), DEFAULTS.maxMemoryMB, MIN.maxMemoryMB),
    restrictPermissions: bool(config.get('restrictPermissions'), DEFAULTS.restrictPermissions),
    thresholds: numberRecord(config.get('thresholds')),
    landscape: bool(config.get('landscape'), DEFAULTS.landscape),
    landscapeEvery: positiveInt(config.get('landscapeEvery'), DEFAULTS.landscapeEvery),
    landscapeIcs: bool(config.get('landscapeIcs'), DEFAULTS.landscapeIcs),
    compareLearningRates: learningRates(config.get('compareLearningRates')),
    pythonPath: typeof config.get('pythonPath') === 'string' ? config.get<string>('pythonPath')!.trim() : DEFAULTS.pythonPath,
    runsFolder: typeof config.get('runsFolder') === 'string' ? config.get<string>('runsFolder')!.trim() : DEFAULTS.runsFolder,
    runQuietSeconds: positiveInt(config.get('runQuietSeconds'), DEFAULTS.runQuietSeconds, MIN.runQuietSeconds),
  };
}
