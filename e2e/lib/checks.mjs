// The checks of one frontend, each a function of (frontend, page, ctx) where
// ctx = { log, shot(name, locator?) , fail(message) }: running the notebook
// while watching the live figure, finding graft's renderer in every figure
// output, hovering a point of the scatter and reading its tooltip, and
// checking that the live figure counted up and ended on its final frame.

import { CELLS, cellIndex } from './notebook.mjs';
import { sleep } from './procs.mjs';

const RUN_MS = 120000;
const FIGURE_MS = 20000;

/** A failed check: the run reports its message and goes on to clean up. */
export class CheckError extends Error {}

/**
 * Runs all cells and waits until every one has finished, recording every
 * data-frame the live figure shows meanwhile (the probe's watchFrames) and
 * taking one screenshot of it mid-run. Resolves to { frames (distinct data-frame values in the order
 * seen), shotWindows ([start, end] page times of screenshots), seconds }.
 */
export async function runAll(fe, page, ctx) {
  const live = cellIndex('live');
  const liveRoot = fe.output(page, live).locator('.graft-figure').first();
  const shotWindows = [];
  let scrolled = false;
  let midShot = false;
  const t0 = Date.now();
  await page.evaluate(([c, i, o]) => window.graftE2E.watchFrames(c, i, o), [fe.cellSelector, live, fe.outputSelector]);
  await fe.runAll(page);
  for (;;) {
    const cells = await fe.cells(page);
    const failed = cells.map((c, i) => [i, c]).filter(([, c]) => c.errors.length > 0);
    if (failed.length > 0) {
      throw new CheckError(failed.map(([i, c]) => `cell ${i} (${CELLS[i]?.role}) failed: ${c.errors.join('; ')}`).join('\n'));
    }
    const seen = await page.evaluate(() => window.graftE2E.frames.length);
    if (seen > 0 && !scrolled) {
      scrolled = true;
      await liveRoot.scrollIntoViewIfNeeded({ timeout: 2000 }).catch(() => {});
    }
    if (!midShot && seen >= 4 && !cells[live].done) {
      midShot = true;
      const before = await page.evaluate(() => performance.now());
      await ctx.shot('live-midway', fe.output(page, live));
      shotWindows.push([before, await page.evaluate(() => performance.now())]);
    }
    if (cells.every((c) => c.done)) break;
    if (Date.now() - t0 > RUN_MS) {
      throw new CheckError(`cells still running after ${RUN_MS / 1000} s: ${cells.map((c, i) => (c.done ? null : `${i} (${CELLS[i]?.role})`)).filter(Boolean).join(', ')}`);
    }
    await sleep(100);
  }
  const frames = (await page.evaluate(() => window.graftE2E.frames)).map((f) => f.frame);
  const seconds = (Date.now() - t0) / 1000;
  ctx.log(`${fe.name}: all ${CELLS.length} cells ran in ${seconds.toFixed(1)} s; live data-frame values seen: ${frames.join(' ') || 'none'}`);
  return { frames, shotWindows, seconds };
}

/**
 * Checks that each figure cell's output holds graft's figure MIME data and
 * that the frontend drew it with graft's renderer (a .graft-figure element)
 * rather than the PNG beside it.
 */
export async function figuresRendered(fe, page, ctx) {
  const cells = await fe.cells(page);
  const problems = [];
  // One deadline for all: the renderer either draws them all soon or is missing.
  const deadline = Date.now() + FIGURE_MS;
  for (const [i, cell] of CELLS.entries()) {
    const mimes = cells[i].mimes.flat();
    if (!mimes.includes('application/vnd.graft.figure+json')) {
      problems.push(`cell ${i} (${cell.role}): no application/vnd.graft.figure+json in its outputs (${mimes.join(', ') || 'no data'}): is graft built with the figure JSON?`);
      continue;
    }
    const out = fe.output(page, i);
    try {
      await out.locator('.graft-figure').first().waitFor({ state: 'attached', timeout: Math.max(1000, deadline - Date.now()) });
    } catch {
      problems.push(`cell ${i} (${cell.role}): no .graft-figure element in its output: graft's renderer is not loaded or not chosen (see the screenshot)`);
      continue;
    }
    const pngs = await out.locator('img[src^="data:image/png"]').count();
    const roots = await out.locator('.graft-figure').count();
    if (pngs > 0) problems.push(`cell ${i} (${cell.role}): the PNG is shown (${pngs} image(s)) beside ${roots} .graft-figure`);
    ctx.log(`${fe.name}: cell ${i} (${cell.role}): ${roots} .graft-figure, ${pngs} PNG images`);
  }
  if (problems.length > 0) throw new CheckError(problems.join('\n'));
}

/**
 * Hovers the 2,000-point scatter: moves the mouse over its canvas on a grid,
 * from the centre out, until a .graft-tooltip shows, then checks that the
 * tooltip names a point of the data: its class and domain names and its x
 * and y (or its index), as the figure JSON has them.
 */
export async function hoverTooltip(fe, page, ctx) {
  const i = cellIndex('hover');
  const fig = await fe.figureJSON(page, i);
  const root = fe.output(page, i).locator('.graft-figure').first();
  await root.scrollIntoViewIfNeeded();
  const box = await plotBox(root);
  // Any figure may have a (hidden) tooltip element; the one that shows counts.
  const tooltip = page.locator('.graft-tooltip').filter({ visible: true });
  const grid = [];
  for (let gx = 0.1; gx <= 0.9001; gx += 0.04) for (let gy = 0.1; gy <= 0.9001; gy += 0.04) grid.push([gx, gy]);
  grid.sort((a, b) => Math.hypot(a[0] - 0.5, a[1] - 0.5) - Math.hypot(b[0] - 0.5, b[1] - 0.5));
  let tries = 0;
  for (const [gx, gy] of grid) {
    tries++;
    await page.mouse.move(box.x + gx * box.width, box.y + gy * box.height);
    if ((await tooltip.count()) > 0) {
      const text = ((await tooltip.first().textContent()) || '').trim();
      ctx.log(`${fe.name}: tooltip after ${tries} mouse positions at (${gx.toFixed(2)}, ${gy.toFixed(2)}) of the plot: ${JSON.stringify(text)}`);
      await ctx.shot('hover-tooltip', fe.output(page, i));
      const why = tooltipMismatch(text, fig);
      if (why) throw new CheckError(`the tooltip ${JSON.stringify(text)} does not describe a point of the scatter: ${why}`);
      await page.mouse.move(0, 0);
      return;
    }
  }
  await ctx.shot('hover-no-tooltip', fe.output(page, i));
  throw new CheckError(`no .graft-tooltip became visible over ${tries} mouse positions on the ${fig?.points?.x?.length ?? '?'}-point scatter`);
}

/** The box, in page coordinates, of the largest canvas in root (or root itself). */
export async function plotBox(root) {
  const canvases = root.locator('canvas');
  let best = null;
  for (let k = 0; k < (await canvases.count()); k++) {
    const b = await canvases.nth(k).boundingBox();
    if (b && (!best || b.width * b.height > best.width * best.height)) best = b;
  }
  const box = best || (await root.boundingBox());
  if (!box || box.width < 10 || box.height < 10) throw new CheckError('the figure has no visible plotting area');
  return box;
}

/**
 * Why text does not describe a point of fig's scatter, or '' if it does:
 * some point whose class and domain names the text contains has its x and y
 * among the text's numbers (to the precision shown), or its index.
 */
export function tooltipMismatch(text, fig) {
  if (!text) return 'it is empty';
  const p = fig && fig.points;
  if (!p || !Array.isArray(p.x) || !Array.isArray(p.y)) return 'the figure JSON has no points to compare with';
  const nums = numbersIn(text);
  const classes = fig.classes || [];
  const domains = fig.domains || [];
  const hasClass = classes.some((c) => text.includes(c));
  const hasDomain = domains.some((d) => text.includes(d));
  if (classes.length && !hasClass) return `it names none of the classes ${classes.join(', ')}`;
  if (domains.length && !hasDomain) return `it names none of the domains ${domains.join(', ')}`;
  for (let k = 0; k < p.x.length; k++) {
    if (p.class && classes.length && !text.includes(classes[p.class[k]])) continue;
    if (p.domain && domains.length && !text.includes(domains[p.domain[k]])) continue;
    const index = p.index ? p.index[k] : k;
    if (nums.some((n) => n.value === index && n.exact)) return '';
    if (nums.some((n) => n.matches(p.x[k])) && nums.some((n) => n.matches(p.y[k]))) return '';
  }
  return `no point of that class and domain has the x and y (or index) among its numbers ${nums.map((n) => n.text).join(', ') || '(none)'}`;
}

/** The numbers written in text, each with the precision it is written to. */
export function numbersIn(text) {
  const norm = text.replace(/\u2212/g, '-');
  return [...norm.matchAll(/-?\d+(?:\.(\d+))?(?:[eE]([+-]?\d+))?/g)].map((m) => {
    const value = Number(m[0]);
    const decimals = m[1] ? m[1].length : 0;
    const exp = m[2] ? Number(m[2]) : 0;
    const tol = 0.5 * 10 ** (exp - decimals) * 1.001 + 1e-12;
    return { text: m[0], value, exact: !m[1] && !m[2], matches: (v) => Number.isFinite(v) && Math.abs(v - value) <= tol };
  });
}

/**
 * Checks the live figure: its data-frame counted up while the cell ran (at
 * least three distinct frames seen, in increasing order), and it now shows
 * the final frame of the output.
 */
export async function liveFrames(fe, page, ctx, frames) {
  const i = cellIndex('live');
  const fig = await fe.figureJSON(page, i);
  const root = fe.output(page, i).locator('.graft-figure').first();
  await root.scrollIntoViewIfNeeded();
  const nums = frames.map(Number);
  const increasing = nums.every((f, k) => k === 0 || f > nums[k - 1]);
  if (nums.length < 3 || !increasing) {
    throw new CheckError(`the live figure's data-frame did not count up while it ran (values seen: ${frames.join(' ') || 'none'})`);
  }
  const final = fig && Number.isInteger(fig.frame) ? String(fig.frame) : null;
  if (final === null) throw new CheckError(`the live figure's final output has no "frame"`);
  try {
    await page.waitForFunction(([el, want]) => el && el.getAttribute('data-frame') === want, [await root.elementHandle(), final], { timeout: 10000 });
  } catch {
    throw new CheckError(`the live figure shows data-frame ${await root.getAttribute('data-frame')}, not the final frame ${final}`);
  }
  await ctx.shot('live-final', fe.output(page, i));
  ctx.log(`${fe.name}: live figure counted ${nums.length} frames up to the final frame ${final}`);
}
