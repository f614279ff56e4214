import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decimateLine, strideSample } from '../src/decimate';
import { rng } from './util';

test('decimateLine keeps min, max, first and last of every pixel column', () => {
  const n = 1_000_000;
  const width = 500;
  const r = rng(1);
  const px = new Float64Array(n);
  const ys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    px[i] = (i / n) * width;
    ys[i] = Math.sin(i / 5000) + r();
  }
  const idx = decimateLine(px, ys);
  assert.ok(idx.length <= 4 * width, `kept ${idx.length}`);
  assert.ok(idx.length >= 2 * width);
  assert.equal(idx[0], 0);
  assert.equal(idx[idx.length - 1], n - 1);
  for (let k = 1; k < idx.length; k++) assert.ok(idx[k] > idx[k - 1], 'increasing');
  const kept = new Set(idx);
  // Brute force per column.
  const minI = new Int32Array(width).fill(-1);
  const maxI = new Int32Array(width).fill(-1);
  for (let i = 0; i < n; i++) {
    const c = Math.floor(px[i]);
    if (minI[c] < 0 || ys[i] < ys[minI[c]]) minI[c] = i;
    if (maxI[c] < 0 || ys[i] > ys[maxI[c]]) maxI[c] = i;
  }
  for (let c = 0; c < width; c++) {
    assert.ok(kept.has(minI[c]), `column ${c} min`);
    assert.ok(kept.has(maxI[c]), `column ${c} max`);
  }
});

test('decimateLine keeps one index per gap so the line breaks', () => {
  const px = Float64Array.from({ length: 20 }, (_, i) => i / 4); // 4 points per column
  const ys = Float64Array.from({ length: 20 }, (_, i) => (i >= 8 && i < 11 ? NaN : i % 3));
  const idx = Array.from(decimateLine(px, ys));
  const gaps = idx.filter((i) => Number.isNaN(ys[i]));
  assert.deepEqual(gaps, [8]);
  assert.ok(idx.includes(0) && idx.includes(19));
});

test('decimateLine on tiny input returns everything', () => {
  assert.deepEqual(Array.from(decimateLine([0, 0.1, 0.2], [1, 2, 3])), [0, 1, 2]);
  assert.deepEqual(Array.from(decimateLine([], [])), []);
});

test('strideSample: exact count, deterministic, note', () => {
  const a = strideSample(1_000_000, 200_000);
  assert.equal(a.indices.length, 200_000);
  assert.equal(a.indices[0], 0);
  assert.equal(a.indices[1], 5);
  assert.equal(a.indices[199_999], 999_995);
  assert.equal(a.note, 'showing 200,000 of 1,000,000 points (evenly sampled)');
  const b = strideSample(1_000_000, 200_000);
  assert.deepEqual(a.indices, b.indices);
  const c = strideSample(1000, 200_000);
  assert.equal(c.indices.length, 1000);
  assert.equal(c.note, '');
  const d = strideSample(7, 3);
  assert.deepEqual(Array.from(d.indices), [0, 2, 4]);
});
