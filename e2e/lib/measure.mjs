// The two measurements of a frontend:
//  - update→repaint latency of the live figure: for each update_display_data
//    with graft's figure (noted on arrival by the probe) the time until the
//    renderer recorded a paint of that frame (window.graftFigureStats.paints);
//  - frame time while hovering the 100,000-point scatter: the intervals of
//    requestAnimationFrame while the mouse moves over it in ~200 steps, and
//    the renderer's own hover handling times (graftFigureStats.hovers).

import { cellIndex } from './notebook.mjs';
import { plotBox } from './checks.mjs';

/**
 * Latencies (ms) of the live figure's updates. excluded holds [start, end]
 * page-time windows (screenshots) whose updates are left out. Resolves to
 * { latencies, updates, unpainted, excluded, wsText, wsBinary, arrivals,
 * trace: {arrivals: [[frame, t]], paints: [[frame, t, full]]} }.
 */
export async function liveLatency(page, excluded = []) {
  const { arrivals, paints, text, binary } = await page.evaluate(() => ({
    arrivals: window.graftE2E ? window.graftE2E.arrivals : [],
    paints: (window.graftFigureStats && window.graftFigureStats.paints) || [],
    text: window.graftE2E ? window.graftE2E.text : 0,
    binary: window.graftE2E ? window.graftE2E.binary : 0,
  }));
  const updates = arrivals.filter((a) => a.type === 'update_display_data' && a.kind === 'lines' && a.frame !== null);
  const latencies = [];
  let unpainted = 0;
  let skipped = 0;
  // An update whose wait for its paint overlaps a screenshot is left out.
  const overlaps = (from, to) => excluded.some(([s, e]) => from <= e && to >= s);
  for (const a of updates) {
    const p = paints.find((q) => q.frame === a.frame && q.t >= a.t && (!q.kind || q.kind === a.kind));
    if (overlaps(a.t, p ? p.t : a.t)) skipped++;
    else if (p) latencies.push(p.t - a.t);
    else unpainted++;
  }
  const livePaints = paints.filter((q) => q.kind === 'lines' && q.frame !== null && q.frame !== undefined);
  return { latencies, updates: updates.length, unpainted, excluded: skipped, wsText: text, wsBinary: binary, arrivals: arrivals.length,
    trace: { arrivals: updates.map((a) => [a.frame, round(a.t)]), paints: livePaints.map((q) => [q.frame, round(q.t), q.full]) } };
}

function round(t) {
  return Math.round(t * 10) / 10;
}

/**
 * Moves the mouse over the big scatter along a zigzag path of `steps`
 * positions and resolves to { frames (rAF intervals, ms), hovers (the
 * renderer's hover durations, ms) }.
 */
export async function hoverFrames(fe, page, ctx, steps = 200) {
  const i = cellIndex('big');
  const root = fe.output(page, i).locator('.graft-figure').first();
  await root.scrollIntoViewIfNeeded();
  const box = await plotBox(root);
  await page.mouse.move(box.x + box.width * 0.1, box.y + box.height * 0.5);
  const hoversBefore = await page.evaluate(() => ((window.graftFigureStats && window.graftFigureStats.hovers) || []).length);
  await page.evaluate(() => window.graftE2E.startFrames());
  for (let k = 0; k < steps; k++) {
    const u = k / (steps - 1);
    // Left to right across the central 80%, zigzagging up and down 4 times.
    const x = box.x + box.width * (0.1 + 0.8 * u);
    const y = box.y + box.height * (0.5 + 0.35 * Math.sin(u * Math.PI * 8));
    await page.mouse.move(x, y);
  }
  await page.waitForTimeout(100);
  const { times, hovers } = await page.evaluate((before) => {
    const all = (window.graftFigureStats && window.graftFigureStats.hovers) || [];
    return { times: window.graftE2E.stopFrames(), hovers: all.slice(Math.min(before, all.length)) };
  }, hoversBefore);
  await ctx.shot('big-hover', fe.output(page, i));
  await page.mouse.move(0, 0);
  const frames = times.slice(1).map((t, k) => t - times[k]);
  return { frames, hovers: hovers.filter((h) => typeof h === 'number') };
}


/**
 * A line on what loaded the page: the largest graft figure messages and the
 * longest main-thread tasks, which explain outliers in the measurements.
 */
export async function pageLoad(page) {
  const { arrivals, longTasks } = await page.evaluate(() => ({
    arrivals: window.graftE2E.arrivals.map((a) => ({ bytes: a.bytes, kind: a.kind, type: a.type })),
    longTasks: window.graftE2E.longTasks,
  }));
  const mb = (b) => `${(b / 1e6).toFixed(1)} MB`;
  const big = [...arrivals].sort((a, b) => b.bytes - a.bytes).slice(0, 3).map((a) => `${mb(a.bytes)} (${a.type}, ${a.kind})`);
  const tasks = [...longTasks].sort((a, b) => b.ms - a.ms);
  const total = tasks.reduce((s, t) => s + t.ms, 0);
  return `largest graft figure messages: ${big.join(', ') || 'none'}; ${tasks.length} main-thread tasks over 50 ms (${(total / 1000).toFixed(1)} s in all), the longest ${tasks.slice(0, 3).map((t) => `${Math.round(t.ms)} ms`).join(', ') || 'none'}`;
}
