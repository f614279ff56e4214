// Browser smoke test: bundles the renderer (esbuild), serves it with a page of
// scripted checks on 127.0.0.1, runs headless Chromium on it, and prints the
// results the page posts back. Usage: npm run smoke [-- --shots DIR]
// Needs a Chromium (CHROMIUM env var, default /usr/bin/chromium). Exits 1 on failure.
// SMOKE_DPR=2 runs it with devicePixelRatio 2.
import { build } from 'esbuild';
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const shotsArg = process.argv.indexOf('--shots');
const shots = shotsArg > 0 ? path.resolve(process.argv[shotsArg + 1]) : null;
const chromium = process.env.CHROMIUM || '/usr/bin/chromium';

const bundle = await build({
  entryPoints: [path.join(root, 'src/index.ts')],
  bundle: true,
  format: 'iife',
  globalName: 'GraftFigure',
  target: 'es2018',
  write: false
});
const files = {
  '/': ['text/html', fs.readFileSync(path.join(here, 'smoke.html'))],
  '/smoke-page.js': ['text/javascript', fs.readFileSync(path.join(here, 'smoke-page.js'))],
  '/figure.js': ['text/javascript', bundle.outputFiles[0].contents],
  '/fixtures/generate.mjs': ['text/javascript', fs.readFileSync(path.join(root, 'test/fixtures/generate.mjs'))]
};
// The committed bundle (install/jupyterext), to check what actually ships.
const shipped = path.resolve(root, '../install/jupyterext');
(function add(dir, url) {
  if (!fs.existsSync(dir)) return;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) add(path.join(dir, e.name), url + e.name + '/');
    else if (e.name.endsWith('.js') || e.name.endsWith('.json')) files[url + e.name] = ['text/javascript', fs.readFileSync(path.join(dir, e.name))];
  }
})(shipped, '/shipped/');
for (const f of fs.readdirSync(path.join(root, 'test/fixtures'))) {
  if (f.endsWith('.json')) files['/fixtures/' + f] = ['application/json', fs.readFileSync(path.join(root, 'test/fixtures', f))];
}

let browser = null;
const timer = setTimeout(() => finish({ error: 'timed out after 120 s' }), 120000);
function finish(result) {
  clearTimeout(timer);
  if (browser) browser.kill('SIGTERM');
  server.close();
  const failed = result.error || (result.checks || []).some((c) => !c.ok);
  for (const c of result.checks || []) console.log(`${c.ok ? 'ok  ' : 'FAIL'} ${c.name}${c.detail ? ' — ' + c.detail : ''}`);
  if (result.metrics) console.log('metrics:', JSON.stringify(result.metrics, null, 1));
  if (result.error) console.log('error:', result.error);
  process.exitCode = failed ? 1 : 0;
}

const server = http.createServer((req, res) => {
  if (req.method === 'POST') {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      res.end('ok');
      const msg = JSON.parse(body);
      if (req.url === '/shot' && shots) {
        fs.mkdirSync(shots, { recursive: true });
        fs.writeFileSync(path.join(shots, msg.name + '.png'), Buffer.from(msg.data.split(',')[1], 'base64'));
      } else if (req.url === '/result') finish(msg);
    });
    return;
  }
  const f = files[req.url.split('?')[0]];
  if (!f) {
    res.writeHead(404);
    res.end();
    return;
  }
  res.writeHead(200, { 'content-type': f[0] });
  res.end(f[1]);
});
server.listen(0, '127.0.0.1', () => {
  const port = server.address().port;
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'graft-smoke-'));
  browser = spawn(
    chromium,
    ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', `--user-data-dir=${profile}`, '--window-size=1400,1000', `--force-device-scale-factor=${process.env.SMOKE_DPR || 1}`, `http://127.0.0.1:${port}/`],
    { stdio: 'ignore' }
  );
  browser.on('exit', () => fs.rmSync(profile, { recursive: true, force: true }));
});
