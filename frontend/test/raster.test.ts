import { test } from 'node:test';
import assert from 'node:assert/strict';
import { markerMask, PointRaster, parseColor } from '../src/raster';

test('marker masks cover about the shape area', () => {
  const r = 4;
  const area = (s: number): number => markerMask(s, r).cover.reduce((a, b) => a + b, 0);
  // 4×4 supersampling is exact to 1/8 px per edge, so allow perimeter / 8.
  assert.ok(Math.abs(area(0) - Math.PI * r * r) < 4, `circle ${area(0)}`);
  assert.ok(Math.abs(area(2) - (1.8 * r) ** 2) < 4, `square ${area(2)}`);
  assert.ok(Math.abs(area(1) - 0.5 * 2.2 * r * 2 * r) < 4, `triangle ${area(1)}`);
  const m = markerMask(0, r);
  assert.equal(m.size % 2, 1); // odd: centred on a pixel
  assert.equal(m.cover[((m.size - 1) / 2) * m.size + (m.size - 1) / 2], 1);
  assert.equal(markerMask(0, r), m); // cached
});

test('stamping blends source-over and clips at the edges', () => {
  const ras = new PointRaster(10, 10);
  const m = markerMask(2, 2);
  ras.stamp(m, 5, 5, [255, 0, 0], 0.5);
  const k = (5 * 10 + 5) * 4;
  assert.deepEqual(Array.from(ras.data.slice(k, k + 4)), [255, 0, 0, 128]);
  ras.stamp(m, 5, 5, [0, 0, 255], 0.5);
  // alpha 0.5 over 128/255 → 0.751 (→ 192); colour (0,0,255)·0.5/0.751 + (255,0,0)·0.251/0.751
  assert.deepEqual(Array.from(ras.data.slice(k, k + 4)), [85, 0, 170, 192]);
  ras.stamp(m, -100, 0, [0, 255, 0], 1); // far outside: no effect, no throw
  ras.stamp(m, 0, 0, [0, 255, 0], 1); // partly outside
  assert.equal(ras.data[1], 255);
});

test('parseColor', () => {
  assert.deepEqual(parseColor('#0072B2'), [0, 114, 178]);
  assert.deepEqual(parseColor('#fff'), [255, 255, 255]);
  assert.deepEqual(parseColor('rgb(1, 2, 3)'), [1, 2, 3]);
  assert.deepEqual(parseColor('javascript:alert(1)'), [119, 119, 119]);
});
