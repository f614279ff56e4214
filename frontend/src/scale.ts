/**
 * scale.ts — linear and log scales from data to pixels, "nice" tick positions,
 * padded auto domains and number formatting for ticks and tooltips.
 */

/** A map between a data interval [d0, d1] and a pixel interval [r0, r1]. */
export interface Scale {
  readonly log: boolean;
  readonly d0: number;
  readonly d1: number;
  readonly r0: number;
  readonly r1: number;
  /** Data value to pixel; NaN for values the scale cannot show (≤ 0 on log). */
  map(v: number): number;
  /** Pixel to data value. */
  invert(px: number): number;
}

/** The transform a scale works in: identity or log10 (NaN for v ≤ 0). */
export function fwd(v: number, log: boolean): number {
  if (!log) return v;
  return v > 0 ? Math.log10(v) : NaN;
}

/** Inverse of fwd. */
export function inv(t: number, log: boolean): number {
  return log ? Math.pow(10, t) : t;
}

export function makeScale(d0: number, d1: number, r0: number, r1: number, log = false): Scale {
  const t0 = fwd(d0, log);
  const t1 = fwd(d1, log);
  const k = t1 !== t0 ? (r1 - r0) / (t1 - t0) : 0;
  return {
    log,
    d0,
    d1,
    r0,
    r1,
    map: log ? (v) => (v > 0 ? r0 + (Math.log10(v) - t0) * k : NaN) : (v) => r0 + (v - t0) * k,
    invert: (px) => inv(k !== 0 ? t0 + (px - r0) / k : t0, log)
  };
}

/** The 1-2-5 × 10^k step closest to span/count. */
export function niceStep(span: number, count: number): number {
  if (!(span > 0) || !(count > 0)) return 1;
  const raw = span / count;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const norm = raw / mag;
  const m = norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10;
  return m * mag;
}

/** Rounds away float noise such as 0.30000000000000004 (to 12 significant digits). */
function clean(v: number): number {
  return v === 0 ? 0 : parseFloat(v.toPrecision(12));
}

/** Multiples of a nice step inside [lo, hi], about `count` of them. */
export function linearTicks(lo: number, hi: number, count = 5): number[] {
  if (!isFinite(lo) || !isFinite(hi) || hi <= lo) return isFinite(lo) ? [lo] : [];
  const step = niceStep(hi - lo, count);
  const first = Math.ceil(lo / step - 1e-9);
  const last = Math.floor(hi / step + 1e-9);
  const out: number[] = [];
  for (let i = first; i <= last && out.length < 1000; i++) out.push(clean(i * step));
  return out;
}

/**
 * Ticks for a log axis over [lo, hi] (lo > 0): powers of ten, thinned to at most
 * maxCount, plus 2× and 5× when the range spans fewer than three decades.
 */
export function logTicks(lo: number, hi: number, maxCount = 8): number[] {
  if (!(lo > 0) || !(hi > lo)) return lo > 0 ? [lo] : [];
  const e0 = Math.floor(Math.log10(lo));
  const e1 = Math.ceil(Math.log10(hi));
  const decades = e1 - e0;
  if (decades < 1) return linearTicks(lo, hi, 4);
  const every = Math.max(1, Math.ceil((decades + 1) / maxCount));
  const mults = decades < 3 ? [1, 2, 5] : [1];
  const out: number[] = [];
  for (let e = e0; e <= e1; e++) {
    if ((e - e0) % every !== 0 && mults.length === 1) continue;
    for (const m of mults) {
      const v = clean(m * Math.pow(10, e));
      if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) out.push(v);
    }
  }
  if (out.length < 2) return linearTicks(lo, hi, 4);
  return out;
}

export function ticks(lo: number, hi: number, log: boolean, count = 5): number[] {
  return log ? logTicks(lo, hi) : linearTicks(lo, hi, count);
}

/** Min and max of the finite values (positive only when log), or null. */
export function extent(values: ArrayLike<number>, log = false, into?: [number, number]): [number, number] | null {
  let lo = into ? into[0] : Infinity;
  let hi = into ? into[1] : -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < lo && (!log || v > 0)) lo = v;
    if (v > hi && (!log || v > 0)) hi = v;
  }
  // NaN fails every comparison above, so it never enters lo/hi.
  return lo <= hi ? [lo, hi] : null;
}

/**
 * An auto axis range for data in [lo, hi]: 5% headroom on each side, then
 * widened to multiples of the tick step, so live data that keeps growing
 * usually still fits. A range that starts at ≥ 0 never goes negative (and
 * ≤ 0 never positive). On log axes the ends are whole decades.
 */
export function niceDomain(lo: number, hi: number, log = false, count = 5): [number, number] {
  if (log) {
    if (!(lo > 0) || !(hi > 0)) return [1, 10];
    let e0 = Math.floor(Math.log10(lo) + 1e-9);
    let e1 = Math.ceil(Math.log10(hi) - 1e-9);
    if (e1 <= e0) e1 = e0 + 1;
    return [Math.pow(10, e0), Math.pow(10, e1)];
  }
  if (!isFinite(lo) || !isFinite(hi)) return [0, 1];
  if (hi === lo) {
    const d = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= d;
    hi += d;
  }
  const pad = (hi - lo) * 0.05;
  let plo = lo - pad;
  let phi = hi + pad;
  if (lo >= 0 && plo < 0) plo = 0;
  if (hi <= 0 && phi > 0) phi = 0;
  const step = niceStep(phi - plo, count);
  return [clean(Math.floor(plo / step + 1e-9) * step), clean(Math.ceil(phi / step - 1e-9) * step)];
}

function trimExp(s: string): string {
  return s.replace(/\.?0+e/, 'e').replace('e+', 'e');
}

/** Formats a data value for tooltips and cards: up to 6 significant digits. */
export function formatValue(v: number): string {
  if (typeof v !== 'number' || isNaN(v)) return 'missing';
  if (!isFinite(v)) return v > 0 ? 'inf' : '-inf';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e6 || a < 1e-4) return trimExp(v.toExponential(4));
  if (Number.isInteger(v)) return String(v);
  return String(parseFloat(v.toPrecision(6)));
}

/** Formats seconds as h:mm:ss or m:ss. */
export function formatDuration(s: number): string {
  if (!isFinite(s) || s < 0) return '?';
  const t = Math.round(s);
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const sec = t % 60;
  const pad = (n: number): string => (n < 10 ? '0' : '') + n;
  return h > 0 ? `${h}:${pad(m)}:${pad(sec)}` : `${m}:${pad(sec)}`;
}

const SI: [number, string][] = [
  [1e12, 'T'],
  [1e9, 'G'],
  [1e6, 'M'],
  [1e3, 'k']
];

/**
 * Labels for a whole axis in one consistent style: fixed decimals from the
 * tick spacing; k/M/G/T suffixes when the largest tick is ≥ 1e5; exponents
 * for ticks all below 1e-3 (or beyond 1e15). Log axes label each decade.
 */
export function formatTicks(values: number[], log = false): string[] {
  if (values.length === 0) return [];
  const maxAbs = Math.max(...values.map(Math.abs));
  const step = values.length > 1 ? Math.abs(values[1] - values[0]) : maxAbs || 1;
  if (log) return values.map((v) => (Math.abs(v) >= 1e5 || (v !== 0 && Math.abs(v) < 1e-3) ? trimExp(v.toExponential(1)) : formatValue(v)));
  const decimals = (s: number): number => Math.max(0, Math.min(10, -Math.floor(Math.log10(s) + 1e-9)));
  if (maxAbs >= 1e15 || (maxAbs > 0 && maxAbs < 1e-3)) {
    const digits = Math.max(0, Math.min(6, Math.floor(Math.log10(maxAbs)) - Math.floor(Math.log10(step) + 1e-9)));
    return values.map((v) => (v === 0 ? '0' : trimExp(v.toExponential(digits))));
  }
  if (maxAbs >= 1e5) {
    const [unit, suffix] = SI.find(([u]) => maxAbs >= u)!;
    const dec = decimals(step / unit);
    return values.map((v) => (v === 0 ? '0' : (v / unit).toFixed(dec) + suffix));
  }
  const dec = decimals(step);
  return values.map((v) => (v === 0 ? '0' : v.toFixed(dec)));
}
