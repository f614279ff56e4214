#!/usr/bin/env node
/*
 * Smoke check of the lab test server (not part of the e2e suite).
 *
 * Starts serve.py on a free port with a temporary notebook, opens it in
 * headless Debian chromium (playwright-core, never a downloaded browser),
 * runs all cells on the python3 kernel and checks that the text, PNG and
 * HTML outputs render, and that a federated mime renderer from the
 * labextensions directory is listed in the page config and renders its
 * output. Writes a screenshot.
 *
 *   node e2e/lab/smoke.mjs [--labextensions-dir DIR] [--mime TYPE]
 *        [--selector CSS] [--screenshot FILE]
 *
 * Defaults: the graft-figure extension committed under
 * install/jupyterext/labextensions, application/vnd.graft.figure+json,
 * .graft-figure, build/smoke.png. Exits non-zero with a message on failure.
 */

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync'
];

/** Parses --name value pairs over the defaults. */
function parseArgs(argv) {
  const opts = {
    'labextensions-dir': path.resolve(HERE, '../../install/jupyterext/labextensions'),
    mime: 'application/vnd.graft.figure+json',
    selector: '.graft-figure',
    screenshot: path.join(HERE, 'build', 'smoke.png')
  };
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i].replace(/^--/, '');
    if (!(name in opts) || i + 1 >= argv.length) {
      throw new Error(`usage: smoke.mjs [--${Object.keys(opts).join(' X] [--')} X]`);
    }
    opts[name] = argv[i + 1];
  }
  return opts;
}

/** A TCP port that was free on 127.0.0.1 a moment ago. */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** A w×h RGB PNG (a colour gradient), base64, built without dependencies. */
function gradientPng(w, h) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = buf => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type), data]);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc(body));
    return Buffer.concat([len, body, sum]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const raw = Buffer.alloc((w * 3 + 1) * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = y * (w * 3 + 1) + 1 + x * 3;
      raw.set([(255 * x) / w, (255 * y) / h, 160], o);
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0))
  ]).toString('base64');
}

/** The smoke notebook: text, PNG, HTML and one output of type mime. */
function smokeNotebook(mime) {
  const figure = {
    version: 1,
    kind: 'lines',
    title: 'smoke',
    series: [{ name: 'loss', y: [3, 2, 1.5, 1.2, 1.1] }]
  };
  const cell = source => ({
    cell_type: 'code',
    execution_count: null,
    metadata: {},
    outputs: [],
    source
  });
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' }
    },
    cells: [
      cell('1+1'),
      cell(
        'from IPython.display import display\n' +
          `display({'image/png': '${gradientPng(160, 60)}'}, raw=True)`
      ),
      cell(
        'from IPython.display import HTML\n' +
          "HTML('<b class=\"smoke-html\">HTML output</b>')"
      ),
      cell(
        'import json\n' +
          `display({${JSON.stringify(mime)}: json.loads(${JSON.stringify(
            JSON.stringify(figure)
          )}), 'text/plain': 'federated renderer missing'}, raw=True)`
      )
    ].map((c, i) => ({ ...c, id: `smoke-${i}` }))
  };
}

/** Starts serve.py and resolves with the child once it is listening. */
function startServer(args) {
  const child = spawn('/usr/bin/python3', [path.join(HERE, 'serve.py'), ...args], {
    stdio: ['ignore', 'pipe', 'pipe']
  });
  let log = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${log}`)), 60000);
    const onData = data => {
      log += data;
      if (log.includes('graft-lab-test-server listening on')) {
        clearTimeout(timer);
        resolve(child);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', code => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${log}`));
    });
  });
}

/** Stops the server with SIGTERM and waits for it to exit. */
function stopServer(child) {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise(resolve => {
    child.removeAllListeners('exit');
    child.on('exit', resolve);
    child.kill('SIGTERM');
  });
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'graft-lab-smoke-'));
  const root = path.join(tmp, 'root');
  fs.mkdirSync(root);
  fs.writeFileSync(path.join(root, 'smoke.ipynb'), JSON.stringify(smokeNotebook(opts.mime)));
  const port = await freePort();
  const token = 'smoke-token';
  let server;
  let context;
  try {
    server = await startServer([
      '--port', String(port), '--token', token, '--root-dir', root,
      '--labextensions-dir', opts['labextensions-dir']
    ]);
    context = await chromium.launchPersistentContext(path.join(tmp, 'profile'), {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1100, height: 900 }
    });
    const page = context.pages()[0] || (await context.newPage());
    const pageErrors = [];
    page.on('pageerror', err => pageErrors.push(String(err)));
    const verbose = Boolean(process.env.SMOKE_VERBOSE);
    page.on('console', msg => {
      if (verbose || msg.type() === 'error') console.log(`[browser ${msg.type()}] ${msg.text()}`);
    });

    const t0 = Date.now();
    await page.goto(`http://127.0.0.1:${port}/lab/tree/smoke.ipynb?token=${token}`);
    await page.waitForFunction(() => window.jupyterapp !== undefined, null, { timeout: 60000 });
    const federated = await page.evaluate(
      () => JSON.parse(document.getElementById('jupyter-config-data').textContent)
        .federated_extensions.map(e => e.name)
    );
    console.log(`app ready after ${Date.now() - t0} ms; federated extensions: ${federated.join(', ') || '(none)'}`);

    await page.waitForSelector('.jp-NotebookPanel', { timeout: 30000 });
    const knowsMime = await page.evaluate(async mime => {
      const panel = window.jupyterapp.shell.currentWidget;
      await panel.context.ready;
      await panel.sessionContext.ready;
      await window.jupyterapp.commands.execute('notebook:run-all-cells');
      return panel.content.rendermime.mimeTypes.includes(mime);
    }, opts.mime);

    const out = '.jp-OutputArea-output';
    await page.waitForSelector(`${out} >> text="2"`, { timeout: 60000 });
    await page.waitForSelector(`${out} img[src^="data:image/png"]`, { timeout: 30000 });
    await page.waitForSelector(`${out} .smoke-html`, { timeout: 30000 });
    console.log('text, PNG and HTML outputs rendered');
    if (!knowsMime) throw new Error(`rendermime has no renderer for ${opts.mime}`);
    await page.waitForSelector(`.jp-OutputArea ${opts.selector}`, { timeout: 30000 });
    console.log(`federated renderer for ${opts.mime} rendered ${opts.selector}`);

    await page.waitForTimeout(500);
    fs.mkdirSync(path.dirname(opts.screenshot), { recursive: true });
    await page.screenshot({ path: opts.screenshot });
    console.log(`screenshot: ${opts.screenshot}`);
    if (pageErrors.length) throw new Error(`page errors:\n${pageErrors.join('\n')}`);
    console.log('smoke OK');
  } finally {
    if (context) await context.close();
    if (server) await stopServer(server);
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch(err => {
  console.error(`smoke FAILED: ${err.message}`);
  process.exit(1);
});
