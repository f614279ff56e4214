#!/usr/bin/env node
// End-to-end browser tests of graft's interactive figures.
//
//   node e2e/run.mjs --graft BIN --artefacts DIR [--frontends classic,lab] [--keep] [--timeout SECONDS]
//
// Installs graft (BIN install --prefix) into a private temporary Jupyter
// world, writes a test notebook of figure cells, and for each frontend —
// classic Notebook 6.4 and JupyterLab 3.6 (e2e/lab's test server) — opens it
// in headless Debian chromium, runs it, checks graft's renderer drew every
// figure, hovers a scatter for its tooltip, watches a live figure count its
// frames, and measures update→repaint latency and hover frame time. The log
// (DIR/e2e.log), server logs, screenshots and the measurements' raw samples
// (DIR/measurements.json) go to DIR. It exits 0 when
// every check passed, 1 with the failures listed otherwise, and stops every
// process it started in all cases.

import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { closeAllBrowsers } from './lib/browser.mjs';
import { FRONTENDS } from './lib/frontends.mjs';
import { createLog } from './lib/log.mjs';
import { writeTestNotebook } from './lib/notebook.mjs';
import { killStrays, stopAll } from './lib/procs.mjs';
import { runScenario } from './lib/scenario.mjs';
import { startClassic, startLab } from './lib/servers.mjs';
import { createWorkspace } from './lib/workspace.mjs';

const SERVERS = { classic: startClassic, lab: startLab };
const USAGE = 'usage: node e2e/run.mjs --graft BIN --artefacts DIR [--frontends classic,lab] [--keep] [--timeout SECONDS]';

function options() {
  const { values } = parseArgs({
    options: {
      graft: { type: 'string' },
      artefacts: { type: 'string' },
      frontends: { type: 'string', default: 'classic,lab' },
      keep: { type: 'boolean', default: false },
      timeout: { type: 'string', default: '300' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  if (!values.graft || !values.artefacts) {
    console.error(USAGE);
    process.exit(2);
  }
  const frontends = values.frontends.split(',').map((s) => s.trim()).filter(Boolean);
  for (const f of frontends) {
    if (!FRONTENDS[f]) {
      console.error(`unknown frontend ${f}; known: ${Object.keys(FRONTENDS).join(', ')}`);
      process.exit(2);
    }
  }
  return { ...values, graft: path.resolve(values.graft), artefacts: path.resolve(values.artefacts), frontends, timeout: Number(values.timeout) };
}

async function main() {
  const opt = options();
  fs.mkdirSync(opt.artefacts, { recursive: true });
  const log = createLog(path.join(opt.artefacts, 'e2e.log'));
  log(`graft e2e: graft ${opt.graft}, frontends ${opt.frontends.join(', ')}, artefacts ${opt.artefacts}`);

  let ws = null;
  let cleaning = null;
  // One cleanup, however many paths (the end, a signal, the deadline) ask for it.
  const cleanup = () => (cleaning ??= stopEverything());
  const stopEverything = async () => {
    await closeAllBrowsers();
    await stopAll();
    if (ws) {
      const strays = killStrays(ws.root);
      for (const s of strays) log(`killed a process left behind: ${s}`);
      if (opt.keep) log(`kept the workspace ${ws.root}`);
      else ws.remove();
    }
  };
  let aborting = false;
  const abort = async (why, code) => {
    if (aborting) return;
    aborting = true;
    log(`FAIL: ${why}; stopping everything`);
    await cleanup();
    // Anything the main flow started while the cleanup ran.
    await closeAllBrowsers();
    await stopAll();
    log.close();
    process.exit(code);
  };
  process.on('SIGINT', () => abort('interrupted', 130));
  process.on('SIGTERM', () => abort('terminated', 143));
  const deadline = setTimeout(() => abort(`the run took longer than ${opt.timeout} s`, 1), opt.timeout * 1000);

  const failures = [];
  const measurements = {};
  try {
    ws = await createWorkspace(opt.graft, log);
    const notebook = 'test.ipynb';
    writeTestNotebook(path.join(ws.notebooks, notebook));
    for (const name of opt.frontends) {
      if (aborting) break;
      const started = Date.now();
      log(`--- ${name} ---`);
      const r = await runScenario(FRONTENDS[name], SERVERS[name], { ws, artefacts: opt.artefacts, notebook, log });
      failures.push(...r.failures);
      measurements[name] = r.raw;
      fs.writeFileSync(path.join(opt.artefacts, 'measurements.json'), JSON.stringify(measurements) + '\n');
      log(`${name}: ${r.failures.length === 0 ? 'passed' : `${r.failures.length} failure(s)`} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      // The next frontend opens the notebook afresh: drop the outputs this one saved, if any.
      writeTestNotebook(path.join(ws.notebooks, notebook));
    }
  } catch (err) {
    failures.push(err.stack || err.message);
  } finally {
    clearTimeout(deadline);
    await cleanup();
  }
  if (aborting) return; // abort reports and exits
  if (failures.length > 0) {
    log(`FAIL: ${failures.length} failure(s):`);
    for (const f of failures) log(`  - ${f}`);
    log(`artefacts (log, screenshots, server logs): ${opt.artefacts}`);
    log.close();
    process.exit(1);
  }
  log(`PASS: all checks passed; artefacts in ${opt.artefacts}`);
  log.close();
  // Idle keep-alive connections and the like must not hold the exit up.
  process.exit(0);
}

main();
