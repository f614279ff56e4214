// One frontend's end-to-end run: start its server and a browser, open the
// test notebook, run it, check the figures, take the measurements, and stop
// everything again. Failed checks are collected rather than thrown, so one
// failure does not hide the others; the result lists them.

import path from 'node:path';
import { launchBrowser } from './browser.mjs';
import { CheckError, figuresRendered, hoverTooltip, liveFrames, runAll } from './checks.mjs';
import { hoverFrames, liveLatency, pageLoad } from './measure.mjs';
import { probe } from './probe.mjs';
import { formatSummary, summarize } from './stats.mjs';

/**
 * Runs the scenario for frontend fe (from frontends.mjs) with the server
 * started by startServer(ws, artefacts). Resolves to { failures: [string],
 * raw } where raw holds the measurements' samples (ms).
 */
export async function runScenario(fe, startServer, { ws, artefacts, notebook, log }) {
  const failures = [];
  const raw = {}; // the measurements' raw samples, for measurements.json
  let shotNo = 0;
  let server = null;
  let browser = null;
  const shot = async (name, locator) => {
    const file = path.join(artefacts, `${fe.name}-${String(++shotNo).padStart(2, '0')}-${name}.png`);
    try {
      if (locator) await locator.screenshot({ path: file, timeout: 10000 });
      else await browser.page.screenshot({ path: file, fullPage: false, timeout: 10000 });
      log(`${fe.name}: screenshot ${path.basename(file)}`);
    } catch (err) {
      log(`${fe.name}: screenshot ${path.basename(file)} failed: ${err.message.split('\n')[0]}`);
    }
  };
  const ctx = { log, shot };
  /** Runs one check; a failure is noted and the scenario goes on when it can. */
  const check = async (what, fn) => {
    try {
      return await fn();
    } catch (err) {
      const msg = err instanceof CheckError ? err.message : `${what}: ${err.stack || err.message}`;
      failures.push(`${fe.name}: ${msg}`);
      log(`FAIL ${fe.name}: ${msg}`);
      if (browser) await shot(`failed-${what.replace(/\W+/g, '-')}`);
      return undefined;
    }
  };

  try {
    server = await startServer(ws, artefacts).catch((err) => {
      throw new CheckError(`starting the server: ${err.message}`);
    });
    log(`${fe.name}: server listening at ${server.url}`);
    browser = await launchBrowser(ws.browser);
    const { page } = browser;
    page.setDefaultTimeout(30000);
    const rendererErrors = watchConsole(page, fe.name, log);
    await page.addInitScript(probe);

    const opened = await check('open', async () => {
      await fe.open(page, server, notebook, log);
      log(`${fe.name}: notebook open, kernel idle`);
      await shot('opened');
      return true;
    });
    if (!opened) return { failures, raw };

    const ran = await check('run', () => runAll(fe, page, ctx));
    await shot('all-run');
    if (!ran) return { failures, raw };
    const rendered = await check('figures', async () => {
      await figuresRendered(fe, page, ctx);
      return true;
    });
    if (!rendered) return { failures, raw };
    await check('hover', () => hoverTooltip(fe, page, ctx));
    await check('live', () => liveFrames(fe, page, ctx, ran.frames));

    await check('measure-live', async () => {
      const r = await liveLatency(page, ran.shotWindows);
      raw.liveUpdateToRepaint = r.latencies;
      raw.liveTrace = r.trace;
      log(`${fe.name}: websocket frames: ${r.wsText} text, ${r.wsBinary} binary; ${r.arrivals} with graft figures, ${r.updates} live updates (${r.unpainted} never painted, ${r.excluded} left out for a screenshot)`);
      log.measure(`measure ${fe.name} live-10k update-to-repaint: ${formatSummary(summarize(r.latencies), 'updates')}`);
      if (r.latencies.length === 0) throw new CheckError('no live update was matched to a paint (window.graftFigureStats.paints)');
    });
    await check('page-load', async () => log(`${fe.name}: ${await pageLoad(page)}`));
    await check('measure-hover', async () => {
      const r = await hoverFrames(fe, page, ctx);
      raw.hoverFrames = r.frames;
      raw.hoverHandling = r.hovers;
      log.measure(`measure ${fe.name} hover-100k frame: ${formatSummary(summarize(r.frames), 'frames')}`);
      log(`${fe.name}: renderer hover handling on the 100k scatter: ${formatSummary(summarize(r.hovers), 'hovers')}`);
      if (r.frames.length < 10) throw new CheckError(`only ${r.frames.length} animation frames while hovering`);
    });
    if (rendererErrors.length > 0) {
      const msg = `graft's renderer reported ${rendererErrors.length} error(s): ${rendererErrors.slice(0, 5).join(' | ')}`;
      failures.push(`${fe.name}: ${msg}`);
      log(`FAIL ${fe.name}: ${msg}`);
    }
    return { failures, raw };
  } catch (err) {
    failures.push(`${fe.name}: ${err instanceof CheckError ? err.message : err.stack || err.message}`);
    log(`FAIL ${fe.name}: ${err.message}`);
    return { failures, raw };
  } finally {
    if (browser) await browser.close().catch((err) => log(`${fe.name}: closing the browser: ${err.message}`));
    if (server) await server.stop();
  }
}

/** The most console messages logged per frontend; the rest are only counted. */
const CONSOLE_LINES = 40;

/**
 * Logs the page's uncaught errors, console errors and console lines that
 * mention graft — first lines only, at most CONSOLE_LINES of them. Returns
 * the list, filled as the page runs, of the errors that come from graft's
 * renderer: uncaught ones thrown from its bundle, and those it reports with
 * console.error('graft-figure: …') when a figure cannot be drawn.
 */
function watchConsole(page, name, log) {
  let n = 0;
  const rendererErrors = [];
  const note = (what) => {
    if (++n <= CONSOLE_LINES) log(`${name}: ${what.split('\n')[0].slice(0, 300)}`);
    else if (n === CONSOLE_LINES + 1) log(`${name}: (further console messages are not logged)`);
  };
  page.on('pageerror', (err) => {
    note(`page error: ${err.message}`);
    if (/graft-figure/.test(err.stack || '')) rendererErrors.push(err.message.split('\n')[0]);
  });
  page.on('console', (m) => {
    if (m.type() === 'error' || /graft/i.test(m.text())) note(`console ${m.type()}: ${m.text()}`);
    if (m.type() === 'error' && /^graft-figure/.test(m.text())) rendererErrors.push(m.text().split('\n')[0].slice(0, 300));
  });
  return rendererErrors;
}
