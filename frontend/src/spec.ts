/**
 * spec.ts — turns the untrusted figure JSON (MIME application/vnd.graft.figure+json,
 * contract in the Go package viz) into a typed, normalised model.
 *
 * parseFigure never throws. Anything it cannot use is dropped or replaced by a
 * default, and a short plain-text problem is recorded so the figure can show it.
 * Numeric arrays become Float64Arrays with NaN for missing / non-numeric entries.
 */

/** The newest figure version this renderer knows. */
export const SPEC_VERSION = 1;

export type Kind = 'lines' | 'scatter' | 'heatmap' | 'dashboard' | 'grid';
const KINDS: Kind[] = ['lines', 'scatter', 'heatmap', 'dashboard', 'grid'];

/** Limits that keep a hostile figure from freezing the page. */
export const LIMITS = {
  maxPanels: 64,
  maxDepth: 3,
  maxSeries: 256,
  maxClasses: 1024,
  maxTextLength: 500,
  maxCells: 4_000_000,
  minWidth: 160,
  maxWidth: 4000,
  minHeight: 120,
  maxHeight: 4000
};

export interface Axis {
  label: string;
  log: boolean;
  /** Fixed range ends from the spec; NaN when not given. */
  min: number;
  max: number;
}

export interface Series {
  name: string;
  x: Float64Array;
  y: Float64Array;
  /** Half-width of a shaded band per point, or null. */
  band: Float64Array | null;
  /** CSS colour from the spec, or '' to use the palette. */
  color: string;
  dash: boolean;
}

export interface Points {
  n: number;
  x: Float64Array;
  y: Float64Array;
  cls: Int32Array | null;
  domain: Int32Array | null;
  label: string[] | null;
  index: Float64Array | null;
}

export interface Cells {
  rows: number;
  cols: number;
  values: Float64Array;
  rowLabels: string[];
  colLabels: string[];
  colormap: string;
  min: number;
  max: number;
  /** true/false from the spec, null = decide by size. */
  annotate: boolean | null;
}

export interface Metric {
  name: string;
  value: number;
}

export interface Progress {
  step: number;
  total: number;
  elapsed: number;
  rate: number;
  done: boolean;
  description: string;
}

export interface Figure {
  version: number;
  /** null when the kind is missing and could not be inferred. */
  kind: Kind | null;
  title: string;
  width: number;
  height: number;
  /** Frame counter of live figures; NaN when absent. */
  frame: number;
  /** The last frame of a live figure: its axes need no room to grow. */
  final: boolean;
  /** Caption lines sent by the producer. */
  notes: string[];
  x: Axis;
  y: Axis;
  series: Series[];
  points: Points | null;
  classes: string[];
  domains: string[];
  colors: string[];
  cells: Cells | null;
  panels: Figure[];
  metrics: Metric[];
  progress: Progress | null;
  cols: number;
}

export interface Parsed {
  figure: Figure;
  /** Problems found while reading the JSON, as short plain-text lines. */
  problems: string[];
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Cuts a string to at most max characters, marking the cut with an ellipsis. */
export function truncate(s: string, max: number): string {
  if (s.length <= max) return s;
  return s.slice(0, Math.max(0, max - 1)) + '\u2026';
}

/** Reads a string field; numbers are stringified, anything else gives def. */
function str(v: unknown, def = ''): string {
  if (typeof v === 'string') return truncate(v, LIMITS.maxTextLength);
  if (typeof v === 'number' && isFinite(v)) return String(v);
  return def;
}

/** Reads a finite number; anything else gives NaN. */
function num(v: unknown): number {
  return typeof v === 'number' && isFinite(v) ? v : NaN;
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

/** Collects problems with a path prefix (panel N, etc.). */
class Problems {
  readonly list: string[] = [];
  constructor(private prefix: string) {}
  add(msg: string): void {
    if (this.list.length < 50) this.list.push(this.prefix + msg);
  }
}

/**
 * Converts a JSON array to a Float64Array. null means missing (NaN, silently:
 * that is how the producer encodes NaN/Inf); other non-numbers are counted and
 * reported. A non-array yields null and a problem (unless absent).
 */
function numArray(v: unknown, path: string, p: Problems): Float64Array | null {
  if (v === undefined || v === null) return null;
  if (!Array.isArray(v)) {
    p.add(`${path} is not an array; ignored`);
    return null;
  }
  const out = new Float64Array(v.length);
  let bad = 0;
  for (let i = 0; i < v.length; i++) {
    const e = v[i];
    if (typeof e === 'number') out[i] = e;
    else {
      out[i] = NaN;
      if (e !== null) bad++;
    }
  }
  if (bad > 0) p.add(`${path}: ${bad} non-numeric value${bad === 1 ? '' : 's'} treated as missing`);
  return out;
}

/** Converts a JSON array of ids to Int32Array (-1 for missing / invalid). */
function intArray(v: unknown, path: string, p: Problems): Int32Array | null {
  const f = numArray(v, path, p);
  if (!f) return null;
  const out = new Int32Array(f.length);
  for (let i = 0; i < f.length; i++) {
    const e = f[i];
    out[i] = isFinite(e) && e >= 0 && e < 1e9 ? Math.floor(e) : -1;
  }
  return out;
}

function strArray(v: unknown, path: string, p: Problems, max = Infinity): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    p.add(`${path} is not an array; ignored`);
    return [];
  }
  const n = Math.min(v.length, max);
  const out: string[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = str(v[i], '');
  return out;
}

function parseAxis(v: unknown, path: string, p: Problems): Axis {
  const a: Axis = { label: '', log: false, min: NaN, max: NaN };
  if (v === undefined || v === null) return a;
  if (!isObj(v)) {
    p.add(`${path} is not an object; ignored`);
    return a;
  }
  a.label = str(v.label);
  a.log = v.log === true;
  a.min = num(v.min);
  a.max = num(v.max);
  if (a.min >= a.max) {
    p.add(`${path}: min ${a.min} is not below max ${a.max}; range ignored`);
    a.min = a.max = NaN;
  }
  return a;
}

function fitLength<T extends Float64Array | Int32Array>(a: T | null, n: number): T | null {
  if (!a) return null;
  return a.length === n ? a : (a.subarray(0, n) as T);
}

function parseSeries(v: unknown, i: number, p: Problems): Series | null {
  const path = `series[${i}]`;
  if (!isObj(v)) {
    p.add(`${path} is not an object; skipped`);
    return null;
  }
  let y = numArray(v.y, `${path}.y`, p);
  if (!y) {
    p.add(`${path} has no y values; skipped`);
    return null;
  }
  let x = numArray(v.x, `${path}.x`, p);
  let n = y.length;
  if (x && x.length !== n) {
    n = Math.min(x.length, n);
    p.add(`${path}: x has ${x.length} values but y has ${y.length}; using ${n}`);
  }
  y = fitLength(y, n)!;
  if (!x) {
    x = new Float64Array(n);
    for (let k = 0; k < n; k++) x[k] = k;
  } else x = fitLength(x, n)!;
  let band = numArray(v.band, `${path}.band`, p);
  if (band && band.length !== n) {
    p.add(`${path}: band has ${band.length} values but y has ${n}; band ignored`);
    band = null;
  }
  return {
    name: str(v.name, `series ${i}`),
    x,
    y,
    band,
    color: str(v.color).slice(0, 64),
    dash: v.dash === true
  };
}

function parsePoints(v: unknown, p: Problems): Points | null {
  if (v === undefined || v === null) return null;
  if (!isObj(v)) {
    p.add('points is not an object; ignored');
    return null;
  }
  const x = numArray(v.x, 'points.x', p);
  const y = numArray(v.y, 'points.y', p);
  if (!x || !y) {
    p.add('points needs both x and y arrays');
    return null;
  }
  const cls = intArray(v.class, 'points.class', p);
  const domain = intArray(v.domain, 'points.domain', p);
  const index = numArray(v.index, 'points.index', p);
  let label: string[] | null = null;
  if (v.label !== undefined && v.label !== null) {
    if (Array.isArray(v.label)) label = v.label.map((s) => str(s));
    else p.add('points.label is not an array; ignored');
  }
  let n = Math.min(x.length, y.length);
  const lens: [string, number][] = [
    ['x', x.length],
    ['y', y.length]
  ];
  if (cls) lens.push(['class', cls.length]);
  if (domain) lens.push(['domain', domain.length]);
  if (label) lens.push(['label', label.length]);
  if (index) lens.push(['index', index.length]);
  if (lens.some(([, l]) => l !== x.length)) {
    // Optional arrays that are too short are padded as missing; x/y decide n.
    p.add(`points arrays differ in length (${lens.map(([k, l]) => `${k} ${l}`).join(', ')}); using ${n} points`);
  }
  const padInt = (a: Int32Array | null): Int32Array | null => {
    if (!a || a.length >= n) return fitLength(a, n);
    const out = new Int32Array(n).fill(-1);
    out.set(a);
    return out;
  };
  const padNum = (a: Float64Array | null): Float64Array | null => {
    if (!a || a.length >= n) return fitLength(a, n);
    const out = new Float64Array(n).fill(NaN);
    out.set(a);
    return out;
  };
  if (label && label.length > n) label = label.slice(0, n);
  return {
    n,
    x: fitLength(x, n)!,
    y: fitLength(y, n)!,
    cls: padInt(cls),
    domain: padInt(domain),
    label,
    index: padNum(index)
  };
}

function parseCells(v: unknown, p: Problems): Cells | null {
  if (v === undefined || v === null) return null;
  if (!isObj(v)) {
    p.add('cells is not an object; ignored');
    return null;
  }
  let rows = num(v.rows);
  let cols = num(v.cols);
  const values = numArray(v.values, 'cells.values', p) ?? new Float64Array(0);
  if (!(rows >= 1) || !(cols >= 1) || !Number.isInteger(rows) || !Number.isInteger(cols)) {
    p.add('cells.rows / cells.cols missing or invalid');
    return null;
  }
  if (rows * cols > LIMITS.maxCells) {
    p.add(`heatmap of ${rows}\u00d7${cols} cells is too large to draw`);
    return null;
  }
  let vals = values;
  if (values.length !== rows * cols) {
    p.add(`cells.values has ${values.length} values, expected ${rows}\u00d7${cols} = ${rows * cols}; missing cells left blank`);
    vals = new Float64Array(rows * cols).fill(NaN);
    vals.set(values.subarray(0, rows * cols));
  }
  const min = num(v.min);
  const max = num(v.max);
  return {
    rows,
    cols,
    values: vals,
    rowLabels: strArray(v.rowLabels, 'cells.rowLabels', p, rows),
    colLabels: strArray(v.colLabels, 'cells.colLabels', p, cols),
    colormap: str(v.colormap, 'viridis').toLowerCase(),
    min: min < max || isNaN(max) ? min : NaN,
    max: max > min || isNaN(min) ? max : NaN,
    annotate: typeof v.annotate === 'boolean' ? v.annotate : null
  };
}

function parseMetrics(v: unknown, p: Problems): Metric[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    p.add('metrics is not an array; ignored');
    return [];
  }
  const out: Metric[] = [];
  for (const m of v.slice(0, 64)) {
    if (isObj(m)) out.push({ name: str(m.name, '?'), value: num(m.value) });
  }
  return out;
}

function parseProgress(v: unknown, p: Problems): Progress | null {
  if (v === undefined || v === null) return null;
  if (!isObj(v)) {
    p.add('progress is not an object; ignored');
    return null;
  }
  return {
    step: num(v.step),
    total: num(v.total),
    elapsed: num(v.elapsed),
    rate: num(v.rate),
    done: v.done === true,
    description: str(v.description)
  };
}

/** Guesses the kind from the fields present, for specs with a missing/unknown kind. */
function inferKind(o: Obj): Kind | null {
  if (Array.isArray(o.series)) return 'lines';
  if (isObj(o.points)) return 'scatter';
  if (isObj(o.cells)) return 'heatmap';
  if (Array.isArray(o.panels)) return o.progress || o.metrics ? 'dashboard' : 'grid';
  return null;
}

/** An empty figure of the given kind (defaults everywhere). */
export function emptyFigure(): Figure {
  return {
    version: SPEC_VERSION,
    kind: null,
    title: '',
    width: 624,
    height: 384,
    frame: NaN,
    final: false,
    notes: [],
    x: { label: '', log: false, min: NaN, max: NaN },
    y: { label: '', log: false, min: NaN, max: NaN },
    series: [],
    points: null,
    classes: [],
    domains: [],
    colors: [],
    cells: null,
    panels: [],
    metrics: [],
    progress: null,
    cols: 2
  };
}

function parseInto(raw: unknown, p: Problems, depth: number): Figure {
  const f = emptyFigure();
  let o: unknown = raw;
  if (typeof raw === 'string') {
    try {
      o = JSON.parse(raw);
    } catch {
      p.add('figure data is a string that is not JSON');
      return f;
    }
  }
  if (!isObj(o)) {
    p.add('figure data is not a JSON object');
    return f;
  }
  const v = o.version;
  if (v === undefined) p.add(`figure has no version; reading it as version ${SPEC_VERSION}`);
  else if (typeof v !== 'number' || !Number.isInteger(v)) p.add('figure version is not an integer');
  else {
    f.version = v;
    if (v > SPEC_VERSION) p.add(`figure version ${v} is newer than this renderer (${SPEC_VERSION}); some parts may not show`);
  }
  if (typeof o.kind === 'string' && (KINDS as string[]).includes(o.kind)) f.kind = o.kind as Kind;
  else {
    f.kind = inferKind(o);
    const what = o.kind === undefined ? 'missing' : `'${truncate(str(o.kind, '?'), 40)}' is unknown`;
    p.add(f.kind ? `figure kind ${what}; drawing it as ${f.kind}` : `figure kind ${what}; nothing to draw`);
  }
  f.title = str(o.title);
  const w = num(o.width);
  const h = num(o.height);
  if (!isNaN(w)) f.width = Math.round(clamp(w, LIMITS.minWidth, LIMITS.maxWidth));
  if (!isNaN(h)) f.height = Math.round(clamp(h, LIMITS.minHeight, LIMITS.maxHeight));
  f.frame = num(o.frame);
  f.final = o.final === true;
  f.notes = strArray(o.notes, 'notes', p, 20);
  f.x = parseAxis(o.x, 'x', p);
  f.y = parseAxis(o.y, 'y', p);
  f.classes = strArray(o.classes, 'classes', p, LIMITS.maxClasses);
  f.domains = strArray(o.domains, 'domains', p, 64);
  f.colors = strArray(o.colors, 'colors', p, LIMITS.maxClasses).map((c) => c.slice(0, 64));
  const c = num(o.cols);
  if (c >= 1) f.cols = Math.min(8, Math.floor(c));

  switch (f.kind) {
    case 'lines': {
      if (!Array.isArray(o.series)) {
        if (o.series !== undefined) p.add('series is not an array');
        else p.add('lines figure has no series');
        break;
      }
      if (o.series.length > LIMITS.maxSeries) p.add(`only the first ${LIMITS.maxSeries} of ${o.series.length} series are shown`);
      o.series.slice(0, LIMITS.maxSeries).forEach((s, i) => {
        const r = parseSeries(s, i, p);
        if (r) f.series.push(r);
      });
      break;
    }
    case 'scatter':
      f.points = parsePoints(o.points, p);
      if (!f.points) p.add('scatter figure has no usable points');
      break;
    case 'heatmap':
      f.cells = parseCells(o.cells, p);
      if (!f.cells) p.add('heatmap figure has no usable cells');
      break;
    case 'dashboard':
    case 'grid': {
      f.metrics = parseMetrics(o.metrics, p);
      f.progress = parseProgress(o.progress, p);
      if (o.panels !== undefined && !Array.isArray(o.panels)) p.add('panels is not an array');
      const panels = Array.isArray(o.panels) ? o.panels : [];
      if (depth >= LIMITS.maxDepth) {
        if (panels.length) p.add('panels nested too deeply; skipped');
        break;
      }
      if (panels.length > LIMITS.maxPanels) p.add(`only the first ${LIMITS.maxPanels} of ${panels.length} panels are shown`);
      panels.slice(0, LIMITS.maxPanels).forEach((q, i) => {
        const sub = new Problems(`panel ${i + 1}: `);
        const pf = parseInto(q, sub, depth + 1);
        sub.list.forEach((m) => p.add(m));
        f.panels.push(pf);
      });
      break;
    }
  }
  return f;
}

/** Reads untrusted figure JSON (object or JSON string). Never throws. */
export function parseFigure(raw: unknown): Parsed {
  const p = new Problems('');
  let figure: Figure;
  try {
    figure = parseInto(raw, p, 0);
  } catch (e) {
    figure = emptyFigure();
    p.add('figure could not be read: ' + truncate(String(e), 200));
  }
  return { figure, problems: p.list };
}
