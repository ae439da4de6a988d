/**
 * Builds the hover text for a layer call: the layer's class, then for each layer the run created on that line
 * its latest statistics with a unicode sparkline, its findings with the why, and command links.
 * Pure (returns a markdown string) so it is unit-tested without VS Code.
 */
import type { Finding, StatName } from '../protocol/run';
import type { LayerSnapshot } from '../host/runResults';

const BARS = '▁▂▃▄▅▆▇█';
const SHOWN_STATS: [StatName, string][] = [
  ['mean', 'mean'],
  ['variance', 'variance'],
  ['gain', 'gain'],
  ['gradNorm', 'grad-norm'],
  ['deadFraction', 'dead'],
];

/** Unicode bars for the last `width` finite values (log-scaled when they span decades). */
export function sparkline(values: number[], width = 16): string {
  const finite = values.filter((v) => Number.isFinite(v)).slice(-width);
  if (finite.length < 2) return '';
  const positive = finite.every((v) => v > 0);
  const lo0 = Math.min(...finite);
  const hi0 = Math.max(...finite);
  const useLog = positive && hi0 / lo0 > 100;
  const xs = useLog ? finite.map(Math.log10) : finite;
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  return xs.map((x) => BARS[hi === lo ? 3 : Math.round(((x - lo) / (hi - lo)) * (BARS.length - 1))]).join('');
}

/** Compact number: 3 significant digits, exponent form for very small or large magnitudes. */
export function formatNumber(v: number | undefined): string {
  if (v === undefined || Number.isNaN(v)) return '–';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '−∞';
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(2);
  return Number(v.toPrecision(3)).toString();
}

function commandLink(title: string, command: string, args: unknown[]): string {
  return `[${title}](command:${command}?${encodeURIComponent(JSON.stringify(args))} "${title}")`;
}

/** Escape user-provided text (layer names, messages) so it renders literally in markdown. */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>~]/g, (c) => `\\${c}`);
}

export interface LayerHoverInput {
  file: string;
  /** The factory or class named at the call, e.g. `batchNormalization`. */
  callee: string;
  /** The callee as written when it is not a tfjs factory (PyTorch: `nn.Linear`). */
  calleeText?: string;
  className: string;
  isNorm: boolean;
  /** Layers this line created in the latest run (several when a loop creates them). */
  instances: LayerSnapshot[];
  findings: Finding[];
  /** Run status line, e.g. "step 50/50 · backend wasm", or undefined when the file was never run. */
  runStatus?: string;
}

export function buildLayerHover(input: LayerHoverInput): string {
  const out: string[] = [`**NormScope** · \`${input.className}\` layer (\`${input.calleeText ?? `tf.layers.${input.callee}`}\`)`];
  if (input.instances.length === 0) {
    out.push(
      '',
      input.runStatus
        ? `_Not seen in the latest run (${input.runStatus})._`
        : '_No run yet: run **NormScope: Check Normalization in This File** to see live statistics._',
    );
  }
  for (const snap of input.instances) {
    const shape = JSON.stringify(snap.layer.outputShape).replace(/null/g, 'batch');
    out.push(
      '',
      `**${escapeMarkdown(snap.layer.name)}** · ${escapeMarkdown(snap.layer.className)} · output \`${shape}\`${snap.step !== null ? ` · step ${snap.step}` : ''}`,
      '',
    );
    out.push('| stat | latest | trend |', '|---|---:|---|');
    for (const [stat, label] of SHOWN_STATS) {
      if (snap.latest[stat] === undefined) continue;
      out.push(`| ${label} | ${formatNumber(snap.latest[stat])} | ${sparkline(snap.series(stat))} |`);
    }
    if (input.isNorm && snap.ics) {
      const last = snap.ics.distance.length - 1;
      out.push(
        '',
        `Internal covariate shift at step ${snap.ics.steps[last]}: ‖G − G′‖ ${formatNumber(snap.ics.distance[last])}, cos(G, G′) ${formatNumber(snap.ics.cosine[last])} ${sparkline(snap.ics.distance)}  `,
        "_How much this layer's gradient changes when the layers before it take the same step (Santurkar et al. 2018); BatchNorm helps through a smoother landscape, not by lowering this._",
      );
    }
    const links = [commandLink('Show in chart', 'normscope.focusLayer', [input.file, snap.layer.index])];
    if (input.isNorm) links.push(commandLink('Swap normalization…', 'normscope.swapNorm', [input.file, snap.layer.source?.line ?? 0]));
    out.push('', links.join(' · '));
  }
  for (const f of input.findings) {
    const icon = f.severity === 'error' ? '$(error)' : f.severity === 'warning' ? '$(warning)' : '$(info)';
    out.push(
      '',
      `${icon} **${f.kind}**${f.layer ? ` on ${escapeMarkdown(f.layer)}` : ''}${f.step !== null ? ` (from step ${f.step})` : ''}: ${escapeMarkdown(f.message)}`,
    );
    if (f.fix) out.push(`  \n_Fix:_ ${escapeMarkdown(f.fix)}`);
  }
  if (input.instances.length > 0 && input.runStatus) out.push('', `_${input.runStatus}_`);
  return out.join('\n');
}
