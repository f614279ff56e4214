/**
 * stats.ts — the debug hooks the browser tests read: window.graftFigureStats
 * with `paints` ({frame, t, kind, full}) and `hovers` (ms per hover), each
 * bounded to the last 1000 entries.
 */

export interface PaintRecord {
  frame: number | null;
  t: number;
  kind: string;
  full: boolean;
}

export interface FigureStats {
  paints: PaintRecord[];
  hovers: number[];
}

const MAX = 1000;

/** The shared stats object, created on first use. */
export function stats(): FigureStats {
  const g = globalThis as unknown as { graftFigureStats?: FigureStats };
  let s = g.graftFigureStats;
  if (!s || !Array.isArray(s.paints) || !Array.isArray(s.hovers)) {
    s = { paints: [], hovers: [] };
    g.graftFigureStats = s;
  }
  return s;
}

function push<T>(a: T[], v: T): void {
  a.push(v);
  if (a.length > MAX) a.splice(0, a.length - MAX);
}

export function recordPaint(p: PaintRecord): void {
  push(stats().paints, p);
}

export function recordHover(ms: number): void {
  push(stats().hovers, ms);
}
