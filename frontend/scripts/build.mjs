// Builds both notebook integrations into one output folder (default
// ../install/jupyterext, or the folder given with --out):
//   labextensions/graft-figure/  JupyterLab 3.6 federated extension (@jupyterlab/builder)
//   nbextensions/graft-figure/main.js  classic Notebook AMD module (esbuild)
// The output depends only on the sources and package-lock.json: no absolute
// paths, no timestamps, no build logs. Prints the bundle sizes at the end.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { build } from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const args = process.argv.slice(2);
const outArg = args.indexOf('--out');
const out = path.resolve(here, outArg >= 0 ? args[outArg + 1] : '../install/jupyterext');
const labOut = path.join(out, 'labextensions', 'graft-figure');
const nbOut = path.join(out, 'nbextensions', 'graft-figure');

function run(cmd, argv) {
  execFileSync(cmd, argv, { cwd: here, stdio: 'inherit' });
}

// 1. TypeScript → lib/ (ES modules; the lab builder bundles these).
fs.rmSync(path.join(here, 'lib'), { recursive: true, force: true });
run(process.execPath, [path.join(here, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json']);

// 2. JupyterLab extension → build/labextension (package.json "jupyterlab.outputDir").
// This does what the builder's build-labextension CLI does (no Python needed),
// with one fix for reproducibility: the builder gives webpack the exposed
// modules as absolute paths, which end up in the container's module id hash,
// so the bytes would depend on the checkout folder. Relative paths do not.
await buildLabExtension();

// 3. Classic nbextension: one AMD module with the renderer bundled in.
const nb = await build({
  entryPoints: [path.join(here, 'src/nbextension.ts')],
  bundle: true,
  format: 'iife',
  globalName: 'graftFigure',
  target: 'es2018',
  minify: true,
  legalComments: 'none',
  charset: 'utf8',
  write: false,
  absWorkingDir: here
});
const body = nb.outputFiles[0].text;
const amd =
  '// graft-figure: renders application/vnd.graft.figure+json in the classic Notebook. Built from frontend/ (npm run build).\n' +
  'define([], function () {\n' +
  body +
  'return { load_ipython_extension: graftFigure.load_ipython_extension };\n});\n';

// 4. Write the output folder afresh.
fs.rmSync(labOut, { recursive: true, force: true });
fs.rmSync(nbOut, { recursive: true, force: true });
fs.mkdirSync(nbOut, { recursive: true });
fs.writeFileSync(path.join(nbOut, 'main.js'), amd);
fs.cpSync(path.join(here, 'build/labextension'), labOut, { recursive: true });
fs.rmSync(path.join(labOut, 'build_log.json'), { force: true });

// 5. Refuse to ship anything that mentions the build machine.
const files = [];
(function walk(d) {
  for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = path.join(d, e.name);
    if (e.isDirectory()) walk(p);
    else files.push(p);
  }
})(out);
for (const f of files) {
  if (!f.startsWith(labOut) && !f.startsWith(nbOut)) continue;
  const text = fs.readFileSync(f, 'utf8');
  if (text.includes(here) || text.includes(path.dirname(here))) {
    console.error(`build: ${path.relative(out, f)} contains an absolute path of this machine`);
    process.exit(1);
  }
}

// 6. Size report.
console.log('\nbundle sizes (bytes):');
for (const f of files) {
  if (!f.startsWith(labOut) && !f.startsWith(nbOut)) continue;
  console.log(String(fs.statSync(f).size).padStart(9), ' ', path.relative(out, f));
}

async function buildLabExtension() {
  const require = createRequire(import.meta.url);
  const generateConfig = require('@jupyterlab/builder/lib/extensionConfig').default;
  const webpack = require('webpack');
  const rel = (p) => './' + path.relative(here, p).split(path.sep).join('/');
  const cwd = process.cwd();
  process.chdir(here);
  try {
    const config = generateConfig({ packagePath: here, corePath: path.join(here, 'core'), mode: 'production' });
    for (const c of config) {
      c.context = here;
      for (const p of c.plugins || []) {
        const o = p && p._options;
        if (!o || !o.exposes) continue;
        for (const k of Object.keys(o.exposes)) o.exposes[k] = rel(o.exposes[k]);
        for (const s of Object.values(o.shared || {})) if (s && typeof s.import === 'string' && path.isAbsolute(s.import)) s.import = rel(s.import);
      }
    }
    const stats = await new Promise((resolve, reject) => {
      const compiler = webpack(config);
      compiler.run((err, st) => compiler.close((err2) => (err || err2 ? reject(err || err2) : resolve(st))));
    });
    console.log(stats.toString({ colors: false, preset: 'normal' }));
    if (stats.hasErrors()) throw new Error('webpack reported errors');
  } finally {
    process.chdir(cwd);
  }
}
