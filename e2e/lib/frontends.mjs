// The two frontends under test behind one interface, so that the checks and
// measurements are written once:
//   open(page, server, file)   load the notebook and wait for an idle kernel
//   runAll(page)               start running every cell (returns at once)
//   cells(page)                per code cell: {done, errors, mimes}
//   cellSelector, outputSelector   CSS of the notebook's cells, and of a cell's outputs within it
//   output(page, i)            a Locator of cell i's output area
//   figureJSON(page, i)        the graft figure JSON of cell i's output, or null
// Everything the page is asked runs through page.evaluate with the frontend's
// own JavaScript objects: Jupyter.notebook in classic Notebook, the
// application (window.jupyterapp) in JupyterLab.

export const MIME = 'application/vnd.graft.figure+json';
const READY_MS = 90000;

/** Classic Notebook 6.4. */
export const classic = {
  name: 'classic',
  async open(page, server, file) {
    await page.goto(`${server.url}notebooks/${encodeURIComponent(file)}?token=${server.token}`, { timeout: READY_MS });
    await page.waitForFunction(() => {
      const nb = window.Jupyter && window.Jupyter.notebook;
      return nb && nb._fully_loaded && nb.kernel && nb.kernel.is_connected() &&
        document.querySelector('#kernel_indicator_icon.kernel_idle_icon') !== null;
    }, null, { timeout: READY_MS, polling: 200 });
  },
  async runAll(page) {
    await page.evaluate(() => window.Jupyter.notebook.execute_all_cells());
  },
  cells(page) {
    return page.evaluate(() => window.Jupyter.notebook.get_cells().filter((c) => c.cell_type === 'code').map((c) => ({
      done: typeof c.input_prompt_number === 'number' && !c.element.hasClass('running'),
      errors: c.output_area.outputs.filter((o) => o.output_type === 'error').map((o) => `${o.ename}: ${o.evalue}`),
      mimes: c.output_area.outputs.map((o) => Object.keys(o.data || {})),
    })));
  },
  cellSelector: '#notebook-container > .cell',
  outputSelector: '.output_wrapper',
  output(page, i) {
    return outputLocator(this, page, i);
  },
  figureJSON(page, i) {
    return page.evaluate(([i, mime]) => {
      const cell = window.Jupyter.notebook.get_cell(i);
      const out = cell && cell.output_area.outputs.find((o) => o.data && o.data[mime] !== undefined);
      if (!out) return null;
      const d = out.data[mime];
      return typeof d === 'string' ? JSON.parse(d) : d;
    }, [i, MIME]);
  },
};

/**
 * openInLab loads JupyterLab, opens file on the graft kernel and waits up to
 * waitMs for the kernel to be idle and connected; it returns null when it is,
 * else the state it was left in.
 */
async function openInLab(page, server, file, waitMs) {
  await page.bringToFront();
  await page.goto(`${server.url}lab?reset&token=${server.token}`, { timeout: READY_MS });
  await page.waitForFunction(() => window.jupyterapp && window.jupyterapp.shell && window.jupyterapp.commands.hasCommand('docmanager:open'),
    null, { timeout: READY_MS, polling: 200 });
  await page.evaluate(async (path) => {
    const app = window.jupyterapp;
    if (app.restored) await app.restored;
    app.shell.collapseLeft(); // room for the figures
    const widget = await app.commands.execute('docmanager:open', { path, factory: 'Notebook', kernel: { name: 'graft' } });
    app.shell.activateById(widget.id);
    // The shell's current widget follows the focus, which a headless page
    // may not have: the tests keep their own reference.
    window.graftTestNotebook = widget;
    await widget.context.ready;
    await widget.sessionContext.ready;
  }, file);
  try {
    await page.waitForFunction(() => {
      const w = window.graftTestNotebook;
      const kernel = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
      return kernel && kernel.status === 'idle' && kernel.connectionStatus === 'connected' && w.content.widgets.length > 0;
    }, null, { timeout: waitMs, polling: 200 });
    return null;
  } catch (err) {
    return page.evaluate(() => {
      const w = window.graftTestNotebook;
      const kernel = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
      return kernel ? `kernel ${kernel.name}: status ${kernel.status}, connection ${kernel.connectionStatus}, ${w.content.widgets.length} cells` : `no kernel (widget ${w && w.id})`;
    }).catch((e) => `state unreadable: ${e.message}`);
  }
}

/** JupyterLab 3.6 (the e2e/lab test server). */
export const lab = {
  name: 'lab',
  async open(page, server, file, log = () => {}) {
    // Should the notebook's kernel not reach idle and connected, the page is
    // loaded once more, as a user would, and the state seen is logged. (Runs
    // here that waited on the shell's current widget, which follows the
    // focus, failed so 3 times in 14.)
    const first = await openInLab(page, server, file, READY_MS / 2);
    if (first === null) return;
    log(`lab: the notebook's kernel did not become idle and connected (${first}); loading the page again`);
    const second = await openInLab(page, server, file, READY_MS);
    if (second !== null) {
      throw new Error(`the notebook's kernel never became idle and connected (first ${first}; after loading again ${second})`);
    }
  },
  async runAll(page) {
    // The command's promise settles when every cell has run: not awaited, so
    // that the caller can watch the cells meanwhile.
    await page.evaluate(() => {
      // The command runs the notebook tracker's current one: make it ours.
      window.jupyterapp.shell.activateById(window.graftTestNotebook.id);
      window.graftTestNotebook.content.activate();
      window.jupyterapp.commands.execute('notebook:run-all-cells').catch((err) => console.error('run-all-cells:', err));
    });
  },
  cells(page) {
    return page.evaluate(() => window.graftTestNotebook.content.widgets.filter((c) => c.model.type === 'code').map((c) => {
      const outputs = c.model.outputs.toJSON();
      const prompt = c.node.querySelector('.jp-InputArea-prompt');
      return {
        done: c.model.executionCount !== null && !(prompt && prompt.textContent.includes('*')),
        errors: outputs.filter((o) => o.output_type === 'error').map((o) => `${o.ename}: ${o.evalue}`),
        mimes: outputs.map((o) => Object.keys(o.data || {})),
      };
    }));
  },
  cellSelector: '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook > .jp-Cell',
  outputSelector: '.jp-Cell-outputWrapper',
  output(page, i) {
    return outputLocator(this, page, i);
  },
  figureJSON(page, i) {
    return page.evaluate(([i, mime]) => {
      const cell = window.graftTestNotebook.content.widgets[i];
      const out = cell && cell.model.outputs.toJSON().find((o) => o.data && o.data[mime] !== undefined);
      if (!out) return null;
      const d = out.data[mime];
      return typeof d === 'string' ? JSON.parse(d) : d;
    }, [i, MIME]);
  },
};

export const FRONTENDS = { classic, lab };

function outputLocator(fe, page, i) {
  return page.locator(fe.cellSelector).nth(i).locator(fe.outputSelector);
}
