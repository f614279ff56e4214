/**
 * xyplot.ts — the interactive x/y plot used for "lines" and "scatter" figures.
 *
 * Data is drawn on the base canvas; hover highlight, tooltip and the zoom box
 * go on the overlay canvas / DOM, so moving the mouse never redraws the data.
 * Interactions: wheel zooms around the cursor (over an axis: that axis only)
 * once the figure is engaged — clicked since the pointer came in, or with Ctrl,
 * Alt or ⌘ held (a trackpad pinch sends Ctrl) — so that scrolling the notebook
 * past a figure scrolls the notebook;
 * drag draws a zoom box, shift-drag (or middle-drag) pans, double-click resets,
 * legend entries toggle series / classes, toolbar toggles log x / log y.
 * Live updates that only add points are drawn as appends (see plan.ts).
 */
import { Figure, Series, Kind } from './spec';
import { Scale, makeScale, ticks, niceDomain, extent, formatTicks, fwd, inv } from './scale';
import { decimateLine, strideSample, SCATTER_BUDGET } from './decimate';
import { GridIndex, isSorted, nearestX } from './hit';
import { paletteColor } from './colormap';
import { Domain, planUpdate } from './plan';
import { el, css, now } from './dom';
import { Tooltip, tooltipForLine, tooltipForPoint } from './tooltip';
import { View, ViewHost, PaintKind, Layers, makeHeader, toolButton, setPressed, guarded, HEADER_H } from './view';
import { recordHover } from './stats';
import { PointRaster, markerMask, parseColor } from './raster';

/** Space around the plot rectangle for ticks and labels (CSS px). */
const MARGIN = { left: 58, right: 14, top: 8, bottom: 38 };
const LEGEND_H = 22;
/** Hover radius for scatter points and horizontal reach for lines (px). */
const HOVER_PX = 12;
const LINE_HOVER_PX = 30;
const AXIS_FONT = '11px sans-serif';
/** Coordinates are clamped to this so zoomed-in paths stay within canvas limits. */
const FAR = 1e6;

interface LegendEntry {
  key: string;
  label: string;
  color: string;
}

/** A drag in progress: a zoom box or a pan. */
interface Drag {
  mode: 'box' | 'pan';
  x: number;
  y: number;
  dom: Domain;
  lastX: number;
  lastY: number;
}

/** Glyph naming a marker shape in the legend. */
const SHAPE_GLYPH = ['\u25cf', '\u25b2', '\u25a0', '\u25c6', '+', '\u25bc'];

function clampPx(v: number): number {
  return v > FAR ? FAR : v < -FAR ? -FAR : v;
}

export class XYPlot implements View {
  readonly element: HTMLDivElement;
  readonly kind: Kind;
  private fig: Figure;
  private readonly layers: Layers;
  private readonly tooltip: Tooltip;
  private readonly titleEl: HTMLDivElement;
  private readonly legendEl: HTMLDivElement;
  private readonly logXBtn: HTMLButtonElement;
  private readonly logYBtn: HTMLButtonElement;
  private legendSig = '';

  /** Keys ('s:name' for series, 'c:id' for classes) the user switched off. */
  private readonly hidden = new Set<string>();
  /** The user's log toggles; null follows the figure. */
  private userLogX: boolean | null = null;
  private userLogY: boolean | null = null;
  /** The user's zoom, or null for the figure's own range. */
  private zoom: Domain | null = null;
  /** The automatic range computed at the last full paint. */
  private auto: Domain | null = null;
  private pending: PaintKind | null = 'full';

  private sx: Scale = makeScale(0, 1, 0, 1);
  private sy: Scale = makeScale(0, 1, 1, 0);
  /** lines: points drawn per series; scatter: [points drawn]. */
  private drawn: number[] = [];
  private sorted: boolean[] = [];
  /** scatter: indices drawn, their screen positions, the hit index. */
  private sample: Uint32Array = new Uint32Array(0);
  private px: Float32Array = new Float32Array(0);
  private py: Float32Array = new Float32Array(0);
  private hit: GridIndex | null = null;
  private sampleNote = '';
  /** Why nothing shows (no data, nothing positive on a log axis), or ''. */
  private emptyNote = '';
  /** Set once live updates have outgrown the x range (see update). */
  private growing = false;
  private drag: Drag | null = null;
  /** The pointer clicked the figure since it came in: the wheel zooms. */
  private engaged = false;
  /** Offscreen canvas for compositing point rasters. */
  private scratch: HTMLCanvasElement | null = null;
  private readonly cleanup: (() => void)[] = [];

  constructor(fig: Figure, width: number, height: number, private readonly host: ViewHost) {
    this.fig = fig;
    this.kind = fig.kind === 'scatter' ? 'scatter' : 'lines';
    this.element = el('div', 'graft-view graft-xy');
    css(this.element, { width: `${width}px`, position: 'relative' });
    const header = makeHeader(fig.title);
    this.titleEl = header.title;
    this.logXBtn = toolButton('log x', 'logarithmic x axis', guarded(host, () => this.toggleLog('x')));
    this.logYBtn = toolButton('log y', 'logarithmic y axis', guarded(host, () => this.toggleLog('y')));
    const reset = toolButton('reset', 'reset zoom (or double-click the plot)', guarded(host, () => this.resetZoom()));
    header.tools.append(this.logXBtn, this.logYBtn, reset);
    this.legendEl = el('div', 'graft-legend');
    css(this.legendEl, {
      display: 'flex',
      gap: '10px',
      height: `${LEGEND_H}px`,
      alignItems: 'center',
      overflowX: 'auto',
      overflowY: 'hidden',
      whiteSpace: 'nowrap',
      font: AXIS_FONT
    });
    this.layers = new Layers(width, Math.max(60, height - HEADER_H - LEGEND_H));
    this.tooltip = new Tooltip(this.layers.wrap);
    this.element.append(header.row, this.layers.wrap, this.legendEl);
    this.bindEvents();
    this.syncFigure();
  }

  // ---- figure state -------------------------------------------------------

  update(fig: Figure): boolean {
    if (fig.kind !== this.kind) return false;
    const shown = this.drawn.length > 0 ? this.domain() : null;
    let plan = this.pending === 'full' ? 'full' : planUpdate(this.fig, fig, shown, this.zoom !== null, SCATTER_BUDGET);
    // Live data outgrew the axes: leave more room on x from now on, so that the
    // next updates can append again instead of redrawing every time.
    if (plan === 'full' && this.kind === 'lines' && planUpdate(this.fig, fig, null, true) === 'append') this.growing = true;
    // The last frame of a live figure fits its axes to the data again.
    if (fig.final && this.growing) {
      this.growing = false;
      plan = 'full';
    }
    this.fig = fig;
    this.syncFigure();
    if (plan === 'full') this.pending = 'full';
    else if (plan === 'append' && this.pending === null) this.pending = 'append';
    if (plan !== 'none' || this.pending) this.host.requestPaint();
    return true;
  }

  /** Updates the DOM parts that follow the figure (title, legend, buttons). */
  private syncFigure(): void {
    this.titleEl.textContent = this.fig.title;
    this.titleEl.title = this.fig.title;
    this.sorted = this.fig.series.map((s) => isSorted(s.x));
    this.buildLegend();
    setPressed(this.logXBtn, this.logX);
    setPressed(this.logYBtn, this.logY);
  }

  private get logX(): boolean {
    return this.userLogX ?? this.fig.x.log;
  }

  private get logY(): boolean {
    return this.userLogY ?? this.fig.y.log;
  }

  notes(): string[] {
    return [this.emptyNote, this.sampleNote].filter((n) => n);
  }

  /** A note when there is nothing to draw, or nothing the log axes can show. */
  private describeEmpty(): string {
    const xs: Float64Array[] = [];
    const ys: Float64Array[] = [];
    if (this.kind === 'lines') this.fig.series.forEach((s) => (xs.push(s.x), ys.push(s.y)));
    else if (this.fig.points) (xs.push(this.fig.points.x), ys.push(this.fig.points.y));
    let any = false;
    let posX = false;
    let posY = false;
    for (let k = 0; k < xs.length; k++) {
      const x = xs[k];
      const y = ys[k];
      for (let i = 0; i < x.length; i++) {
        if (!isFinite(x[i]) || !isFinite(y[i])) continue;
        any = true;
        if (x[i] > 0) posX = true;
        if (y[i] > 0) posY = true;
        if (posX && posY) return '';
      }
    }
    if (!any) return 'no data to plot';
    if (this.logX && !posX) return 'no positive x values: nothing to show on the log x axis';
    if (this.logY && !posY) return 'no positive y values: nothing to show on the log y axis';
    return '';
  }

  dispose(): void {
    this.cleanup.forEach((f) => f());
    this.cleanup.length = 0;
  }

  // ---- legend ---------------------------------------------------------------

  private legendEntries(): LegendEntry[] {
    const f = this.fig;
    if (this.kind === 'lines') {
      return f.series.map((s, i) => ({ key: 's:' + s.name, label: s.name, color: paletteColor(i, s.color) }));
    }
    const p = f.points;
    const ids = new Set<number>();
    if (p && p.cls) {
      for (let i = 0; i < p.n && ids.size < 256; i++) if (p.cls[i] >= 0) ids.add(p.cls[i]);
    }
    for (let i = 0; i < f.classes.length; i++) ids.add(i);
    return Array.from(ids)
      .sort((a, b) => a - b)
      .map((id) => ({ key: 'c:' + id, label: f.classes[id] ?? String(id), color: paletteColor(id, f.colors[id]) }));
  }

  private buildLegend(): void {
    const entries = this.legendEntries();
    const domains = this.kind === 'scatter' && this.fig.points?.domain ? this.fig.domains : [];
    const sig = JSON.stringify([entries, domains]);
    if (sig === this.legendSig) return;
    this.legendSig = sig;
    this.legendEl.textContent = '';
    for (const e of entries) {
      const item = el('span', 'graft-legend-item');
      item.setAttribute('role', 'button');
      item.tabIndex = 0;
      item.title = 'click to show / hide';
      item.dataset.key = e.key;
      css(item, { cursor: 'pointer', display: 'inline-flex', alignItems: 'center', gap: '4px', userSelect: 'none' });
      const sw = el('span', 'graft-swatch');
      css(sw, { width: '10px', height: '10px', background: e.color, display: 'inline-block', borderRadius: '2px' });
      item.append(sw, el('span', 'graft-legend-label', e.label.length > 40 ? e.label.slice(0, 39) + '\u2026' : e.label));
      this.styleLegendItem(item, this.hidden.has(e.key));
      const toggle = guarded(this.host, () => {
        if (this.hidden.has(e.key)) this.hidden.delete(e.key);
        else this.hidden.add(e.key);
        this.styleLegendItem(item, this.hidden.has(e.key));
        this.repaint();
      });
      item.addEventListener('click', toggle);
      item.addEventListener('keydown', (ev) => {
        if (ev.key === 'Enter' || ev.key === ' ') toggle();
      });
      this.legendEl.appendChild(item);
    }
    domains.forEach((name, i) => {
      this.legendEl.appendChild(el('span', 'graft-legend-domain', `${SHAPE_GLYPH[i % 6]} ${name}`));
    });
  }

  private styleLegendItem(item: HTMLElement, off: boolean): void {
    item.classList.toggle('graft-legend-off', off);
    item.setAttribute('aria-pressed', String(!off));
    item.style.opacity = off ? '0.35' : '1';
  }

  // ---- domains and scales -------------------------------------------------

  /** The auto range of the visible data (padded to nice numbers). */
  private computeAuto(): Domain {
    const lx = this.logX;
    const ly = this.logY;
    let ex: [number, number] | null = null;
    let ey: [number, number] | null = null;
    const f = this.fig;
    if (this.kind === 'lines') {
      f.series.forEach((s) => {
        if (this.hidden.has('s:' + s.name)) return;
        ex = extent(s.x, lx, ex ?? undefined) ?? ex;
        if (s.band) {
          const lo = new Float64Array(s.y.length);
          const hi = new Float64Array(s.y.length);
          for (let i = 0; i < s.y.length; i++) {
            const w = Math.abs(s.band[i]);
            lo[i] = isFinite(w) ? s.y[i] - w : s.y[i];
            hi[i] = isFinite(w) ? s.y[i] + w : s.y[i];
          }
          ey = extent(lo, ly, ey ?? undefined) ?? ey;
          ey = extent(hi, ly, ey ?? undefined) ?? ey;
        } else ey = extent(s.y, ly, ey ?? undefined) ?? ey;
      });
    } else if (f.points) {
      ex = extent(f.points.x, lx);
      ey = extent(f.points.y, ly);
    }
    if (this.growing) {
      // Live data: room to grow along x, and for y to keep drifting (losses fall).
      if (ex && !lx) ex = [ex[0], ex[1] + 0.5 * (ex[1] - ex[0])];
      if (ey && !ly) {
        const pad = 0.25 * (ey[1] - ey[0]);
        ey = [ey[0] >= 0 ? Math.max(0, ey[0] - pad) : ey[0] - pad, ey[1] <= 0 ? Math.min(0, ey[1] + pad) : ey[1] + pad];
      }
    }
    const [x0, x1] = ex ? niceDomain(ex[0], ex[1], lx) : niceDomain(NaN, NaN, lx);
    const [y0, y1] = ey ? niceDomain(ey[0], ey[1], ly) : niceDomain(NaN, NaN, ly);
    return { x0, x1, y0, y1 };
  }

  /** The range shown: the user's zoom, else the figure's fixed ends over the auto range. */
  private domain(): Domain {
    if (this.zoom) return this.zoom;
    const a = this.auto ?? (this.auto = this.computeAuto());
    const pick = (fixed: number, auto: number, log: boolean): number => (isFinite(fixed) && (!log || fixed > 0) ? fixed : auto);
    const d = {
      x0: pick(this.fig.x.min, a.x0, this.logX),
      x1: pick(this.fig.x.max, a.x1, this.logX),
      y0: pick(this.fig.y.min, a.y0, this.logY),
      y1: pick(this.fig.y.max, a.y1, this.logY)
    };
    if (!(d.x1 > d.x0)) [d.x0, d.x1] = [a.x0, a.x1];
    if (!(d.y1 > d.y0)) [d.y0, d.y1] = [a.y0, a.y1];
    return d;
  }

  private plotRect(): { l: number; t: number; r: number; b: number } {
    return { l: MARGIN.left, t: MARGIN.top, r: this.layers.width - MARGIN.right, b: this.layers.height - MARGIN.bottom };
  }

  private makeScales(): void {
    const d = this.domain();
    const r = this.plotRect();
    this.sx = makeScale(d.x0, d.x1, r.l, r.r, this.logX);
    this.sy = makeScale(d.y0, d.y1, r.b, r.t, this.logY);
  }

  // ---- painting -------------------------------------------------------------

  private repaint(): void {
    this.pending = 'full';
    this.host.requestPaint();
  }

  paint(): PaintKind | null {
    const kind = this.pending;
    if (!kind) return null;
    this.pending = null;
    const p = this.fig.points;
    const sameMarkers = !p || this.radius(this.sample.length) === this.radius(p.n);
    if (kind === 'append' && this.drawn.length > 0 && sameMarkers && !this.layers.resize(this.layers.width, this.layers.height)) {
      this.paintAppend();
      return 'append';
    }
    this.paintFull();
    return 'full';
  }

  private paintFull(): void {
    const L = this.layers;
    L.resize(L.width, L.height);
    if (!this.zoom) this.auto = this.computeAuto();
    this.emptyNote = this.describeEmpty();
    this.makeScales();
    const ctx = L.bctx;
    L.clear(ctx);
    this.drawAxes(ctx);
    this.clipPlot(ctx);
    if (this.kind === 'lines') {
      this.drawn = this.fig.series.map((s, i) => {
        this.drawSeries(ctx, s, i, 0, s.y.length);
        return s.y.length;
      });
    } else this.drawScatterFull(ctx);
    ctx.restore();
    this.clearOverlay();
  }

  private paintAppend(): void {
    const ctx = this.layers.bctx;
    ctx.setTransform(this.layers.dpr, 0, 0, this.layers.dpr, 0, 0);
    this.clipPlot(ctx);
    if (this.kind === 'lines') {
      this.fig.series.forEach((s, i) => {
        const from = Math.max(0, (this.drawn[i] ?? 0) - 1);
        if (s.y.length > from + 1) this.drawSeries(ctx, s, i, from, s.y.length);
        this.drawn[i] = s.y.length;
      });
    } else this.drawScatterAppend(ctx);
    ctx.restore();
  }

  private clipPlot(ctx: CanvasRenderingContext2D): void {
    const r = this.plotRect();
    ctx.save();
    ctx.beginPath();
    ctx.rect(r.l, r.t, r.r - r.l, r.b - r.t);
    ctx.clip();
  }

  private drawAxes(ctx: CanvasRenderingContext2D): void {
    const r = this.plotRect();
    const d = this.domain();
    ctx.font = AXIS_FONT;
    ctx.lineWidth = 1;
    const xt = ticks(d.x0, d.x1, this.logX, Math.max(2, Math.floor((r.r - r.l) / 90)));
    const yt = ticks(d.y0, d.y1, this.logY, Math.max(2, Math.floor((r.b - r.t) / 45)));
    const xl = formatTicks(xt, this.logX);
    const yl = formatTicks(yt, this.logY);
    ctx.strokeStyle = '#e6e6e6';
    ctx.beginPath();
    for (const v of xt) {
      const x = Math.round(this.sx.map(v)) + 0.5;
      ctx.moveTo(x, r.t);
      ctx.lineTo(x, r.b);
    }
    for (const v of yt) {
      const y = Math.round(this.sy.map(v)) + 0.5;
      ctx.moveTo(r.l, y);
      ctx.lineTo(r.r, y);
    }
    ctx.stroke();
    ctx.strokeStyle = '#888';
    ctx.strokeRect(r.l + 0.5, r.t + 0.5, r.r - r.l - 1, r.b - r.t - 1);
    ctx.fillStyle = '#333';
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    xt.forEach((v, i) => ctx.fillText(xl[i], this.sx.map(v), r.b + 4));
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    yt.forEach((v, i) => ctx.fillText(yl[i], r.l - 4, this.sy.map(v)));
    ctx.textAlign = 'center';
    ctx.textBaseline = 'bottom';
    if (this.fig.x.label) ctx.fillText(this.fig.x.label, (r.l + r.r) / 2, this.layers.height - 2, r.r - r.l);
    if (this.fig.y.label) {
      ctx.save();
      ctx.translate(12, (r.t + r.b) / 2);
      ctx.rotate(-Math.PI / 2);
      ctx.textBaseline = 'middle';
      ctx.fillText(this.fig.y.label, 0, 0, r.b - r.t);
      ctx.restore();
    }
  }

  /** Draws points [from, to) of series i (and its band), decimated per pixel column. */
  private drawSeries(ctx: CanvasRenderingContext2D, s: Series, i: number, from: number, to: number): void {
    if (this.hidden.has('s:' + s.name) || to <= from) return;
    const n = to - from;
    const px = new Float64Array(n);
    const py = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      px[k] = clampPx(this.sx.map(s.x[from + k]));
      py[k] = clampPx(this.sy.map(s.y[from + k]));
    }
    const color = paletteColor(i, s.color);
    if (s.band) this.drawBand(ctx, s, from, to, color);
    const width = this.plotRect().r - this.plotRect().l;
    const idx = n > 4 * width ? decimateLine(px, py) : null;
    const m = idx ? idx.length : n;
    ctx.strokeStyle = color;
    ctx.lineWidth = 1.5;
    ctx.lineJoin = 'round';
    ctx.setLineDash(s.dash ? [6, 4] : []);
    ctx.beginPath();
    let pen = false;
    for (let j = 0; j < m; j++) {
      const k = idx ? idx[j] : j;
      const x = px[k];
      const y = py[k];
      if (!isFinite(x) || !isFinite(y)) {
        pen = false;
        continue;
      }
      if (pen) {
        ctx.lineTo(x, y);
        // Stroke in chunks: software rasterisers slow down badly on one huge path.
        if (j % 512 === 0) {
          ctx.stroke();
          ctx.beginPath();
          ctx.moveTo(x, y);
        }
        continue;
      }
      ctx.moveTo(x, y);
      pen = true;
      // A point with no drawable neighbour after it would be invisible: give it a dot.
      const nk = j + 1 < m ? (idx ? idx[j + 1] : j + 1) : -1;
      if (nk < 0 || !isFinite(px[nk]) || !isFinite(py[nk])) {
        ctx.moveTo(x + 1.5, y);
        ctx.arc(x, y, 1.5, 0, 2 * Math.PI);
        ctx.moveTo(x, y);
      }
    }
    ctx.stroke();
    ctx.setLineDash([]);
  }

  /** Shaded band y ± band over [from, to); strided when much denser than pixels. */
  private drawBand(ctx: CanvasRenderingContext2D, s: Series, from: number, to: number, color: string): void {
    const band = s.band!;
    const width = this.plotRect().r - this.plotRect().l;
    const step = Math.max(1, Math.floor((to - from) / (2 * width)));
    ctx.save();
    ctx.fillStyle = color;
    ctx.globalAlpha = 0.18;
    let run: number[] = [];
    const flush = (): void => {
      if (run.length > 1) {
        ctx.beginPath();
        run.forEach((k, j) => {
          const x = clampPx(this.sx.map(s.x[k]));
          const y = clampPx(this.sy.map(s.y[k] + Math.abs(band[k])));
          if (j === 0) ctx.moveTo(x, y);
          else ctx.lineTo(x, y);
        });
        for (let j = run.length - 1; j >= 0; j--) {
          const k = run[j];
          ctx.lineTo(clampPx(this.sx.map(s.x[k])), clampPx(this.sy.map(s.y[k] - Math.abs(band[k]))));
        }
        ctx.closePath();
        ctx.fill();
      }
      run = [];
    };
    // Every step-th point, and always the last one.
    for (let k = from; ; k = Math.min(k + step, to - 1)) {
      const ok =
        isFinite(this.sx.map(s.x[k])) &&
        isFinite(this.sy.map(s.y[k] + Math.abs(band[k]))) &&
        isFinite(this.sy.map(s.y[k] - Math.abs(band[k])));
      if (ok) run.push(k);
      else flush();
      if (k >= to - 1) break;
    }
    flush();
    ctx.restore();
  }

  /** Marker radius for the number of points drawn. */
  private radius(n: number): number {
    return n <= 2000 ? 3.5 : n <= 20000 ? 2.5 : 1.5;
  }

  private drawScatterFull(ctx: CanvasRenderingContext2D): void {
    const p = this.fig.points;
    if (!p) {
      this.sample = new Uint32Array(0);
      this.px = this.py = new Float32Array(0);
      this.hit = null;
      this.drawn = [0];
      this.sampleNote = '';
      return;
    }
    const s = strideSample(p.n);
    this.sample = s.indices;
    this.sampleNote = s.note;
    this.px = new Float32Array(s.indices.length);
    this.py = new Float32Array(s.indices.length);
    this.projectPoints(0, s.indices.length);
    this.drawPoints(ctx, 0, s.indices.length);
    this.drawn = [p.n];
    this.rebuildHit();
  }

  private drawScatterAppend(ctx: CanvasRenderingContext2D): void {
    const p = this.fig.points;
    if (!p) return;
    const n0 = this.sample.length;
    const n1 = p.n; // plan.ts guarantees no sampling when appending
    const sample = new Uint32Array(n1);
    sample.set(this.sample);
    for (let i = n0; i < n1; i++) sample[i] = i;
    const px = new Float32Array(n1);
    const py = new Float32Array(n1);
    px.set(this.px);
    py.set(this.py);
    this.sample = sample;
    this.px = px;
    this.py = py;
    this.projectPoints(n0, n1);
    this.drawPoints(ctx, n0, n1);
    this.drawn = [n1];
    this.rebuildHit();
  }

  /** Screen positions of sample[from..to); NaN for hidden or unplottable points. */
  private projectPoints(from: number, to: number): void {
    const p = this.fig.points!;
    for (let j = from; j < to; j++) {
      const i = this.sample[j];
      const c = p.cls ? p.cls[i] : -1;
      if (this.hidden.size > 0 && this.hidden.has('c:' + c)) {
        this.px[j] = this.py[j] = NaN;
        continue;
      }
      this.px[j] = clampPx(this.sx.map(p.x[i]));
      this.py[j] = clampPx(this.sy.map(p.y[i]));
    }
  }

  /**
   * Draws sample[from..to) by stamping markers into a pixel buffer the size of
   * the plot rectangle (see raster.ts) and compositing it onto the base canvas.
   * Points are drawn in index order, so later points are on top.
   */
  private drawPoints(ctx: CanvasRenderingContext2D, from: number, to: number): void {
    const p = this.fig.points!;
    if (to <= from) return;
    const dpr = this.layers.dpr;
    const rect = this.plotRect();
    const x0 = Math.floor(rect.l * dpr);
    const y0 = Math.floor(rect.t * dpr);
    const W = Math.max(1, Math.ceil(rect.r * dpr) - x0);
    const H = Math.max(1, Math.ceil(rect.b * dpr) - y0);
    const img = new ImageData(W, H);
    const raster = new PointRaster(W, H, img.data);
    const r = this.radius(this.sample.length) * dpr;
    const masks = [0, 1, 2, 3, 4, 5].map((s) => markerMask(s, r));
    const rgbCache = new Map<number, [number, number, number]>();
    const rgb = (c: number): [number, number, number] => {
      let v = rgbCache.get(c);
      if (!v) {
        v = parseColor(c < 0 ? (p.cls ? '#777777' : paletteColor(0, this.fig.colors[0])) : paletteColor(c, this.fig.colors[c]));
        rgbCache.set(c, v);
      }
      return v;
    };
    const alpha = this.sample.length > 5000 ? 0.65 : 0.9;
    for (let j = from; j < to; j++) {
      const x = this.px[j];
      const y = this.py[j];
      if (!(x >= rect.l - 8 && x <= rect.r + 8 && y >= rect.t - 8 && y <= rect.b + 8)) continue;
      const i = this.sample[j];
      const d = p.domain ? p.domain[i] : 0;
      raster.stamp(masks[d > 0 ? d % 6 : 0], x * dpr - x0, y * dpr - y0, rgb(p.cls ? p.cls[i] : -1), alpha);
    }
    const off = this.scratch ?? (this.scratch = document.createElement('canvas'));
    off.width = W;
    off.height = H;
    const octx = off.getContext('2d');
    if (!octx) return;
    octx.putImageData(img, 0, 0);
    ctx.drawImage(off, x0 / dpr, y0 / dpr, W / dpr, H / dpr);
  }

  private rebuildHit(): void {
    this.hit = new GridIndex(this.px, this.py, this.sample, this.layers.width, this.layers.height);
  }

  // ---- overlay: hover, zoom box ---------------------------------------------

  private clearOverlay(): void {
    this.layers.clear(this.layers.octx);
  }

  private inPlot(x: number, y: number): boolean {
    const r = this.plotRect();
    return x >= r.l && x <= r.r && y >= r.t && y <= r.b;
  }

  /** Hover: find the nearest point, ring it on the overlay, fill the tooltip. */
  private hover(x: number, y: number): void {
    const t0 = now();
    this.clearOverlay();
    const ctx = this.layers.octx;
    let shown = false;
    if (this.inPlot(x, y) && this.drawn.length > 0) {
      if (this.kind === 'scatter') shown = this.hoverScatter(ctx, x, y);
      else shown = this.hoverLines(ctx, x, y);
    }
    if (!shown) this.tooltip.hide();
    recordHover(now() - t0);
  }

  private hoverScatter(ctx: CanvasRenderingContext2D, x: number, y: number): boolean {
    const p = this.fig.points;
    if (!p || !this.hit) return false;
    const i = this.hit.nearest(x, y, HOVER_PX);
    if (i < 0 || i >= p.n) return false;
    const cx = this.sx.map(p.x[i]);
    const cy = this.sy.map(p.y[i]);
    ctx.strokeStyle = '#000';
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.arc(cx, cy, this.radius(this.sample.length) + 3, 0, 2 * Math.PI);
    ctx.stroke();
    const c = p.cls ? p.cls[i] : -1;
    const d = p.domain ? p.domain[i] : -1;
    const lines = tooltipForPoint({
      label: p.label ? p.label[i] : undefined,
      index: p.index ? p.index[i] : undefined,
      className: c >= 0 ? this.fig.classes[c] ?? String(c) : undefined,
      domainName: d >= 0 ? this.fig.domains[d] ?? String(d) : undefined,
      x: p.x[i],
      y: p.y[i]
    });
    this.tooltip.show(lines, cx, cy);
    return true;
  }

  private hoverLines(ctx: CanvasRenderingContext2D, x: number, y: number): boolean {
    const xd = this.sx.invert(x);
    let best = -1;
    let bestK = -1;
    let bestD = Infinity;
    this.fig.series.forEach((s, si) => {
      if (this.hidden.has('s:' + s.name)) return;
      const k = nearestX(s.x, s.y, xd, this.sorted[si]);
      if (k < 0) return;
      const dx = this.sx.map(s.x[k]) - x;
      const dy = this.sy.map(s.y[k]) - y;
      if (!isFinite(dx) || !isFinite(dy) || Math.abs(dx) > LINE_HOVER_PX) return;
      const dist = dx * dx + dy * dy;
      if (dist < bestD) {
        bestD = dist;
        best = si;
        bestK = k;
      }
    });
    if (best < 0) return false;
    const s = this.fig.series[best];
    const cx = this.sx.map(s.x[bestK]);
    const cy = this.sy.map(s.y[bestK]);
    const r = this.plotRect();
    ctx.strokeStyle = 'rgba(0,0,0,0.25)';
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(Math.round(cx) + 0.5, r.t);
    ctx.lineTo(Math.round(cx) + 0.5, r.b);
    ctx.stroke();
    ctx.fillStyle = paletteColor(best, s.color);
    ctx.strokeStyle = '#fff';
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    ctx.arc(cx, cy, 4, 0, 2 * Math.PI);
    ctx.fill();
    ctx.stroke();
    this.tooltip.show(tooltipForLine(s.name, s.x[bestK], s.y[bestK], s.band ? s.band[bestK] : undefined), cx, cy);
    return true;
  }

  private drawBox(x: number, y: number): void {
    const d = this.drag!;
    this.clearOverlay();
    const ctx = this.layers.octx;
    const r = this.plotRect();
    const cx = Math.max(r.l, Math.min(r.r, x));
    const cy = Math.max(r.t, Math.min(r.b, y));
    ctx.fillStyle = 'rgba(0,114,178,0.12)';
    ctx.strokeStyle = 'rgba(0,114,178,0.8)';
    ctx.lineWidth = 1;
    ctx.fillRect(d.x, d.y, cx - d.x, cy - d.y);
    ctx.strokeRect(d.x + 0.5, d.y + 0.5, cx - d.x, cy - d.y);
  }

  // ---- zoom and pan ------------------------------------------------------------

  /** Sets the zoom from transformed-space ends (log10 on log axes). */
  private setZoomT(tx0: number, tx1: number, ty0: number, ty1: number): void {
    if (![tx0, tx1, ty0, ty1].every(isFinite) || tx1 <= tx0 || ty1 <= ty0) return;
    // Refuse zooms beyond float resolution.
    if ((tx1 - tx0) / (Math.abs(tx0) + Math.abs(tx1) + 1e-300) < 1e-12) return;
    if ((ty1 - ty0) / (Math.abs(ty0) + Math.abs(ty1) + 1e-300) < 1e-12) return;
    this.zoom = { x0: inv(tx0, this.logX), x1: inv(tx1, this.logX), y0: inv(ty0, this.logY), y1: inv(ty1, this.logY) };
    this.tooltip.hide();
    this.repaint();
  }

  private tDomain(d: Domain): [number, number, number, number] {
    return [fwd(d.x0, this.logX), fwd(d.x1, this.logX), fwd(d.y0, this.logY), fwd(d.y1, this.logY)];
  }

  private wheel(e: WheelEvent): void {
    const [x, y] = this.layers.local(e);
    const r = this.plotRect();
    const onX = y > r.b && x >= r.l; // over the x axis: zoom x only
    const onY = x < r.l && y <= r.b; // over the y axis: zoom y only
    if (!this.inPlot(x, y) && !onX && !onY) return;
    if (!this.engaged && !e.ctrlKey && !e.altKey && !e.metaKey) return; // the page scrolls
    e.preventDefault();
    const dy = e.deltaMode === 1 ? e.deltaY * 16 : e.deltaMode === 2 ? e.deltaY * 400 : e.deltaY;
    const f = Math.pow(1.0015, Math.max(-300, Math.min(300, dy)));
    const [tx0, tx1, ty0, ty1] = this.tDomain(this.domain());
    const cx = fwd(this.sx.invert(x), this.logX);
    const cy = fwd(this.sy.invert(y), this.logY);
    const fx = onY ? 1 : f;
    const fy = onX ? 1 : f;
    this.setZoomT(cx + (tx0 - cx) * fx, cx + (tx1 - cx) * fx, cy + (ty0 - cy) * fy, cy + (ty1 - cy) * fy);
  }

  private endDrag(x: number, y: number): void {
    const d = this.drag;
    this.drag = null;
    this.clearOverlay();
    if (!d || d.mode !== 'box') return;
    const r = this.plotRect();
    const cx = Math.max(r.l, Math.min(r.r, x));
    const cy = Math.max(r.t, Math.min(r.b, y));
    const wide = Math.abs(cx - d.x) >= 5;
    const tall = Math.abs(cy - d.y) >= 5;
    if (!wide && !tall) return;
    const [tx0, tx1, ty0, ty1] = this.tDomain(this.domain());
    const tX = (px: number): number => fwd(this.sx.invert(px), this.logX);
    const tY = (py: number): number => fwd(this.sy.invert(py), this.logY);
    this.setZoomT(
      wide ? Math.min(tX(d.x), tX(cx)) : tx0,
      wide ? Math.max(tX(d.x), tX(cx)) : tx1,
      tall ? Math.min(tY(d.y), tY(cy)) : ty0,
      tall ? Math.max(tY(d.y), tY(cy)) : ty1
    );
  }

  private pan(x: number, y: number): void {
    const d = this.drag!;
    const r = this.plotRect();
    const [tx0, tx1, ty0, ty1] = this.tDomain(d.dom);
    const dx = ((x - d.x) / (r.r - r.l)) * (tx1 - tx0);
    const dy = ((y - d.y) / (r.b - r.t)) * (ty1 - ty0);
    this.setZoomT(tx0 - dx, tx1 - dx, ty0 + dy, ty1 + dy);
  }

  resetZoom(): void {
    this.zoom = null;
    this.repaint();
  }

  private toggleLog(axis: 'x' | 'y'): void {
    if (axis === 'x') this.userLogX = !this.logX;
    else this.userLogY = !this.logY;
    setPressed(this.logXBtn, this.logX);
    setPressed(this.logYBtn, this.logY);
    this.zoom = null;
    this.repaint();
  }

  private bindEvents(): void {
    const o = this.layers.overlay;
    const h = this.host;
    const on = <K extends keyof HTMLElementEventMap>(t: EventTarget, type: K, fn: (e: HTMLElementEventMap[K]) => void, opts?: AddEventListenerOptions): void => {
      const g = guarded(h, fn as (e: Event) => void);
      t.addEventListener(type, g as EventListener, opts);
      this.cleanup.push(() => t.removeEventListener(type, g as EventListener, opts));
    };
    on(o, 'mousemove', (e) => {
      if (this.drag) return;
      const [x, y] = this.layers.local(e);
      this.hover(x, y);
    });
    on(o, 'mouseleave', () => {
      this.engaged = false;
      if (this.drag) return;
      this.clearOverlay();
      this.tooltip.hide();
    });
    on(o, 'wheel', (e) => this.wheel(e), { passive: false });
    on(o, 'dblclick', (e) => {
      e.preventDefault();
      this.resetZoom();
    });
    const move = guarded(h, (e: MouseEvent) => {
      if (!this.drag) return;
      const [x, y] = this.layers.local(e);
      this.drag.lastX = x;
      this.drag.lastY = y;
      if (this.drag.mode === 'box') this.drawBox(x, y);
      else this.pan(x, y);
    });
    const up = guarded(h, (e: MouseEvent) => {
      window.removeEventListener('mousemove', move);
      window.removeEventListener('mouseup', up);
      const [x, y] = this.layers.local(e);
      this.endDrag(x, y);
    });
    this.cleanup.push(() => {
      window.removeEventListener('mousemove', move);
      window.removeEventListener('mouseup', up);
    });
    on(o, 'mousedown', (e) => {
      this.engaged = true;
      const [x, y] = this.layers.local(e);
      if (!this.inPlot(x, y) || (e.button !== 0 && e.button !== 1)) return;
      e.preventDefault();
      this.tooltip.hide();
      this.drag = { mode: e.shiftKey || e.button === 1 ? 'pan' : 'box', x, y, dom: this.domain(), lastX: x, lastY: y };
      window.addEventListener('mousemove', move);
      window.addEventListener('mouseup', up);
    });
  }
}
