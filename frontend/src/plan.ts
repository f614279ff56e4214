/**
 * plan.ts — deciding, for a live update, whether the new figure can be drawn
 * by appending to what is on the canvas or must be redrawn whole.
 */
import { Figure, Axis } from './spec';

/** A data rectangle: x in [x0, x1], y in [y0, y1]. */
export interface Domain {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

export type Plan = 'none' | 'append' | 'full';

/** Same number, counting NaN equal to NaN. */
function sameNum(a: number, b: number): boolean {
  return a === b || (a !== a && b !== b);
}

function sameStrings(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((s, i) => s === b[i]);
}

function sameAxis(a: Axis, b: Axis): boolean {
  return a.label === b.label && a.log === b.log && sameNum(a.min, b.min) && sameNum(a.max, b.max);
}

/** true when the value is inside [lo, hi] or is one the plot skips anyway. */
function fits(v: number, lo: number, hi: number): boolean {
  return !isFinite(v) || (v >= lo && v <= hi);
}

/**
 * Compares the figure on screen (old) with its replacement (next).
 * 'append' when every old series / point set is a prefix of the new one
 * (same lengths-or-longer and the same last old point), nothing else that is
 * drawn changed, and — unless the user has zoomed, in which case new data is
 * simply clipped — every new point lies inside `domain`.
 * 'none' when nothing drawn changed. maxPoints: scatter sets larger than this
 * are sampled, and sampling cannot be appended to.
 */
export function planUpdate(old: Figure, next: Figure, domain: Domain | null, zoomed: boolean, maxPoints = Infinity): Plan {
  if (old.kind !== next.kind) return 'full';
  if (old.title !== next.title || !sameAxis(old.x, next.x) || !sameAxis(old.y, next.y)) return 'full';
  if (!sameStrings(old.classes, next.classes) || !sameStrings(old.domains, next.domains) || !sameStrings(old.colors, next.colors)) return 'full';
  const d = domain;
  const inDomain = (x: number, y: number): boolean => zoomed || (d !== null && fits(x, d.x0, d.x1) && fits(y, d.y0, d.y1));
  if (next.kind === 'lines') {
    if (old.series.length !== next.series.length) return 'full';
    let grew = false;
    for (let i = 0; i < old.series.length; i++) {
      const a = old.series[i];
      const b = next.series[i];
      if (a.name !== b.name || a.color !== b.color || a.dash !== b.dash || !a.band !== !b.band) return 'full';
      const n0 = a.y.length;
      const n1 = b.y.length;
      if (n1 < n0) return 'full';
      if (n0 > 0) {
        const k = n0 - 1;
        if (!sameNum(a.x[k], b.x[k]) || !sameNum(a.y[k], b.y[k])) return 'full';
        if (a.band && b.band && !sameNum(a.band[k], b.band[k])) return 'full';
      }
      for (let k = n0; k < n1; k++) {
        const w = b.band ? b.band[k] : 0;
        const hw = isFinite(w) ? Math.abs(w) : 0;
        if (!inDomain(b.x[k], b.y[k] + hw) || !inDomain(b.x[k], b.y[k] - hw)) return 'full';
      }
      if (n1 > n0) grew = true;
    }
    return grew ? 'append' : 'none';
  }
  if (next.kind === 'scatter') {
    const a = old.points;
    const b = next.points;
    if (!a || !b) return a === b ? 'none' : 'full';
    if (b.n < a.n || b.n > maxPoints) return 'full';
    if (!a.cls !== !b.cls || !a.domain !== !b.domain) return 'full';
    if (a.n > 0) {
      const k = a.n - 1;
      if (!sameNum(a.x[k], b.x[k]) || !sameNum(a.y[k], b.y[k])) return 'full';
      if (a.cls && b.cls && a.cls[k] !== b.cls[k]) return 'full';
      if (a.domain && b.domain && a.domain[k] !== b.domain[k]) return 'full';
    }
    if (b.n === a.n) return 'none';
    for (let k = a.n; k < b.n; k++) if (!inDomain(b.x[k], b.y[k])) return 'full';
    return 'append';
  }
  return 'full';
}
