// Summary statistics of timings for the measurement lines.

/** The q-quantile (0..1) of values by the nearest-rank method; NaN when empty. */
export function quantile(values, q) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const rank = Math.min(v.length, Math.max(1, Math.ceil(q * v.length)));
  return v[rank - 1];
}

/** Median, p95 and count of values (milliseconds), finite values only. */
export function summarize(values) {
  const finite = values.filter((x) => Number.isFinite(x));
  return { median: quantile(finite, 0.5), p95: quantile(finite, 0.95), count: finite.length };
}

/** Formats a summary as "median X ms, p95 Y ms over N UNIT". */
export function formatSummary(s, unit) {
  const ms = (x) => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');
  return `median ${ms(s.median)} ms, p95 ${ms(s.p95)} ms over ${s.count} ${unit}`;
}
