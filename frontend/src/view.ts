/**
 * view.ts — what every figure view has in common: the View interface the
 * renderer drives, the two stacked canvases (base = data, overlay = hover and
 * drag feedback) with devicePixelRatio handling, and the header row.
 */
import { Figure, Kind } from './spec';
import { el, css } from './dom';

/** What a paint did: redrew everything, or drew only new data on top. */
export type PaintKind = 'full' | 'append';

/** The renderer, as seen by its views. */
export interface ViewHost {
  /** Asks for paint() on the next animation frame. */
  requestPaint(): void;
  /** Reports an error from an event handler; the figure shows it as a note. */
  fail(e: unknown): void;
}

export interface View {
  readonly element: HTMLElement;
  readonly kind: Kind;
  /** Takes a newer figure of the same kind; false when the view must be rebuilt. */
  update(fig: Figure): boolean;
  /** Draws whatever is pending; null when nothing was. Called inside requestAnimationFrame. */
  paint(): PaintKind | null;
  /** Notes produced while drawing (e.g. sampling). */
  notes(): string[];
  dispose(): void;
}

export type ViewFactory = (fig: Figure, width: number, height: number, host: ViewHost) => View;

/** Wraps an event handler so that it never throws into the page. */
export function guarded<A extends unknown[]>(host: ViewHost, fn: (...a: A) => void): (...a: A) => void {
  return (...a: A) => {
    try {
      fn(...a);
    } catch (e) {
      host.fail(e);
    }
  };
}

/** Base and overlay canvases stacked in a relatively positioned box. */
export class Layers {
  readonly wrap = el('div', 'graft-canvas-wrap');
  readonly base = el('canvas', 'graft-canvas-base');
  readonly overlay = el('canvas', 'graft-canvas-overlay');
  readonly bctx: CanvasRenderingContext2D;
  readonly octx: CanvasRenderingContext2D;
  width = 0;
  height = 0;
  dpr = 1;

  constructor(width: number, height: number) {
    css(this.wrap, { position: 'relative', overflow: 'hidden' });
    for (const c of [this.base, this.overlay]) {
      css(c, { position: 'absolute', left: '0', top: '0', display: 'block' });
      this.wrap.appendChild(c);
    }
    css(this.overlay, { cursor: 'crosshair', touchAction: 'none' });
    const b = this.base.getContext('2d');
    const o = this.overlay.getContext('2d');
    if (!b || !o) throw new Error('this browser has no 2D canvas');
    this.bctx = b;
    this.octx = o;
    this.resize(width, height);
  }

  /** Current device pixel ratio (1 where unknown). */
  static deviceRatio(): number {
    const r = typeof window !== 'undefined' ? window.devicePixelRatio : 1;
    return r > 0 && isFinite(r) ? Math.min(r, 4) : 1;
  }

  /** Sizes both canvases to width×height CSS px; returns true if anything changed. */
  resize(width: number, height: number): boolean {
    const dpr = Layers.deviceRatio();
    if (width === this.width && height === this.height && dpr === this.dpr) return false;
    this.width = width;
    this.height = height;
    this.dpr = dpr;
    css(this.wrap, { width: `${width}px`, height: `${height}px` });
    for (const c of [this.base, this.overlay]) {
      c.width = Math.max(1, Math.round(width * dpr));
      c.height = Math.max(1, Math.round(height * dpr));
      css(c, { width: `${width}px`, height: `${height}px` });
    }
    return true;
  }

  /** Resets the transform to CSS pixels and clears the context's canvas. */
  clear(ctx: CanvasRenderingContext2D): void {
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    ctx.clearRect(0, 0, this.width, this.height);
  }

  /** Mouse position in CSS px relative to the canvases. */
  local(e: MouseEvent): [number, number] {
    const r = this.overlay.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top];
  }
}

/** Height of the header row (title and toolbar). */
export const HEADER_H = 24;

/** A header row with the title (ellipsised) on the left and a toolbar slot on the right. */
export function makeHeader(title: string): { row: HTMLDivElement; title: HTMLDivElement; tools: HTMLDivElement } {
  const row = el('div', 'graft-header');
  css(row, { display: 'flex', alignItems: 'center', height: `${HEADER_H}px`, gap: '6px' });
  const t = el('div', 'graft-title', title);
  css(t, { flex: '1', fontWeight: 'bold', fontSize: '13px', overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' });
  const tools = el('div', 'graft-toolbar');
  css(tools, { display: 'flex', gap: '3px' });
  row.append(t, tools);
  return { row, title: t, tools };
}

/** A small toolbar button. */
export function toolButton(label: string, tip: string, onClick: () => void): HTMLButtonElement {
  const b = el('button', 'graft-btn', label);
  b.type = 'button';
  b.title = tip;
  css(b, { font: '11px sans-serif', padding: '1px 6px', border: '1px solid #bbb', borderRadius: '3px', background: '#f7f7f7', cursor: 'pointer' });
  b.addEventListener('click', onClick);
  return b;
}

/** Marks a toggle button as on/off. */
export function setPressed(b: HTMLButtonElement, on: boolean): void {
  b.setAttribute('aria-pressed', String(on));
  b.style.background = on ? '#dde8f3' : '#f7f7f7';
}
