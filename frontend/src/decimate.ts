/**
 * decimate.ts — reduce what is drawn without changing what is seen.
 *
 * Lines: within one pixel column a polyline can only show a vertical stroke
 * from the column's minimum to its maximum, so per column we keep the first,
 * minimum, maximum and last point (in index order). A million points become
 * at most about 4 × plot width, and the drawing is pixel-identical in shape.
 *
 * Scatter: above a budget we keep a deterministic stride sample (the same
 * points on every redraw and every machine) and say so in a note.
 */

/** Default number of scatter points drawn before sampling. */
export const SCATTER_BUDGET = 200_000;

/**
 * Indices of the points to draw for a polyline, in increasing order.
 * px: screen x per point; vals: the y values (or screen y). A point whose
 * value or px is not finite is a gap; one gap index is kept per run of them
 * so the line breaks there. Runs are over [start, end).
 */
export function decimateLine(px: ArrayLike<number>, vals: ArrayLike<number>, start = 0, end = px.length): Uint32Array {
  const n = Math.max(0, end - start);
  // Small inputs: nothing to gain.
  if (n <= 4) {
    const all = new Uint32Array(n);
    for (let i = 0; i < n; i++) all[i] = start + i;
    return all;
  }
  const out: number[] = [];
  let col = NaN; // current pixel column
  let first = -1,
    last = -1,
    iMin = -1,
    iMax = -1;
  let lastWasGap = false;
  const flush = (): void => {
    if (first < 0) return;
    // Emit first, min, max, last in index order, without repeats.
    const c = [first, iMin, iMax, last].sort((a, b) => a - b);
    for (let k = 0; k < 4; k++) if (k === 0 || c[k] !== c[k - 1]) out.push(c[k]);
    first = -1;
  };
  for (let i = start; i < end; i++) {
    const x = px[i];
    const v = vals[i];
    if (!isFinite(x) || !isFinite(v)) {
      flush();
      col = NaN;
      if (!lastWasGap) out.push(i);
      lastWasGap = true;
      continue;
    }
    lastWasGap = false;
    const c = Math.floor(x);
    if (c !== col) {
      flush();
      col = c;
      first = last = iMin = iMax = i;
      continue;
    }
    last = i;
    if (v < vals[iMin]) iMin = i;
    if (v > vals[iMax]) iMax = i;
  }
  flush();
  return Uint32Array.from(out);
}

export interface Sample {
  /** Indices of the points kept, increasing. */
  indices: Uint32Array;
  /** A caption when points were dropped, else ''. */
  note: string;
}

/** Keeps every point when n ≤ budget, else exactly `budget` evenly strided ones. */
export function strideSample(n: number, budget = SCATTER_BUDGET): Sample {
  const keep = Math.max(0, Math.min(n, Math.floor(budget)));
  const indices = new Uint32Array(keep);
  if (keep === n) {
    for (let i = 0; i < n; i++) indices[i] = i;
    return { indices, note: '' };
  }
  const step = n / keep;
  for (let i = 0; i < keep; i++) indices[i] = Math.floor(i * step);
  return { indices, note: `showing ${keep.toLocaleString('en-US')} of ${n.toLocaleString('en-US')} points (evenly sampled)` };
}
