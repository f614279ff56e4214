import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFigure, SPEC_VERSION } from '../src/spec';

test('a well-formed lines figure parses without problems', () => {
  const { figure, problems } = parseFigure({
    version: 1,
    kind: 'lines',
    title: 'loss',
    width: 500,
    height: 300,
    frame: 3,
    notes: ['2 NaN values skipped'],
    x: { label: 'step' },
    y: { label: 'loss', log: true },
    series: [{ name: 'train', y: [3, 2, null, 1], color: '#123456', dash: true, band: [0.1, 0.1, 0.1, 0.1] }]
  });
  assert.deepEqual(problems, []);
  assert.equal(figure.kind, 'lines');
  assert.equal(figure.frame, 3);
  assert.equal(figure.width, 500);
  assert.equal(figure.y.log, true);
  assert.deepEqual(figure.notes, ['2 NaN values skipped']);
  const s = figure.series[0];
  assert.deepEqual(Array.from(s.x), [0, 1, 2, 3]); // implicit x
  assert.ok(Number.isNaN(s.y[2]));
  assert.equal(s.dash, true);
  assert.equal(s.band!.length, 4);
});

test('non-objects and junk never throw', () => {
  for (const raw of [null, undefined, 42, 'nope', '{"kind":', [], true, { kind: 5 }, { series: 'x', kind: 'lines' }]) {
    const r = parseFigure(raw);
    assert.ok(r.problems.length > 0, JSON.stringify(raw));
  }
  // A JSON string is accepted.
  assert.equal(parseFigure('{"version":1,"kind":"lines","series":[]}').figure.kind, 'lines');
});

test('version 99 and missing version give notes, and parsing still happens', () => {
  const r = parseFigure({ version: 99, kind: 'lines', series: [{ y: [1, 2] }] });
  assert.ok(r.problems.some((p) => p.includes('version 99') && p.includes(String(SPEC_VERSION))));
  assert.equal(r.figure.series.length, 1);
  assert.equal(r.figure.series[0].name, 'series 0');
  const m = parseFigure({ kind: 'lines', series: [] });
  assert.ok(m.problems.some((p) => p.includes('no version')));
});

test('unknown or missing kind is inferred from the fields', () => {
  const r = parseFigure({ version: 1, kind: 'violin', points: { x: [1], y: [2] } });
  assert.equal(r.figure.kind, 'scatter');
  assert.ok(r.problems.some((p) => p.includes("'violin' is unknown")));
  const none = parseFigure({ version: 1 });
  assert.equal(none.figure.kind, null);
});

test('strings where numbers are expected become missing values, with a note', () => {
  const r = parseFigure({ version: 1, kind: 'lines', width: 'wide', series: [{ name: 7, y: [1, '2', {}, null, 5] }] });
  const y = r.figure.series[0].y;
  assert.equal(y[0], 1);
  assert.ok(Number.isNaN(y[1]) && Number.isNaN(y[2]) && Number.isNaN(y[3]));
  assert.equal(y[4], 5);
  assert.equal(r.figure.series[0].name, '7');
  assert.equal(r.figure.width, 624);
  assert.deepEqual(r.problems, ['series[0].y: 2 non-numeric values treated as missing']);
});

test('mismatched lengths are cut to the shorter with a note', () => {
  const r = parseFigure({ version: 1, kind: 'lines', series: [{ x: [0, 1, 2], y: [1, 2, 3, 4, 5] }] });
  assert.equal(r.figure.series[0].y.length, 3);
  assert.ok(r.problems[0].includes('using 3'));
  const s = parseFigure({
    version: 1,
    kind: 'scatter',
    points: { x: [1, 2, 3, 4], y: [1, 2, 3], class: [0, 1], label: ['a', 'b', 'c', 'd', 'e'] }
  });
  const p = s.figure.points!;
  assert.equal(p.n, 3);
  assert.deepEqual(Array.from(p.cls!), [0, 1, -1]);
  assert.deepEqual(p.label, ['a', 'b', 'c']);
  assert.ok(s.problems[0].startsWith('points arrays differ in length'));
});

test('missing fields: scatter without y, heatmap without rows, series without y', () => {
  assert.equal(parseFigure({ version: 1, kind: 'scatter', points: { x: [1] } }).figure.points, null);
  const h = parseFigure({ version: 1, kind: 'heatmap', cells: { values: [1, 2] } });
  assert.equal(h.figure.cells, null);
  assert.ok(h.problems.some((p) => p.includes('rows')));
  const l = parseFigure({ version: 1, kind: 'lines', series: [{ name: 'a' }, 'junk', { y: [1] }] });
  assert.equal(l.figure.series.length, 1);
  assert.equal(l.problems.length, 2);
});

test('heatmap with too few values is padded with missing cells', () => {
  const r = parseFigure({ version: 1, kind: 'heatmap', cells: { rows: 2, cols: 2, values: [1, 2, 3], colormap: 'MAGMA', min: 5, max: 1 } });
  const c = r.figure.cells!;
  assert.equal(c.values.length, 4);
  assert.ok(Number.isNaN(c.values[3]));
  assert.equal(c.colormap, 'magma');
  assert.ok(Number.isNaN(c.min) && Number.isNaN(c.max)); // inverted range ignored
});

test('1M points parse quickly into typed arrays', () => {
  const n = 1_000_000;
  const x = new Array(n);
  const y = new Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = i;
    y[i] = i % 7 === 0 ? null : Math.sin(i);
  }
  const t0 = Date.now();
  const r = parseFigure({ version: 1, kind: 'scatter', points: { x, y } });
  assert.ok(Date.now() - t0 < 2000);
  assert.equal(r.figure.points!.n, n);
  assert.ok(r.figure.points!.x instanceof Float64Array);
  assert.deepEqual(r.problems, []);
});

test('huge strings are truncated; hostile labels stay plain strings', () => {
  const big = 'x'.repeat(100_000);
  const r = parseFigure({ version: 1, kind: 'lines', title: big, series: [{ name: '<img src=x onerror=alert(1)>', y: [1] }] });
  assert.ok(r.figure.title.length <= 500);
  assert.equal(r.figure.series[0].name, '<img src=x onerror=alert(1)>');
});

test('panels: nested figures, problems prefixed, depth bounded', () => {
  const r = parseFigure({
    version: 1,
    kind: 'dashboard',
    progress: { step: 5, total: 10, rate: 2, elapsed: 2.5, done: false, description: 'training' },
    metrics: [{ name: 'loss', value: 0.5 }, { name: 'acc', value: null }, 'junk'],
    panels: [{ version: 1, kind: 'lines', series: [{ y: [1, 'a'] }] }, { version: 1, kind: 'heatmap' }]
  });
  assert.equal(r.figure.panels.length, 2);
  assert.equal(r.figure.metrics.length, 2);
  assert.ok(Number.isNaN(r.figure.metrics[1].value));
  assert.ok(r.problems.some((p) => p.startsWith('panel 1: series[0].y')));
  assert.ok(r.problems.some((p) => p.startsWith('panel 2: ')));
  let deep: unknown = { version: 1, kind: 'lines', series: [] };
  for (let i = 0; i < 10; i++) deep = { version: 1, kind: 'grid', panels: [deep] };
  const d = parseFigure(deep);
  assert.ok(d.problems.some((p) => p.includes('nested too deeply')));
});

test('panel notes are collected with their panel number', async () => {
  const { figureNotes } = await import('../src/renderer');
  const r = parseFigure({ version: 1, kind: 'grid', notes: ['top'], panels: [{ kind: 'lines', notes: ['a'] }, { kind: 'lines', notes: ['b', 'c'] }] });
  assert.deepEqual(figureNotes(r.figure), ['top', 'panel 1: a', 'panel 2: b', 'panel 2: c']);
});
