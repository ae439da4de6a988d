/**
 * A layers × steps heatmap drawn straight onto a canvas: one pixel per cell in an offscreen
 * image, scaled up without smoothing. 200 × 240 cells draw in well under a millisecond, where
 * one Chart.js element per cell would not fit the 16 ms budget.
 * Mouse: hover shows the cell, click opens the layer. Keyboard: ↑/↓ pick a layer, Enter opens it.
 */
import type { ChartCard } from './card';
import { el, formatValue } from './dom';
import { normalize, rampColor, type HeatmapGrid } from './series';
import type { Theme } from './theme';

const MARGIN = { left: 130, right: 64, top: 6, bottom: 26 };

export class HeatmapCanvas {
  private grid: HeatmapGrid | undefined;
  private names: string[] = [];
  private log = false;
  private selectedRow = -1;
  private readonly tooltip: HTMLElement;
  private readonly image = document.createElement('canvas');

  constructor(
    private readonly card: ChartCard,
    private theme: Theme,
    private readonly onPick: (row: number) => void,
  ) {
    this.tooltip = el('div', { className: 'chart-tooltip', testId: `tooltip-${card.id}`, attrs: { role: 'status' } });
    this.tooltip.hidden = true;
    card.box.appendChild(this.tooltip);
    const canvas = card.canvas;
    canvas.tabIndex = 0;
    canvas.addEventListener('mousemove', (e) => this.hover(e.offsetX, e.offsetY));
    canvas.addEventListener('mouseleave', () => {
      this.tooltip.hidden = true;
    });
    canvas.addEventListener('click', (e) => {
      const cell = this.cellAt(e.offsetX, e.offsetY);
      if (cell) this.onPick(cell.row);
    });
    canvas.addEventListener('keydown', (e) => this.key(e));
  }

  setTheme(theme: Theme): void {
    this.theme = theme;
  }

  draw(grid: HeatmapGrid, names: string[], log: boolean): void {
    this.grid = grid;
    this.names = names;
    this.log = log;
    const canvas = this.card.canvas;
    const dpr = window.devicePixelRatio || 1;
    const width = this.card.box.clientWidth;
    const height = this.card.box.clientHeight;
    if (width === 0 || height === 0) return;
    if (canvas.width !== Math.round(width * dpr) || canvas.height !== Math.round(height * dpr)) {
      canvas.width = Math.round(width * dpr);
      canvas.height = Math.round(height * dpr);
    }
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, height);
    const plot = this.plotRect(width, height);
    if (grid.cols === 0 || grid.rows === 0 || plot.w <= 0 || plot.h <= 0) return;
    this.paintCells(ctx, grid, plot);
    this.paintAxes(ctx, grid, plot);
    this.paintLegend(ctx, grid, plot);
  }

  private plotRect(width: number, height: number) {
    return { x: MARGIN.left, y: MARGIN.top, w: width - MARGIN.left - MARGIN.right, h: height - MARGIN.top - MARGIN.bottom };
  }

  private paintCells(ctx: CanvasRenderingContext2D, grid: HeatmapGrid, plot: { x: number; y: number; w: number; h: number }): void {
    this.image.width = grid.cols;
    this.image.height = grid.rows;
    const ictx = this.image.getContext('2d');
    if (!ictx) return;
    const pixels = ictx.createImageData(grid.cols, grid.rows);
    for (let i = 0; i < grid.values.length; i++) {
      const t = normalize(grid.values[i], this.log ? grid.minPositive : grid.min, grid.max, this.log);
      if (Number.isNaN(t)) continue;
      const [r, g, b] = rampColor(t);
      pixels.data[i * 4] = r;
      pixels.data[i * 4 + 1] = g;
      pixels.data[i * 4 + 2] = b;
      pixels.data[i * 4 + 3] = 255;
    }
    ictx.putImageData(pixels, 0, 0);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(this.image, plot.x, plot.y, plot.w, plot.h);
    if (this.selectedRow >= 0 && this.selectedRow < grid.rows) {
      const rowH = plot.h / grid.rows;
      ctx.strokeStyle = this.theme.foreground;
      ctx.lineWidth = 2;
      ctx.strokeRect(plot.x - 1, plot.y + this.selectedRow * rowH - 1, plot.w + 2, Math.max(rowH, 1) + 2);
    }
  }

  private paintAxes(ctx: CanvasRenderingContext2D, grid: HeatmapGrid, plot: { x: number; y: number; w: number; h: number }): void {
    ctx.fillStyle = this.theme.muted;
    ctx.font = '11px sans-serif';
    ctx.textBaseline = 'middle';
    ctx.textAlign = 'right';
    const rowH = plot.h / grid.rows;
    const every = Math.max(1, Math.ceil(13 / rowH));
    for (let row = 0; row < grid.rows; row += every) {
      ctx.fillText(fit(ctx, this.names[row] ?? String(row), MARGIN.left - 8), plot.x - 6, plot.y + (row + 0.5) * rowH);
    }
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    const ticks = Math.min(grid.cols, Math.max(2, Math.floor(plot.w / 80)));
    for (let k = 0; k < ticks; k++) {
      const col = Math.round((k * (grid.cols - 1)) / Math.max(1, ticks - 1));
      ctx.fillText(String(grid.colSteps[col]), plot.x + (col + 0.5) * (plot.w / grid.cols), plot.y + plot.h + 6);
    }
  }

  private paintLegend(ctx: CanvasRenderingContext2D, grid: HeatmapGrid, plot: { x: number; y: number; w: number; h: number }): void {
    const x = plot.x + plot.w + 10;
    const steps = 32;
    for (let k = 0; k < steps; k++) {
      const [r, g, b] = rampColor(1 - k / (steps - 1));
      ctx.fillStyle = `rgb(${r},${g},${b})`;
      ctx.fillRect(x, plot.y + (k * plot.h) / steps, 10, plot.h / steps + 1);
    }
    ctx.fillStyle = this.theme.muted;
    ctx.textAlign = 'left';
    ctx.textBaseline = 'top';
    ctx.fillText(formatValue(grid.max), x + 13, plot.y);
    ctx.textBaseline = 'bottom';
    ctx.fillText(formatValue(this.log ? grid.minPositive : grid.min), x + 13, plot.y + plot.h);
    if (this.log) {
      ctx.textBaseline = 'middle';
      ctx.fillText('log', x + 13, plot.y + plot.h / 2);
    }
  }

  private cellAt(px: number, py: number): { row: number; col: number } | null {
    const grid = this.grid;
    if (!grid || grid.cols === 0) return null;
    const plot = this.plotRect(this.card.box.clientWidth, this.card.box.clientHeight);
    const col = Math.floor(((px - plot.x) / plot.w) * grid.cols);
    const row = Math.floor(((py - plot.y) / plot.h) * grid.rows);
    if (col < 0 || row < 0 || col >= grid.cols || row >= grid.rows) return null;
    return { row, col };
  }

  private hover(px: number, py: number): void {
    const cell = this.cellAt(px, py);
    if (!cell) {
      this.tooltip.hidden = true;
      return;
    }
    this.showTooltip(cell.row, cell.col, px, py);
  }

  private showTooltip(row: number, col: number, px: number, py: number): void {
    const grid = this.grid;
    if (!grid) return;
    const value = grid.values[row * grid.cols + col];
    this.tooltip.textContent = `${this.names[row] ?? row} · from step ${grid.colSteps[col]} · ${formatValue(value)}`;
    this.tooltip.hidden = false;
    this.tooltip.style.left = `${Math.min(px + 12, this.card.box.clientWidth - 220)}px`;
    this.tooltip.style.top = `${Math.max(0, py - 28)}px`;
  }

  private key(e: KeyboardEvent): void {
    const grid = this.grid;
    if (!grid || grid.rows === 0) return;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const delta = e.key === 'ArrowDown' ? 1 : -1;
      this.selectedRow = Math.min(grid.rows - 1, Math.max(0, this.selectedRow < 0 ? 0 : this.selectedRow + delta));
      this.draw(grid, this.names, this.log);
      const plot = this.plotRect(this.card.box.clientWidth, this.card.box.clientHeight);
      this.showTooltip(this.selectedRow, grid.cols - 1, plot.x + plot.w / 2, plot.y + ((this.selectedRow + 0.5) * plot.h) / grid.rows);
    } else if (e.key === 'Enter' && this.selectedRow >= 0) {
      e.preventDefault();
      this.onPick(this.selectedRow);
    }
  }
}

/** Shorten text with an ellipsis to fit `max` pixels. */
function fit(ctx: CanvasRenderingContext2D, text: string, max: number): string {
  if (ctx.measureText(text).width <= max) return text;
  let s = text;
  while (s.length > 1 && ctx.measureText(`${s}…`).width > max) s = s.slice(0, -1);
  return `${s}…`;
}
