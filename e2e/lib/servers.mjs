// The Jupyter servers under test, each started on 127.0.0.1 with a fresh
// port and token in the workspace's environment: classic Notebook 6.4
// (Debian's jupyter-notebook) and the JupyterLab 3.6 test server that
// e2e/lab builds. Each resolves, once the server answers, to
// { name, url (base, ending in /), token, proc, stop() }.

import crypto from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './ports.mjs';
import { lastLines, start, sleep } from './procs.mjs';

export const PYTHON = process.env.GRAFT_PYTHON || '/usr/bin/python3';
const LAB_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../lab');
const STARTUP_MS = 60000;

/** Starts classic Notebook serving ws.notebooks. */
export async function startClassic(ws, artefacts) {
  const port = await freePort();
  const token = crypto.randomBytes(16).toString('hex');
  const args = ['-m', 'notebook', '--no-browser', '--ip=127.0.0.1', `--port=${port}`, '--port-retries=0',
    `--NotebookApp.token=${token}`, `--notebook-dir=${ws.notebooks}`];
  if (process.getuid?.() === 0) args.push('--allow-root');
  const proc = start('notebook server', PYTHON, args, { env: ws.env, cwd: ws.notebooks, logFile: path.join(artefacts, 'classic-server.log') });
  const url = `http://127.0.0.1:${port}/`;
  await waitUntilServing(proc, `${url}api/status?token=${token}`);
  return { name: 'classic', url, token, proc, stop: () => proc.stop() };
}

/** Starts the JupyterLab test server of e2e/lab serving ws.notebooks. */
export async function startLab(ws, artefacts) {
  const port = await freePort();
  const token = crypto.randomBytes(16).toString('hex');
  const args = [path.join(LAB_DIR, 'serve.py'), '--port', String(port), '--token', token,
    '--root-dir', ws.notebooks, '--labextensions-dir', path.join(ws.prefix, 'share/jupyter/labextensions')];
  const proc = start('lab server', PYTHON, args, { env: ws.env, cwd: ws.notebooks, logFile: path.join(artefacts, 'lab-server.log') });
  await proc.waitFor(/graft-lab-test-server listening on (http:\/\/127\.0\.0\.1:\d+\/)lab/, STARTUP_MS);
  const url = `http://127.0.0.1:${port}/`;
  await waitUntilServing(proc, `${url}api/status?token=${token}`);
  return { name: 'lab', url, token, proc, stop: () => proc.stop() };
}

/** Polls statusURL until it answers 200, failing when proc exits or STARTUP_MS pass. */
async function waitUntilServing(proc, statusURL) {
  const deadline = Date.now() + STARTUP_MS;
  let exited = false;
  proc.exited.then(() => (exited = true));
  let last = '';
  while (Date.now() < deadline) {
    if (exited) throw new Error(`${proc.name} exited during startup:\n${lastLines(proc.output())}`);
    try {
      const res = await fetch(statusURL);
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = err.cause?.code || err.message;
    }
    await sleep(250);
  }
  throw new Error(`${proc.name} did not answer ${statusURL.replace(/token=\w+/, 'token=…')} within ${STARTUP_MS / 1000} s (${last}):\n${lastLines(proc.output())}`);
}
