/**
 * grid.ts — composite views: "grid" (panels of any kind in `cols` columns)
 * and "dashboard" (a training header — progress bar, rate, elapsed, ETA and
 * metric cards — above a grid of line panels).
 */
import { Figure, Kind, Metric, Progress } from './spec';
import { el, css } from './dom';
import { formatValue, formatDuration } from './scale';
import { View, ViewHost, ViewFactory, PaintKind, makeHeader } from './view';

const GAP = 8;

/** Panels laid out in columns; each panel is its own view. */
export class GridView implements View {
  readonly element: HTMLDivElement;
  readonly kind: Kind;
  private children: View[] = [];
  private readonly titleEl: HTMLDivElement;
  private readonly body: HTMLDivElement;
  private rebuilt = false;

  constructor(
    private fig: Figure,
    private readonly width: number,
    private readonly host: ViewHost,
    private readonly factory: ViewFactory,
    showTitle = true
  ) {
    this.kind = fig.kind === 'dashboard' ? 'dashboard' : 'grid';
    this.element = el('div', 'graft-view graft-grid');
    css(this.element, { width: `${width}px` });
    const header = makeHeader(fig.title);
    this.titleEl = header.title;
    if (showTitle) this.element.appendChild(header.row);
    this.body = el('div', 'graft-grid-body');
    this.element.appendChild(this.body);
    this.build();
  }

  /** Column count and panel size for the current figure. */
  private cell(): { cols: number; w: number; h: number } {
    const n = Math.max(1, this.fig.panels.length);
    const cols = Math.max(1, Math.min(this.fig.cols, n));
    const w = Math.floor((this.width - GAP * (cols - 1)) / cols);
    const h = Math.max(180, Math.min(400, Math.round(w * 0.66)));
    return { cols, w, h };
  }

  private build(): void {
    this.children.forEach((c) => c.dispose());
    const { cols, w, h } = this.cell();
    css(this.body, { display: 'grid', gridTemplateColumns: `repeat(${cols}, ${w}px)`, gap: `${GAP}px` });
    this.children = this.fig.panels.map((p) => this.factory(p, w, h, this.host));
    this.body.textContent = '';
    this.children.forEach((c) => this.body.appendChild(c.element));
    this.rebuilt = true;
  }

  update(fig: Figure): boolean {
    if (fig.kind !== this.fig.kind) return false;
    const old = this.fig;
    this.fig = fig;
    this.titleEl.textContent = fig.title;
    const same =
      old.panels.length === fig.panels.length && old.cols === fig.cols && this.children.every((c, i) => c.kind === fig.panels[i].kind);
    if (!same) {
      this.build();
      this.host.requestPaint();
      return true;
    }
    this.children.forEach((c, i) => {
      if (!c.update(fig.panels[i])) {
        const { w, h } = this.cell();
        const fresh = this.factory(fig.panels[i], w, h, this.host);
        this.body.replaceChild(fresh.element, c.element);
        c.dispose();
        this.children[i] = fresh;
      }
    });
    this.host.requestPaint();
    return true;
  }

  paint(): PaintKind | null {
    let out: PaintKind | null = this.rebuilt ? 'full' : null;
    this.rebuilt = false;
    for (const c of this.children) {
      const r = c.paint();
      if (r === 'full') out = 'full';
      else if (r === 'append' && out === null) out = 'append';
    }
    return out;
  }

  notes(): string[] {
    const out: string[] = [];
    this.children.forEach((c, i) => c.notes().forEach((n) => out.push(`panel ${i + 1}: ${n}`)));
    return out;
  }

  dispose(): void {
    this.children.forEach((c) => c.dispose());
  }
}

/** The text parts of a dashboard header, derived from progress (pure, for tests). */
export function progressText(p: Progress): { fraction: number; step: string; rate: string; elapsed: string; eta: string } {
  const hasTotal = p.total > 0 && isFinite(p.step);
  const fraction = p.done ? 1 : hasTotal ? Math.max(0, Math.min(1, p.step / p.total)) : NaN;
  const step = isFinite(p.step)
    ? hasTotal
      ? `step ${p.step} / ${p.total} (${Math.floor(fraction * 100)}%)`
      : `step ${p.step}`
    : '';
  const rate = isFinite(p.rate) ? `${formatValue(parseFloat(p.rate.toPrecision(3)))} steps/s` : '';
  const elapsed = isFinite(p.elapsed) ? `elapsed ${formatDuration(p.elapsed)}` : '';
  let eta = '';
  if (p.done) eta = 'done';
  else if (hasTotal && p.rate > 0) eta = `ETA ${formatDuration((p.total - p.step) / p.rate)}`;
  return { fraction, step, rate, elapsed, eta };
}

/** A header with progress and metric cards, then a grid of panels. */
export class DashboardView implements View {
  readonly element: HTMLDivElement;
  readonly kind: Kind = 'dashboard';
  private readonly grid: GridView;
  private readonly titleEl: HTMLDivElement;
  private readonly desc = el('span', 'graft-progress-desc');
  private readonly bar = el('div', 'graft-progress-bar');
  private readonly fill = el('div', 'graft-progress-fill');
  private readonly info = el('span', 'graft-progress-info');
  private readonly metricsEl = el('div', 'graft-metrics');
  private headerChanged = true;
  private headerSig = '';

  constructor(private fig: Figure, width: number, host: ViewHost, factory: ViewFactory) {
    this.element = el('div', 'graft-view graft-dashboard');
    css(this.element, { width: `${width}px` });
    const header = makeHeader(fig.title);
    this.titleEl = header.title;
    const progress = el('div', 'graft-progress');
    css(progress, { display: 'flex', alignItems: 'center', gap: '8px', font: '12px sans-serif', margin: '2px 0 6px' });
    css(this.bar, { flex: '1', height: '10px', background: '#e8e8e8', borderRadius: '5px', overflow: 'hidden', minWidth: '80px' });
    css(this.fill, { height: '100%', width: '0%', background: '#0072B2' });
    this.bar.setAttribute('role', 'progressbar');
    this.bar.appendChild(this.fill);
    css(this.info, { whiteSpace: 'nowrap', color: '#333' });
    progress.append(this.desc, this.bar, this.info);
    css(this.metricsEl, { display: 'flex', flexWrap: 'wrap', gap: '6px', marginBottom: '8px' });
    this.grid = new GridView(fig, width, host, factory, false);
    this.element.append(header.row, progress, this.metricsEl, this.grid.element);
    this.syncHeader();
  }

  private syncHeader(): void {
    const f = this.fig;
    const sig = JSON.stringify([f.title, f.progress, f.metrics]);
    if (sig === this.headerSig) return;
    this.headerSig = sig;
    this.headerChanged = true;
    this.titleEl.textContent = f.title;
    const p = f.progress;
    const t = p ? progressText(p) : null;
    this.desc.textContent = p ? p.description : '';
    this.bar.style.display = t && !isNaN(t.fraction) ? '' : 'none';
    if (t && !isNaN(t.fraction)) {
      this.fill.style.width = `${(t.fraction * 100).toFixed(1)}%`;
      this.fill.style.background = p!.done ? '#009E73' : '#0072B2';
      this.bar.setAttribute('aria-valuenow', String(Math.round(t.fraction * 100)));
    }
    this.info.textContent = t ? [t.step, t.rate, t.elapsed, t.eta].filter((s) => s).join(' \u00b7 ') : '';
    this.renderMetrics(f.metrics);
  }

  private renderMetrics(ms: Metric[]): void {
    this.metricsEl.textContent = '';
    for (const m of ms) {
      const card = el('div', 'graft-metric');
      css(card, { border: '1px solid #ddd', borderRadius: '4px', padding: '3px 8px', minWidth: '70px', font: '12px sans-serif' });
      const name = el('div', 'graft-metric-name', m.name);
      css(name, { color: '#666', fontSize: '11px' });
      const value = el('div', 'graft-metric-value', isNaN(m.value) ? '\u2014' : formatValue(m.value));
      css(value, { fontWeight: 'bold', fontSize: '14px' });
      card.append(name, value);
      this.metricsEl.appendChild(card);
    }
  }

  update(fig: Figure): boolean {
    if (fig.kind !== 'dashboard') return false;
    this.fig = fig;
    this.syncHeader();
    return this.grid.update(fig);
  }

  paint(): PaintKind | null {
    const r = this.grid.paint();
    const header = this.headerChanged;
    this.headerChanged = false;
    return r ?? (header ? 'append' : null);
  }

  notes(): string[] {
    return this.grid.notes();
  }

  dispose(): void {
    this.grid.dispose();
  }
}
