// Unit tests of the pure helpers (node --test e2e/lib): reading numbers and
// matching a tooltip to the scatter's data, and the summary statistics.

import assert from 'node:assert/strict';
import test from 'node:test';
import { numbersIn, tooltipMismatch } from './checks.mjs';
import { formatSummary, quantile, summarize } from './stats.mjs';

const fig = {
  classes: ['cat', 'dog', 'bird'],
  domains: ['source', 'target'],
  points: { x: [0.5, -1.25, 3e-5], y: [2, 0.125, -7], class: [0, 1, 2], domain: [0, 1, 0] },
};

test('numbersIn reads signs, decimals, exponents and the Unicode minus', () => {
  const ns = numbersIn('x: \u22121.5, y: 2e-3, n 7');
  assert.deepEqual(ns.map((n) => n.value), [-1.5, 0.002, 7]);
  assert.ok(ns[0].matches(-1.54) && !ns[0].matches(-1.56));
  assert.ok(ns[1].matches(0.00204) && !ns[1].matches(0.0026));
  assert.ok(ns[2].exact && !ns[0].exact);
});

test('tooltipMismatch accepts a tooltip naming a point of the data', () => {
  assert.equal(tooltipMismatch('class: dog\ndomain: target\nx: -1.25\ny: 0.125', fig), '');
  assert.equal(tooltipMismatch('index: 2\nclass: bird\ndomain: source\nx: 3e-5\ny: -7', fig), '');
  assert.equal(tooltipMismatch('index: 0 class: cat domain: source', fig), '');
});

test('tooltipMismatch refuses wrong classes, domains and coordinates', () => {
  assert.match(tooltipMismatch('', fig), /empty/);
  assert.match(tooltipMismatch('x: 0.5 y: 2', fig), /classes/);
  assert.match(tooltipMismatch('class: cat x: 0.5 y: 2', fig), /domains/);
  assert.match(tooltipMismatch('class: cat domain: target x: 0.5 y: 2', fig), /no point/);
  assert.match(tooltipMismatch('class: cat domain: source x: 0.6 y: 2', fig), /no point/);
});

test('quantile and summarize use the nearest rank and skip non-numbers', () => {
  const v = [5, 1, 4, 2, 3, NaN];
  assert.equal(quantile(v, 0.5), 3);
  assert.equal(quantile(v, 0.95), 5);
  assert.ok(Number.isNaN(quantile([], 0.5)));
  assert.deepEqual(summarize(v), { median: 3, p95: 5, count: 5 });
  assert.equal(formatSummary(summarize([16.7, 16.6, 33.3]), 'frames'), 'median 16.7 ms, p95 33.3 ms over 3 frames');
  assert.equal(formatSummary(summarize([]), 'updates'), 'median n/a ms, p95 n/a ms over 0 updates');
});
