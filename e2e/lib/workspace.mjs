// The run's private Jupyter world: a temporary directory holding an install
// prefix (graft's kernelspec and figure extensions, written by
// `graft install --prefix`), Jupyter's data, config and runtime directories,
// a home directory and the notebook directory, and the environment that makes
// the servers look only there (besides the system's own directories).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from './procs.mjs';

/** The repository's committed renderer bundle, used if graft install does not write the extensions. */
const BUNDLE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../install/jupyterext');

/** Paths, under prefix, of the figure extensions graft install writes. */
export function extensionPaths(prefix) {
  return {
    lab: path.join(prefix, 'share/jupyter/labextensions/graft-figure'),
    nb: path.join(prefix, 'share/jupyter/nbextensions/graft-figure/main.js'),
    nbconfig: path.join(prefix, 'etc/jupyter/nbconfig/notebook.d/graft-figure.json'),
  };
}

/**
 * Creates the workspace and installs graft into its prefix. Returns
 * { root, prefix, notebooks, runtime, env, installNotes, remove() }.
 */
export async function createWorkspace(graft, log) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'graft-e2e-'));
  const dir = (name) => {
    const p = path.join(root, name);
    fs.mkdirSync(p, { recursive: true });
    return p;
  };
  const ws = {
    root,
    prefix: dir('prefix'),
    notebooks: dir('notebooks'),
    runtime: dir('runtime'),
    home: dir('home'),
    browser: dir('browser'),
    installNotes: [],
    remove() {
      fs.rmSync(root, { recursive: true, force: true, maxRetries: 5 });
    },
  };
  ws.env = {
    ...process.env,
    HOME: ws.home,
    JUPYTER_PATH: path.join(ws.prefix, 'share/jupyter'),
    JUPYTER_CONFIG_PATH: path.join(ws.prefix, 'etc/jupyter'),
    JUPYTER_DATA_DIR: dir('data'),
    JUPYTER_CONFIG_DIR: dir('config'),
    JUPYTER_RUNTIME_DIR: ws.runtime,
    JUPYTERLAB_SETTINGS_DIR: dir('lab-settings'),
    JUPYTERLAB_WORKSPACES_DIR: dir('lab-workspaces'),
    JUPYTER_PLATFORM_DIRS: '0',
    PYTHONNOUSERSITE: '1',
    // No browser opens from a server, whatever the config says.
    BROWSER: 'true',
  };

  try {
    await install(ws, graft, log);
  } catch (err) {
    ws.remove();
    throw err;
  }
  return ws;
}

/** Installs graft's kernelspec and figure extensions into ws.prefix. */
async function install(ws, graft, log) {
  const res = await run(graft, ['install', '--prefix', ws.prefix], { env: ws.env });
  if (res.code !== 0) throw new Error(`${graft} install --prefix ${ws.prefix} failed (${res.code}):\n${res.output}`);
  log(`graft install --prefix ${ws.prefix}: ${res.output.trim().split('\n').join(' | ')}`);
  const kernel = path.join(ws.prefix, 'share/jupyter/kernels/graft/kernel.json');
  if (!fs.existsSync(kernel)) throw new Error(`graft install did not write ${kernel}`);
  installExtensionsFallback(ws, log);
}

/**
 * Copies the committed renderer bundle into the prefix where graft install
 * has not written the extensions (a graft from before they were embedded).
 */
function installExtensionsFallback(ws, log) {
  const want = extensionPaths(ws.prefix);
  const missing = Object.entries(want).filter(([, p]) => !fs.existsSync(p));
  if (missing.length === 0) {
    log('graft install wrote the lab extension, the nbextension and its nbconfig');
    return;
  }
  const note = `graft install did not write ${missing.map(([k]) => k).join(', ')}; copying them from ${BUNDLE} (fallback)`;
  log(note);
  ws.installNotes.push(note);
  if (!fs.existsSync(path.join(BUNDLE, 'labextensions/graft-figure/package.json')) || !fs.existsSync(path.join(BUNDLE, 'nbextensions/graft-figure/main.js'))) {
    throw new Error(`the figure extensions are neither installed by graft install nor built at ${BUNDLE}`);
  }
  if (!fs.existsSync(want.lab)) fs.cpSync(path.join(BUNDLE, 'labextensions/graft-figure'), want.lab, { recursive: true });
  if (!fs.existsSync(want.nb)) fs.cpSync(path.join(BUNDLE, 'nbextensions/graft-figure'), path.dirname(want.nb), { recursive: true });
  if (!fs.existsSync(want.nbconfig)) {
    fs.mkdirSync(path.dirname(want.nbconfig), { recursive: true });
    fs.writeFileSync(want.nbconfig, JSON.stringify({ load_extensions: { 'graft-figure/main': true } }, null, 2) + '\n');
  }
}
