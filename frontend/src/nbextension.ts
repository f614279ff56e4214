/**
 * nbextension.ts — the classic Notebook 6.4 integration, bundled into the AMD
 * module nbextensions/graft-figure/main.js.
 *
 * It registers the MIME type with the classic OutputArea ahead of every other
 * type. Classic re-renders an output from scratch on update_display_data; to
 * keep zoom, legend toggles and the append path across updates, the patched
 * update_display_data hands the figures already shown under that display id
 * to the append function, which moves them into the new output and updates
 * them instead of creating new ones.
 */
import { FigureRenderer, MIME_TYPE } from './index';

/* The parts of the classic OutputArea used here (jQuery objects are `any`). */
interface ClassicOutputArea {
  create_output_subarea(md: unknown, cls: string, mime: string): any; // eslint-disable-line @typescript-eslint/no-explicit-any
  register_mime_type(mime: string, append: AppendFn, options: { safe: boolean; index: number }): void;
  update_display_data?: (json: { transient?: { display_id?: string } }, ...rest: unknown[]) => unknown;
  _display_id_targets?: Record<string, { element: any }[]>; // eslint-disable-line @typescript-eslint/no-explicit-any
  toJSON?: () => unknown;
}

type AppendFn = (this: ClassicOutputArea, json: unknown, md: unknown, element: any) => any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Renderer of each figure root, to find them again under a display id. */
const byRoot = new WeakMap<Element, FigureRenderer>();
/** Renderers the update in progress should reuse, in target order. */
let reuse: FigureRenderer[] = [];

/** Creates (or reuses) the figure inside a new output subarea. */
const append: AppendFn = function (json, md, element) {
  const toinsert = this.create_output_subarea(md, 'output_graft_figure', MIME_TYPE);
  let r = reuse.shift();
  if (!r) {
    r = new FigureRenderer();
    byRoot.set(r.root, r);
  }
  r.update(json);
  toinsert[0].appendChild(r.root);
  element.append(toinsert);
  return toinsert;
};

/** Wraps update_display_data so that append() can find the figures it replaces. */
function patchUpdates(proto: ClassicOutputArea): void {
  const orig = proto.update_display_data;
  if (typeof orig !== 'function' || (orig as { graftPatched?: boolean }).graftPatched) return;
  const patched = function (this: ClassicOutputArea, json: { transient?: { display_id?: string } }, ...rest: unknown[]): unknown {
    try {
      const id = json && json.transient && json.transient.display_id;
      const targets = (id && this._display_id_targets && this._display_id_targets[id]) || [];
      reuse = [];
      for (const t of targets) {
        const node: Element | undefined = t && t.element && t.element[0];
        const root = node && node.querySelector ? node.querySelector('.graft-figure') : null;
        const r = root ? byRoot.get(root) : undefined;
        if (r) reuse.push(r);
      }
    } catch {
      reuse = [];
    }
    try {
      return orig.apply(this, [json, ...rest]);
    } finally {
      reuse = [];
    }
  };
  (patched as { graftPatched?: boolean }).graftPatched = true;
  proto.update_display_data = patched;
}

interface AMDRequire {
  (deps: string[], cb: (...mods: any[]) => void): void; // eslint-disable-line @typescript-eslint/no-explicit-any
}

interface ClassicCell {
  output_area?: {
    outputs?: { data?: Record<string, unknown> }[];
    element?: { 0?: Element };
    toJSON(): unknown;
    clear_output(wait: boolean, ignoreQueue: boolean): void;
    fromJSON(outputs: unknown): void;
  };
}

/**
 * Re-renders outputs that carry a figure but were shown before this extension
 * registered (the notebook and the extensions load concurrently).
 */
function rerenderExisting(): void {
  const nb = (window as unknown as { Jupyter?: { notebook?: { get_cells?: () => ClassicCell[] } } }).Jupyter?.notebook;
  if (!nb || typeof nb.get_cells !== 'function') return;
  for (const cell of nb.get_cells()) {
    const oa = cell.output_area;
    if (!oa || !Array.isArray(oa.outputs)) continue;
    if (!oa.outputs.some((o) => o && o.data && o.data[MIME_TYPE] !== undefined)) continue;
    const node = oa.element && oa.element[0];
    if (!node || node.querySelector('.graft-figure')) continue;
    try {
      const outs = oa.toJSON();
      oa.clear_output(false, true);
      oa.fromJSON(outs);
    } catch (e) {
      console.error('graft-figure: could not re-render an output', e);
    }
  }
}

/** Entry point called by the classic notebook when the extension loads. */
export function load_ipython_extension(): void {
  const w = window as unknown as { requirejs?: AMDRequire; require?: AMDRequire };
  const req = w.requirejs || w.require;
  if (!req) return;
  req(['notebook/js/outputarea'], (mod: { OutputArea: { prototype: ClassicOutputArea } }) => {
    const proto = mod.OutputArea.prototype;
    patchUpdates(proto);
    proto.register_mime_type(MIME_TYPE, append, { safe: true, index: 0 });
    rerenderExisting();
  });
}
