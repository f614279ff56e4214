/**
 * renderer.ts — FigureRenderer, the object the notebook integrations hold:
 * one root element (class graft-figure), update(json) for every new version
 * of the figure, never throwing. It parses, keeps or rebuilds the view,
 * paints inside requestAnimationFrame, shows notes, and records the debug
 * stats (window.graftFigureStats) and the root's data-frame attribute.
 */
import { parseFigure, Figure, truncate } from './spec';
import { el, css, nextFrame, now } from './dom';
import { View, ViewHost } from './view';
import { XYPlot } from './xyplot';
import { HeatmapView } from './heatmap';
import { GridView, DashboardView } from './grid';
import { recordPaint } from './stats';

/** Builds the view for a figure of a known kind. */
export function createView(fig: Figure, width: number, height: number, host: ViewHost): View {
  switch (fig.kind) {
    case 'heatmap':
      return new HeatmapView(fig, width, height, host);
    case 'grid':
      return new GridView(fig, width, host, createView);
    case 'dashboard':
      return new DashboardView(fig, width, host, createView);
    default:
      return new XYPlot(fig, width, height, host);
  }
}

/** The producer's notes of a figure and, prefixed, of its panels. */
export function figureNotes(fig: Figure, prefix = ''): string[] {
  const out = fig.notes.map((n) => prefix + n);
  fig.panels.forEach((p, i) => out.push(...figureNotes(p, `${prefix}panel ${i + 1}: `)));
  return out;
}

export class FigureRenderer implements ViewHost {
  readonly root: HTMLDivElement;
  private readonly body: HTMLDivElement;
  private readonly notesEl: HTMLDivElement;
  private view: View | null = null;
  private frame = 0;
  private kind = '';
  /** Size the current view was built for. */
  private size = '';
  private parseNotes: string[] = [];
  private errorNote = '';
  private notesSig = '';
  private scheduled = false;
  private disposed = false;

  constructor() {
    this.root = el('div', 'graft-figure');
    css(this.root, {
      position: 'relative',
      display: 'inline-block',
      maxWidth: '100%',
      overflowX: 'auto',
      font: '12px sans-serif',
      color: '#222',
      background: '#fff',
      padding: '2px',
      boxSizing: 'border-box'
    });
    this.body = el('div', 'graft-body');
    this.notesEl = el('div', 'graft-notes');
    css(this.notesEl, { font: '11px sans-serif', color: '#555' });
    this.root.append(this.body, this.notesEl);
  }

  /** Shows a new version of the figure (object or JSON string). Never throws. */
  update(raw: unknown): void {
    if (this.disposed) return;
    try {
      this.errorNote = '';
      const { figure, problems } = parseFigure(raw);
      this.frame = isFinite(figure.frame) ? figure.frame : 0;
      this.kind = figure.kind ?? 'none';
      this.parseNotes = problems.concat(figureNotes(figure));
      if (!figure.kind) {
        this.dropView();
      } else if (!this.view || this.view.kind !== figure.kind || this.size !== `${figure.width}x${figure.height}` || !this.view.update(figure)) {
        this.dropView();
        this.size = `${figure.width}x${figure.height}`;
        this.view = createView(figure, figure.width, figure.height, this);
        this.body.appendChild(this.view.element);
      }
      this.requestPaint();
    } catch (e) {
      this.fail(e);
    }
  }

  requestPaint(): void {
    if (this.scheduled || this.disposed) return;
    this.scheduled = true;
    nextFrame(() => {
      this.scheduled = false;
      this.paint();
    });
  }

  /** Shows an error as a note; the next update starts from a fresh view. */
  fail(e: unknown): void {
    try {
      console.error('graft-figure:', e);
      this.errorNote = 'figure could not be drawn: ' + truncate(e instanceof Error ? e.message : String(e), 300);
      this.dropView();
      this.renderNotes();
    } catch {
      // Nothing more can be done without risking the page.
    }
  }

  dispose(): void {
    this.disposed = true;
    this.dropView();
  }

  private dropView(): void {
    if (!this.view) return;
    const v = this.view;
    this.view = null;
    try {
      v.dispose();
    } finally {
      v.element.remove();
    }
  }

  private paint(): void {
    if (this.disposed) return;
    try {
      const done = this.view ? this.view.paint() : null;
      if (done) recordPaint({ frame: this.frame, t: now(), kind: this.kind, full: done === 'full' });
      this.root.setAttribute('data-frame', String(this.frame));
      this.renderNotes();
    } catch (e) {
      this.fail(e);
    }
  }

  private renderNotes(): void {
    const notes = this.parseNotes.concat(this.view ? this.view.notes() : []);
    if (this.errorNote) notes.unshift(this.errorNote);
    const sig = notes.join('\n');
    if (sig === this.notesSig) return;
    this.notesSig = sig;
    this.notesEl.textContent = '';
    for (const n of notes) {
      const d = el('div', 'graft-note', n);
      if (n === this.errorNote) d.classList.add('graft-error');
      this.notesEl.appendChild(d);
    }
  }
}
