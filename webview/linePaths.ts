/**
 * One series' line as a canvas Path2D in data space (x = step, y = value or log10 of it), built
 * incrementally: points from complete decimation buckets are appended once and kept; only the
 * short recent tail is rebuilt per redraw. Drawing maps data space to pixels with one matrix
 * (`addPath`), so a redraw of 200 series costs a few native calls per series, not a JS loop
 * over every point.
 */
import type { Scale } from 'chart.js';
import { IncrementalDecimator, type XY } from './decimate';

/** Pixel = a·v + b along one axis (v in data space: value, or log10 of it for log axes). */
export interface AxisMap { a: number; b: number }

export function axisMap(scale: Scale): AxisMap | null {
  const log = scale.type === 'logarithmic';
  const lo = scale.min;
  const hi = scale.max;
  if (!(hi > lo) || (log && !(lo > 0))) return null;
  const p0 = scale.getPixelForValue(lo);
  const p1 = scale.getPixelForValue(hi);
  const v0 = log ? Math.log10(lo) : lo;
  const v1 = log ? Math.log10(hi) : hi;
  const a = (p1 - p0) / (v1 - v0);
  return { a, b: p0 - v0 * a };
}

export class SeriesPath {
  readonly decimator = new IncrementalDecimator();
  /** Decimated points of the last update (for hit-testing). */
  points: XY[] = [];
  private stable = new Path2D();
  private inStable = 0;
  private pen = false;
  private last: XY | undefined;
  private tail = new Path2D();
  private builtFor = '';

  /**
   * Decimate the first n points and refresh the path; `log` maps y through log10. A short exact
   * tail (`keepRecent`) keeps the per-redraw rebuild small when there are many series.
   */
  update(xs: ArrayLike<number>, ys: ArrayLike<number>, n: number, budget: number, log: boolean, epoch: unknown, keepRecent?: number): void {
    this.points = this.decimator.decimate(xs, ys, n, budget, { positiveOnly: log, keepRecent }, epoch);
    const key = `${this.decimator.resets}|${log}`;
    if (key !== this.builtFor) {
      this.builtFor = key;
      this.stable = new Path2D();
      this.inStable = 0;
      this.pen = false;
      this.last = undefined;
    }
    const stableCount = this.decimator.stableCount;
    for (; this.inStable < stableCount; this.inStable++) this.append(this.stable, this.points[this.inStable], log);
    const tail = new Path2D();
    let pen = this.pen;
    if (pen && this.last) tail.moveTo(this.last.x, dataY(this.last.y as number, log));
    for (let i = stableCount; i < this.points.length; i++) {
      const p = this.points[i];
      if (p.y === null) { pen = false; continue; }
      if (pen) tail.lineTo(p.x, dataY(p.y, log));
      else { tail.moveTo(p.x, dataY(p.y, log)); pen = true; }
    }
    this.tail = tail;
  }

  /** Stroke the whole line with the given axis maps. */
  stroke(ctx: CanvasRenderingContext2D, x: AxisMap, y: AxisMap, color: string, width: number): void {
    const matrix = { a: x.a, b: 0, c: 0, d: y.a, e: x.b, f: y.b };
    const path = new Path2D();
    path.addPath(this.stable, matrix);
    path.addPath(this.tail, matrix);
    ctx.strokeStyle = color;
    ctx.lineWidth = width;
    ctx.stroke(path);
  }

  private append(path: Path2D, p: XY, log: boolean): void {
    if (p.y === null) { this.pen = false; return; }
    const y = dataY(p.y, log);
    if (this.pen) path.lineTo(p.x, y);
    else { path.moveTo(p.x, y); this.pen = true; }
    this.last = p;
  }
}

function dataY(v: number, log: boolean): number {
  return log ? Math.log10(v) : v;
}
