/**
 * heatmap.ts — the "heatmap" view: cells painted through an ImageData at one
 * pixel per cell and scaled up without smoothing, row/column labels, a colour
 * bar, value annotations when the cells are few and large enough, and a
 * hover tooltip (row, column, value) with the cell outlined on the overlay.
 */
import { Figure, Cells, Kind } from './spec';
import { colormapLUT, lutIndex, lutColor, darkAt } from './colormap';
import { extent, linearTicks, formatTicks } from './scale';
import { el, css, now } from './dom';
import { Tooltip, tooltipForCell } from './tooltip';
import { View, ViewHost, PaintKind, Layers, makeHeader, guarded, HEADER_H } from './view';
import { recordHover } from './stats';

const FONT = '11px sans-serif';
const BAR_W = 12;
/** Right-hand space for the colour bar and its labels. */
const BAR_SPACE = 64;
/** Largest matrix drawn with square cells. */
const SQUARE_MAX = 64;
/** Most cells annotated automatically. */
const ANNOTATE_MAX = 400;

interface Rect {
  /** Space below the cells taken by the column labels. */
  below: number;
  l: number;
  t: number;
  w: number;
  h: number;
  cw: number;
  ch: number;
}

/** A compact number for in-cell annotations (at most 3 significant digits). */
export function formatCell(v: number): string {
  if (!isFinite(v)) return '';
  if (Number.isInteger(v) && Math.abs(v) < 1e5) return String(v);
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(1).replace('e+', 'e');
  return String(parseFloat(v.toPrecision(3)));
}

export class HeatmapView implements View {
  readonly element: HTMLDivElement;
  readonly kind: Kind = 'heatmap';
  private fig: Figure;
  private readonly layers: Layers;
  private readonly tooltip: Tooltip;
  private readonly titleEl: HTMLDivElement;
  private pending = true;
  private rect: Rect | null = null;
  private readonly cleanup: (() => void)[] = [];

  constructor(fig: Figure, width: number, height: number, private readonly host: ViewHost) {
    this.fig = fig;
    this.element = el('div', 'graft-view graft-heatmap');
    css(this.element, { width: `${width}px`, position: 'relative' });
    const header = makeHeader(fig.title);
    this.titleEl = header.title;
    this.layers = new Layers(width, Math.max(60, height - HEADER_H));
    this.tooltip = new Tooltip(this.layers.wrap);
    this.element.append(header.row, this.layers.wrap);
    const o = this.layers.overlay;
    const move = guarded(host, (e: MouseEvent) => this.hover(...this.layers.local(e)));
    const leave = guarded(host, () => {
      this.layers.clear(this.layers.octx);
      this.tooltip.hide();
    });
    o.addEventListener('mousemove', move);
    o.addEventListener('mouseleave', leave);
    this.cleanup.push(() => {
      o.removeEventListener('mousemove', move);
      o.removeEventListener('mouseleave', leave);
    });
  }

  update(fig: Figure): boolean {
    if (fig.kind !== 'heatmap') return false;
    this.fig = fig;
    this.titleEl.textContent = fig.title;
    this.pending = true;
    this.host.requestPaint();
    return true;
  }

  notes(): string[] {
    return [];
  }

  dispose(): void {
    this.cleanup.forEach((f) => f());
  }

  /** The value range: the figure's min/max where given, else the data's. */
  private range(c: Cells): [number, number] {
    const e = extent(c.values) ?? [0, 1];
    const lo = isFinite(c.min) ? c.min : e[0];
    const hi = isFinite(c.max) ? c.max : e[1];
    return hi > lo ? [lo, hi] : [lo - 0.5, hi + 0.5];
  }

  /** Lays out the cell area given label sizes. */
  private layout(ctx: CanvasRenderingContext2D, c: Cells): Rect {
    const W = this.layers.width;
    const H = this.layers.height;
    ctx.font = FONT;
    const widest = (labels: string[]): number => {
      let m = 0;
      for (let i = 0; i < Math.min(labels.length, 500); i++) m = Math.max(m, ctx.measureText(labels[i]).width);
      return Math.min(120, m);
    };
    const yLabel = this.fig.y.label ? 18 : 0;
    const xLabel = this.fig.x.label ? 18 : 0;
    const left = (c.rowLabels.length ? widest(c.rowLabels) + 10 : 8) + yLabel;
    const colW = widest(c.colLabels);
    let w = W - left - BAR_SPACE;
    const rotate = c.colLabels.length > 0 && colW + 4 > w / c.cols;
    const bottom = c.colLabels.length ? (rotate ? Math.min(100, colW + 10) : 20) : 8;
    let h = H - 8 - bottom - xLabel;
    let cw = w / c.cols;
    let ch = h / c.rows;
    if (c.rows <= SQUARE_MAX && c.cols <= SQUARE_MAX) {
      cw = ch = Math.min(cw, ch);
      w = cw * c.cols;
      h = ch * c.rows;
    }
    return { below: bottom, l: left, t: 8, w, h, cw, ch };
  }

  paint(): PaintKind | null {
    if (!this.pending) return null;
    this.pending = false;
    const L = this.layers;
    L.resize(L.width, L.height);
    const ctx = L.bctx;
    L.clear(ctx);
    L.clear(L.octx);
    const c = this.fig.cells;
    if (!c) {
      this.rect = null;
      return 'full';
    }
    const r = (this.rect = this.layout(ctx, c));
    const lut = colormapLUT(c.colormap);
    const [lo, hi] = this.range(c);
    this.drawCells(ctx, c, r, lut, lo, hi);
    this.drawLabels(ctx, c, r);
    this.drawAxisTitles(ctx);
    if (this.shouldAnnotate(c, r)) this.annotate(ctx, c, r, lut, lo, hi);
    this.drawColorBar(ctx, r, lut, lo, hi);
    return 'full';
  }

  private drawCells(ctx: CanvasRenderingContext2D, c: Cells, r: Rect, lut: Uint8ClampedArray, lo: number, hi: number): void {
    const img = new ImageData(c.cols, c.rows);
    const d = img.data;
    for (let k = 0; k < c.rows * c.cols; k++) {
      const i = lutIndex(c.values[k], lo, hi);
      if (i < 0) {
        // Missing: light grey.
        d[k * 4] = d[k * 4 + 1] = d[k * 4 + 2] = 235;
        d[k * 4 + 3] = 255;
        continue;
      }
      d[k * 4] = lut[i * 4];
      d[k * 4 + 1] = lut[i * 4 + 1];
      d[k * 4 + 2] = lut[i * 4 + 2];
      d[k * 4 + 3] = 255;
    }
    const off = document.createElement('canvas');
    off.width = c.cols;
    off.height = c.rows;
    const octx = off.getContext('2d');
    if (!octx) return;
    octx.putImageData(img, 0, 0);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(off, r.l, r.t, r.w, r.h);
    ctx.imageSmoothingEnabled = true;
  }

  /** Draws every k-th label so they do not overlap. */
  private drawLabels(ctx: CanvasRenderingContext2D, c: Cells, r: Rect): void {
    ctx.font = FONT;
    ctx.fillStyle = '#333';
    if (c.rowLabels.length) {
      const every = Math.max(1, Math.ceil(13 / r.ch));
      ctx.textAlign = 'right';
      ctx.textBaseline = 'middle';
      for (let i = 0; i < c.rows; i += every) {
        ctx.fillText(c.rowLabels[i] ?? '', r.l - 5, r.t + (i + 0.5) * r.ch, 115);
      }
    }
    if (c.colLabels.length) {
      const rotate = ctx.measureText(c.colLabels.reduce((a, b) => (a.length >= b.length ? a : b), '')).width + 4 > r.cw;
      const every = Math.max(1, Math.ceil((rotate ? 13 : 30) / r.cw));
      for (let j = 0; j < c.cols; j += every) {
        const x = r.l + (j + 0.5) * r.cw;
        const text = c.colLabels[j] ?? '';
        if (rotate) {
          ctx.save();
          ctx.translate(x, r.t + r.h + 5);
          ctx.rotate(-Math.PI / 2);
          ctx.textAlign = 'right';
          ctx.textBaseline = 'middle';
          ctx.fillText(text, 0, 0, 95);
          ctx.restore();
        } else {
          ctx.textAlign = 'center';
          ctx.textBaseline = 'top';
          ctx.fillText(text, x, r.t + r.h + 4, r.cw * every);
        }
      }
    }
  }

  /** The figure's x / y axis labels, below the cells and rotated at the left. */
  private drawAxisTitles(ctx: CanvasRenderingContext2D): void {
    const r = this.rect!;
    ctx.font = FONT;
    ctx.fillStyle = '#333';
    ctx.textAlign = 'center';
    if (this.fig.x.label) {
      ctx.textBaseline = 'top';
      ctx.fillText(this.fig.x.label, r.l + r.w / 2, r.t + r.h + r.below + 2, r.w);
    }
    if (this.fig.y.label) {
      ctx.save();
      ctx.translate(10, r.t + r.h / 2);
      ctx.rotate(-Math.PI / 2);
      ctx.textBaseline = 'middle';
      ctx.fillText(this.fig.y.label, 0, 0, r.h);
      ctx.restore();
    }
  }

  private shouldAnnotate(c: Cells, r: Rect): boolean {
    const big = r.cw >= 24 && r.ch >= 12;
    if (c.annotate === false) return false;
    if (c.annotate === true) return big;
    return big && c.rows * c.cols <= ANNOTATE_MAX;
  }

  private annotate(ctx: CanvasRenderingContext2D, c: Cells, r: Rect, lut: Uint8ClampedArray, lo: number, hi: number): void {
    ctx.font = `${Math.min(12, Math.floor(r.ch * 0.45))}px sans-serif`;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    for (let i = 0; i < c.rows; i++) {
      for (let j = 0; j < c.cols; j++) {
        const v = c.values[i * c.cols + j];
        const k = lutIndex(v, lo, hi);
        if (k < 0) continue;
        ctx.fillStyle = darkAt(lut, k) ? '#fff' : '#000';
        ctx.fillText(formatCell(v), r.l + (j + 0.5) * r.cw, r.t + (i + 0.5) * r.ch, r.cw - 2);
      }
    }
  }

  private drawColorBar(ctx: CanvasRenderingContext2D, r: Rect, lut: Uint8ClampedArray, lo: number, hi: number): void {
    const x = this.layers.width - BAR_SPACE + 10;
    const top = r.t;
    const h = Math.max(20, r.h);
    for (let y = 0; y < h; y++) {
      ctx.fillStyle = lutColor(lut, Math.round((1 - y / (h - 1)) * 255));
      ctx.fillRect(x, top + y, BAR_W, 1);
    }
    ctx.strokeStyle = '#888';
    ctx.strokeRect(x + 0.5, top + 0.5, BAR_W - 1, h - 1);
    ctx.fillStyle = '#333';
    ctx.font = FONT;
    ctx.textAlign = 'left';
    ctx.textBaseline = 'middle';
    const t = linearTicks(lo, hi, Math.max(2, Math.floor(h / 40)));
    const labels = formatTicks(t);
    for (let k = 0; k < t.length; k++) {
      const v = t[k];
      const y = top + (1 - (v - lo) / (hi - lo)) * (h - 1);
      ctx.fillRect(x + BAR_W, y, 3, 1);
      ctx.fillText(labels[k], x + BAR_W + 5, y, BAR_SPACE - BAR_W - 12);
    }
  }

  private hover(x: number, y: number): void {
    const t0 = now();
    const L = this.layers;
    L.clear(L.octx);
    const c = this.fig.cells;
    const r = this.rect;
    const j = r ? Math.floor((x - r.l) / r.cw) : -1;
    const i = r ? Math.floor((y - r.t) / r.ch) : -1;
    if (!c || !r || i < 0 || j < 0 || i >= c.rows || j >= c.cols) {
      this.tooltip.hide();
      recordHover(now() - t0);
      return;
    }
    const ctx = L.octx;
    ctx.strokeStyle = '#000';
    ctx.lineWidth = 2;
    ctx.strokeRect(r.l + j * r.cw, r.t + i * r.ch, r.cw, r.ch);
    const rowLabel = c.rowLabels[i] ?? String(i);
    const colLabel = c.colLabels[j] ?? String(j);
    this.tooltip.show(tooltipForCell(rowLabel || String(i), colLabel || String(j), c.values[i * c.cols + j]), x, y);
    recordHover(now() - t0);
  }
}

