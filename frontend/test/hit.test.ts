import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GridIndex, nearestX, isSorted } from '../src/hit';
import { rng } from './util';

test('GridIndex.nearest agrees with brute force on random data', () => {
  const r = rng(7);
  const n = 100_000;
  const W = 600;
  const H = 400;
  const sx = new Float32Array(n);
  const sy = new Float32Array(n);
  const ids = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    sx[i] = r() * W;
    sy[i] = r() * H;
    ids[i] = i * 3; // ids differ from positions
  }
  sx[5] = NaN; // unplottable points are skipped
  const g = new GridIndex(sx, sy, ids, W, H);
  assert.equal(g.size, n - 1);
  for (let q = 0; q < 500; q++) {
    const x = r() * W;
    const y = r() * H;
    const R = 1 + r() * 15;
    let best = -1;
    let bestD = R * R;
    for (let i = 0; i < n; i++) {
      const d = (sx[i] - x) ** 2 + (sy[i] - y) ** 2;
      if (d < bestD || (d === bestD && best >= 0 && i > best)) {
        bestD = d;
        best = i;
      }
    }
    assert.equal(g.nearest(x, y, R), best < 0 ? -1 : ids[best], `query ${q}`);
  }
});

test('GridIndex: nothing within radius gives -1; outside points ignored', () => {
  const g = new GridIndex([10, 700], [10, 10], [0, 1], 100, 100);
  assert.equal(g.nearest(50, 50, 5), -1);
  assert.equal(g.nearest(12, 11, 5), 0);
  assert.equal(g.nearest(99, 10, 1000), 0);
});

test('nearestX: binary search matches a scan and skips missing y', () => {
  const r = rng(3);
  const xs = new Float64Array(1000);
  const ys = new Float64Array(1000);
  let x = 0;
  for (let i = 0; i < 1000; i++) {
    x += r();
    xs[i] = x;
    ys[i] = r() < 0.1 ? NaN : r();
  }
  assert.ok(isSorted(xs));
  for (let q = 0; q < 300; q++) {
    const t = r() * (x + 20) - 10;
    assert.equal(nearestX(xs, ys, t, true), nearestX(xs, ys, t, false), `t=${t}`);
  }
  assert.equal(nearestX([0, 1, 2], [NaN, NaN, NaN], 1, true), -1);
  assert.equal(nearestX([], [], 1, true), -1);
  assert.ok(!isSorted([0, 2, 1]));
});
