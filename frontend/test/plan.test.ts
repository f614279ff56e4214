import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFigure, Figure } from '../src/spec';
import { planUpdate, Domain } from '../src/plan';

const fig = (raw: object): Figure => parseFigure({ version: 1, ...raw }).figure;
const lines = (ys: (number | null)[][], extra: object = {}): Figure =>
  fig({ kind: 'lines', series: ys.map((y, i) => ({ name: `s${i}`, y })), ...extra });
const D: Domain = { x0: 0, x1: 10, y0: 0, y1: 10 };

test('growing series inside the domain append', () => {
  assert.equal(planUpdate(lines([[1, 2, 3]]), lines([[1, 2, 3, 4, 5]]), D, false), 'append');
  assert.equal(planUpdate(lines([[1, 2], [3]]), lines([[1, 2, 3], [3]]), D, false), 'append');
});

test('nothing new is "none"', () => {
  assert.equal(planUpdate(lines([[1, 2, 3]]), lines([[1, 2, 3]]), D, false), 'none');
});

test('a new point outside the domain forces a full redraw, unless zoomed', () => {
  assert.equal(planUpdate(lines([[1, 2, 3]]), lines([[1, 2, 3, 11]]), D, false), 'full');
  assert.equal(planUpdate(lines([[1, 2, 3]]), lines([[1, 2, 3, 11]]), D, true), 'append');
  // x outside: x of the 12th point is 11
  const ys = Array.from({ length: 11 }, () => 1);
  assert.equal(planUpdate(lines([ys]), lines([[...ys, 1]]), D, false), 'full');
  // missing values never break the fit
  assert.equal(planUpdate(lines([[1]]), lines([[1, null]]), D, false), 'append');
});

test('a changed last old point, shrinking or renamed series are full', () => {
  assert.equal(planUpdate(lines([[1, 2, 3]]), lines([[1, 2, 4, 5]]), D, false), 'full');
  assert.equal(planUpdate(lines([[1, 2, 3]]), lines([[1, 2]]), D, false), 'full');
  assert.equal(planUpdate(lines([[1], [2]]), lines([[1, 2]]), D, false), 'full');
  assert.equal(planUpdate(lines([[1]]), lines([[1, 2]], { title: 'new' }), D, false), 'full');
  assert.equal(planUpdate(lines([[1]]), lines([[1, 2]], { y: { log: true } }), D, false), 'full');
  assert.equal(planUpdate(lines([[1]]), fig({ kind: 'scatter', points: { x: [0], y: [1] } }), D, false), 'full');
  assert.equal(planUpdate(lines([[1]]), lines([[1, 2]]), null, false), 'full');
});

test('bands count toward the fit', () => {
  const a = fig({ kind: 'lines', series: [{ name: 'a', y: [5], band: [1] }] });
  const ok = fig({ kind: 'lines', series: [{ name: 'a', y: [5, 5], band: [1, 4] }] });
  const over = fig({ kind: 'lines', series: [{ name: 'a', y: [5, 5], band: [1, 6] }] });
  assert.equal(planUpdate(a, ok, D, false), 'append');
  assert.equal(planUpdate(a, over, D, false), 'full');
});

test('scatter: prefix growth appends; sampling or class changes are full', () => {
  const pts = (n: number, cls = 0): Figure =>
    fig({ kind: 'scatter', points: { x: Array.from({ length: n }, (_, i) => i % 10), y: Array.from({ length: n }, () => 1), class: Array.from({ length: n }, () => cls) } });
  assert.equal(planUpdate(pts(5), pts(8), D, false), 'append');
  assert.equal(planUpdate(pts(5), pts(5), D, false), 'none');
  assert.equal(planUpdate(pts(5), pts(8, 1), D, false), 'full');
  assert.equal(planUpdate(pts(5), pts(8), D, false, 7), 'full');
});
