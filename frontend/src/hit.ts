/**
 * hit.ts — finding the point under the mouse quickly.
 *
 * GridIndex buckets screen positions into square cells (a counting sort, O(n)
 * to build); a query looks only at the cells within the search radius, so a
 * hover over 100k points touches a handful of them on average.
 * nearestX finds, in a series sorted by x, the index whose x is closest.
 */

export class GridIndex {
  private readonly cols: number;
  private readonly rows: number;
  /** start[c]..start[c+1] index into `items` for cell c. */
  private readonly start: Int32Array;
  private readonly items: Int32Array;

  /**
   * sx, sy: screen positions; ids: the caller's id per position (returned by
   * nearest). Positions outside [0,width)×[0,height) or NaN are left out.
   */
  constructor(
    private readonly sx: ArrayLike<number>,
    private readonly sy: ArrayLike<number>,
    private readonly ids: ArrayLike<number>,
    width: number,
    height: number,
    private readonly cell = 16
  ) {
    this.cols = Math.max(1, Math.ceil(width / cell));
    this.rows = Math.max(1, Math.ceil(height / cell));
    const ncell = this.cols * this.rows;
    const cellOf = new Int32Array(sx.length);
    const count = new Int32Array(ncell + 1);
    for (let i = 0; i < sx.length; i++) {
      const cx = Math.floor(sx[i] / cell);
      const cy = Math.floor(sy[i] / cell);
      if (cx >= 0 && cx < this.cols && cy >= 0 && cy < this.rows) {
        const c = cy * this.cols + cx;
        cellOf[i] = c;
        count[c + 1]++;
      } else cellOf[i] = -1; // also NaN: comparisons fail
    }
    for (let c = 0; c < ncell; c++) count[c + 1] += count[c];
    this.start = count.slice();
    this.items = new Int32Array(count[ncell]);
    const fill = count; // reuse as write cursor
    for (let i = 0; i < sx.length; i++) {
      const c = cellOf[i];
      if (c >= 0) this.items[fill[c]++] = i;
    }
  }

  /** Number of positions indexed. */
  get size(): number {
    return this.items.length;
  }

  /**
   * The id of the position nearest to (x, y) within maxDist pixels, or -1.
   * Ties go to the later position (drawn on top).
   */
  nearest(x: number, y: number, maxDist: number): number {
    const cell = this.cell;
    const c0 = Math.max(0, Math.floor((x - maxDist) / cell));
    const c1 = Math.min(this.cols - 1, Math.floor((x + maxDist) / cell));
    const r0 = Math.max(0, Math.floor((y - maxDist) / cell));
    const r1 = Math.min(this.rows - 1, Math.floor((y + maxDist) / cell));
    let best = -1;
    let bestD = maxDist * maxDist;
    for (let r = r0; r <= r1; r++) {
      for (let c = c0; c <= c1; c++) {
        const k = r * this.cols + c;
        for (let j = this.start[k]; j < this.start[k + 1]; j++) {
          const i = this.items[j];
          const dx = this.sx[i] - x;
          const dy = this.sy[i] - y;
          const d = dx * dx + dy * dy;
          if (d < bestD || (d === bestD && best >= 0 && i > best)) {
            bestD = d;
            best = i;
          }
        }
      }
    }
    return best < 0 ? -1 : this.ids[best];
  }
}

/** true when xs is non-decreasing (NaNs ignored). */
export function isSorted(xs: ArrayLike<number>): boolean {
  let prev = -Infinity;
  for (let i = 0; i < xs.length; i++) {
    const v = xs[i];
    if (v < prev) return false;
    if (v === v) prev = v;
  }
  return true;
}

/**
 * Index of the point whose x is nearest to `x` and whose y is finite, or -1.
 * Binary search when `sorted`, else a scan.
 */
export function nearestX(xs: ArrayLike<number>, ys: ArrayLike<number>, x: number, sorted: boolean): number {
  const n = xs.length;
  if (n === 0 || !isFinite(x)) return -1;
  if (!sorted) {
    let best = -1;
    let bestD = Infinity;
    for (let i = 0; i < n; i++) {
      const d = Math.abs(xs[i] - x);
      if (d < bestD && isFinite(ys[i])) {
        bestD = d;
        best = i;
      }
    }
    return best;
  }
  // First index with xs[i] >= x (NaN x values sort nowhere; skip them on the walk).
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  // Walk outwards to the nearest usable point on each side.
  let L = lo - 1;
  while (L >= 0 && !(isFinite(ys[L]) && isFinite(xs[L]))) L--;
  let R = lo;
  while (R < n && !(isFinite(ys[R]) && isFinite(xs[R]))) R++;
  if (L < 0) return R < n ? R : -1;
  if (R >= n) return L;
  return x - xs[L] <= xs[R] - x ? L : R;
}
