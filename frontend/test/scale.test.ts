import { test } from 'node:test';
import assert from 'node:assert/strict';
import { niceStep, linearTicks, logTicks, niceDomain, makeScale, formatTicks, formatValue, formatDuration, extent } from '../src/scale';

test('niceStep picks 1-2-5 steps', () => {
  assert.equal(niceStep(10, 5), 2); // raw 2
  assert.equal(niceStep(100, 10), 10); // raw 10 → norm 1
  assert.equal(niceStep(1, 4), 0.2); // raw 0.25 → norm 2.5 → 2
  assert.equal(niceStep(7, 2), 5); // raw 3.5 → 5
  assert.equal(niceStep(0.9, 1), 1); // raw 0.9 → norm 9 → 10 × 0.1
});

test('linearTicks: hand-computed values', () => {
  assert.deepEqual(linearTicks(0, 10, 5), [0, 2, 4, 6, 8, 10]);
  assert.deepEqual(linearTicks(0.13, 0.97, 5), [0.2, 0.4, 0.6, 0.8]);
  assert.deepEqual(linearTicks(-1, 1, 4), [-1, -0.5, 0, 0.5, 1]);
  assert.deepEqual(linearTicks(0.1, 0.3, 2), [0.1, 0.2, 0.3]); // no 0.30000000000000004
  assert.deepEqual(linearTicks(5, 5, 5), [5]);
  assert.deepEqual(linearTicks(NaN, 1, 5), []);
});

test('logTicks: decades, and 1-2-5 on short ranges', () => {
  assert.deepEqual(logTicks(1, 1000), [1, 10, 100, 1000]);
  assert.deepEqual(logTicks(1, 100), [1, 2, 5, 10, 20, 50, 100]);
  assert.deepEqual(logTicks(1e-6, 1e6, 7), [1e-6, 1e-4, 0.01, 1, 100, 1e4, 1e6]);
  assert.deepEqual(logTicks(0, 10), []);
});

test('niceDomain adds headroom and rounds out', () => {
  // 0..97: pad 4.85 → [0 (clamped at 0), 101.85] → step niceStep(101.85,5)=20 → [0, 120]
  assert.deepEqual(niceDomain(0, 97), [0, 120]);
  // 1..2: pad .05 → [.95, 2.05] → step .2 → [0.8, 2.2]
  assert.deepEqual(niceDomain(1, 2), [0.8, 2.2]);
  // all negative stays ≤ 0
  assert.deepEqual(niceDomain(-97, -3), [-120, 0]);
  // single value gets a width
  assert.deepEqual(niceDomain(5, 5), [4.4, 5.6]);
  assert.deepEqual(niceDomain(0, 0), [-1.5, 1.5]); // [-1.1, 1.1] → step 0.5
  assert.deepEqual(niceDomain(NaN, 3), [0, 1]);
  // log: whole decades
  assert.deepEqual(niceDomain(3, 450, true), [1, 1000]);
  assert.deepEqual(niceDomain(10, 10, true), [10, 100]);
  assert.deepEqual(niceDomain(-1, 10, true), [1, 10]);
});

test('linear scale maps and inverts', () => {
  const s = makeScale(0, 10, 100, 300);
  assert.equal(s.map(0), 100);
  assert.equal(s.map(5), 200);
  assert.equal(s.map(10), 300);
  assert.equal(s.invert(250), 7.5);
  const flipped = makeScale(0, 1, 200, 0); // y axis: up is smaller px
  assert.equal(flipped.map(0.25), 150);
});

test('log scale maps decades evenly and skips non-positive values', () => {
  const s = makeScale(1, 1000, 0, 300, true);
  assert.equal(s.map(1), 0);
  assert.ok(Math.abs(s.map(10) - 100) < 1e-9);
  assert.ok(Math.abs(s.map(100) - 200) < 1e-9);
  assert.ok(Number.isNaN(s.map(0)));
  assert.ok(Number.isNaN(s.map(-5)));
  assert.ok(Math.abs(s.invert(150) - Math.sqrt(10) * 10) < 1e-9);
  assert.deepEqual(extent([-3, 0, 2, 50, NaN], true), [2, 50]);
  assert.deepEqual(extent([-3, 0, 2, 50, NaN], false), [-3, 50]);
  assert.equal(extent([NaN, NaN]), null);
});

test('tick and value labels', () => {
  assert.deepEqual(formatTicks([0, 0.2, 0.4]), ['0', '0.2', '0.4']);
  assert.deepEqual(formatTicks([0.1, 0.2, 0.30000000000000004]), ['0.1', '0.2', '0.3']);
  assert.deepEqual(formatTicks([1000, 1500, 2000]), ['1000', '1500', '2000']);
  assert.deepEqual(formatTicks([0, 200000, 400000, 1000000, 1200000]), ['0', '0.2M', '0.4M', '1.0M', '1.2M']);
  assert.deepEqual(formatTicks([0, 200000, 400000]), ['0', '200k', '400k']);
  assert.deepEqual(formatTicks([0, 0.0002, 0.0004]), ['0', '2e-4', '4e-4']);
  assert.deepEqual(formatTicks([1, 10, 100, 1e6], true), ['1', '10', '100', '1e6']);
  assert.equal(formatValue(0.123456789), '0.123457');
  assert.equal(formatValue(42), '42');
  assert.equal(formatValue(NaN), 'missing');
  assert.equal(formatValue(1.5e-7), '1.5e-7');
  assert.equal(formatDuration(75), '1:15');
  assert.equal(formatDuration(3725), '1:02:05');
  assert.equal(formatDuration(NaN), '?');
});
