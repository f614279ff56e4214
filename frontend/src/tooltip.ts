/**
 * tooltip.ts — the hover tooltip: its lines are built as plain strings
 * (tooltipFor* are pure, for tests) and shown through textContent.
 */
import { el, css } from './dom';
import { truncate } from './spec';
import { formatValue } from './scale';

/** Longest text shown per tooltip line. */
export const TOOLTIP_MAX = 80;

/** Lines for a scatter point. Missing fields are left out. */
export function tooltipForPoint(p: {
  label?: string;
  index?: number;
  className?: string;
  domainName?: string;
  x: number;
  y: number;
}): string[] {
  const out: string[] = [];
  if (p.label) out.push(truncate(p.label, TOOLTIP_MAX));
  if (p.index !== undefined && isFinite(p.index)) out.push(`index: ${p.index}`);
  if (p.className !== undefined) out.push(`class: ${truncate(p.className, TOOLTIP_MAX)}`);
  if (p.domainName !== undefined) out.push(`domain: ${truncate(p.domainName, TOOLTIP_MAX)}`);
  out.push(`x: ${formatValue(p.x)}`, `y: ${formatValue(p.y)}`);
  return out;
}

/** Lines for a point of a line series. */
export function tooltipForLine(name: string, x: number, y: number, band?: number): string[] {
  const out = [truncate(name, TOOLTIP_MAX), `x: ${formatValue(x)}`, `y: ${formatValue(y)}`];
  if (band !== undefined && isFinite(band)) out.push(`\u00b1 ${formatValue(band)}`);
  return out;
}

/** Lines for a heatmap cell. */
export function tooltipForCell(rowLabel: string, colLabel: string, value: number): string[] {
  return [`row: ${truncate(rowLabel, TOOLTIP_MAX)}`, `col: ${truncate(colLabel, TOOLTIP_MAX)}`, `value: ${formatValue(value)}`];
}

/** A tooltip element positioned inside a relatively positioned container. */
export class Tooltip {
  readonly node = el('div', 'graft-tooltip');

  constructor(private readonly container: HTMLElement) {
    css(this.node, {
      position: 'absolute',
      display: 'none',
      pointerEvents: 'none',
      whiteSpace: 'pre',
      font: '11px sans-serif',
      background: 'rgba(255,255,255,0.95)',
      color: '#000',
      border: '1px solid #999',
      borderRadius: '3px',
      padding: '3px 5px',
      zIndex: '10',
      maxWidth: '360px',
      overflow: 'hidden'
    });
    container.appendChild(this.node);
  }

  /** Shows the lines near (x, y), kept inside the container. */
  show(lines: string[], x: number, y: number): void {
    this.node.textContent = lines.join('\n');
    this.node.style.display = 'block';
    const w = this.node.offsetWidth;
    const h = this.node.offsetHeight;
    const cw = this.container.clientWidth;
    const ch = this.container.clientHeight;
    let left = x + 12;
    let top = y + 12;
    if (left + w > cw) left = Math.max(0, x - 12 - w);
    if (top + h > ch) top = Math.max(0, y - 12 - h);
    this.node.style.left = `${left}px`;
    this.node.style.top = `${top}px`;
  }

  hide(): void {
    this.node.style.display = 'none';
  }
}
