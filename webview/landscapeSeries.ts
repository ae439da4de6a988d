/**
 * The Landscape tab's curves as min–max bands over the probed steps (Santurkar et al. 2018, Fig. 4): per
 * probed step, the lowest and highest loss, gradient change and ‖Δ∇L‖/‖Δw‖ over the step sizes. Pure.
 */
import type { LandscapeReport } from '../src/protocol';

export type LandscapeCurve = 'losses' | 'gradChange' | 'smoothness';
export const LANDSCAPE_CURVES: { curve: LandscapeCurve; title: string; yTitle: string; description: string }[] = [
  {
    curve: 'losses',
    title: 'Loss variation along the gradient',
    yTitle: 'loss',
    description:
      'Band: lowest to highest L(w − s·η·∇L) over the step sizes s. A wide band means a step along the gradient lands somewhere very different: a rough landscape.',
  },
  {
    curve: 'gradChange',
    title: 'Gradient predictiveness',
    yTitle: '‖∇L(w) − ∇L(w′)‖',
    description:
      'Band: how much the gradient changes after the step. Small means the gradient still describes the landscape one step away.',
  },
  {
    curve: 'smoothness',
    title: 'Effective β-smoothness',
    yTitle: '‖Δ∇L‖ / ‖Δw‖',
    description: 'Band: gradient change per distance moved; the top of the band is the effective β-smoothness. Lower is smoother.',
  },
];

export interface Band {
  steps: number[];
  low: number[];
  high: number[];
}

/** NaN where a probed step has no finite value (the chart draws a gap). */
export function bandOf(report: LandscapeReport, curve: LandscapeCurve): Band {
  const band: Band = { steps: [], low: [], high: [] };
  for (const s of report.samples) {
    const values = s[curve].filter((v): v is number => v !== null && Number.isFinite(v));
    band.steps.push(s.step);
    band.low.push(values.length ? Math.min(...values) : Number.NaN);
    band.high.push(values.length ? Math.max(...values) : Number.NaN);
  }
  return band;
}

export interface IcsRow {
  layer: number;
  distance: number | null;
  cosine: number | null;
  samples: number;
}

/** Mean ‖G − G′‖ and mean cos(G, G′) per layer over the probed steps. */
export function icsByLayer(report: LandscapeReport): IcsRow[] {
  const rows = new Map<number, { d: number[]; c: number[]; n: number }>();
  for (const s of report.samples) {
    for (const v of s.ics ?? []) {
      const row = rows.get(v.layer) ?? { d: [], c: [], n: 0 };
      row.n++;
      if (v.distance !== null) row.d.push(v.distance);
      if (v.cosine !== null) row.c.push(v.cosine);
      rows.set(v.layer, row);
    }
  }
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
  return [...rows.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([layer, r]) => ({ layer, distance: mean(r.d), cosine: mean(r.c), samples: r.n }));
}
