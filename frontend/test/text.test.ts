import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tooltipForPoint, tooltipForLine, tooltipForCell, TOOLTIP_MAX } from '../src/tooltip';
import { progressText } from '../src/grid';
import { formatCell } from '../src/heatmap';
import { colormapLUT, lutIndex, paletteColor, PALETTE } from '../src/colormap';

test('scatter tooltip: label, index, class, domain, x, y as plain text lines', () => {
  const lines = tooltipForPoint({ label: '<img src=x onerror=alert(1)>', index: 17, className: 'cat', domainName: 'target', x: 0.5, y: -2 });
  assert.deepEqual(lines, ['<img src=x onerror=alert(1)>', 'index: 17', 'class: cat', 'domain: target', 'x: 0.5', 'y: -2']);
  const bare = tooltipForPoint({ x: 1, y: NaN });
  assert.deepEqual(bare, ['x: 1', 'y: missing']);
});

test('tooltips truncate huge strings', () => {
  const [first] = tooltipForPoint({ label: 'y'.repeat(10_000), x: 0, y: 0 });
  assert.equal(first.length, TOOLTIP_MAX);
  assert.ok(first.endsWith('\u2026'));
  assert.deepEqual(tooltipForLine('train', 3, 0.25, 0.01), ['train', 'x: 3', 'y: 0.25', '\u00b1 0.01']);
  assert.deepEqual(tooltipForCell('cat', 'dog', 12), ['row: cat', 'col: dog', 'value: 12']);
});

test('dashboard progress text', () => {
  const t = progressText({ step: 120, total: 1000, elapsed: 12.5, rate: 9.6, done: false, description: '' });
  assert.equal(t.fraction, 0.12);
  assert.equal(t.step, 'step 120 / 1000 (12%)');
  assert.equal(t.rate, '9.6 steps/s');
  assert.equal(t.elapsed, 'elapsed 0:13');
  assert.equal(t.eta, 'ETA 1:32'); // 880 / 9.6 = 91.67 s
  const d = progressText({ step: 1000, total: 1000, elapsed: 100, rate: 10, done: true, description: '' });
  assert.equal(d.eta, 'done');
  const u = progressText({ step: 5, total: NaN, elapsed: NaN, rate: NaN, done: false, description: '' });
  assert.equal(u.step, 'step 5');
  assert.ok(Number.isNaN(u.fraction));
});

test('cell annotations and colormaps', () => {
  assert.equal(formatCell(12), '12');
  assert.equal(formatCell(0.12345), '0.123');
  assert.equal(formatCell(NaN), '');
  const lut = colormapLUT('viridis');
  assert.deepEqual(Array.from(lut.slice(0, 4)), [0x44, 0x01, 0x54, 255]);
  assert.deepEqual(Array.from(lut.slice(255 * 4, 256 * 4)), [0xfd, 0xe7, 0x25, 255]);
  assert.equal(colormapLUT('no-such-map'), lut);
  assert.equal(lutIndex(5, 0, 10), 128);
  assert.equal(lutIndex(-1, 0, 10), 0);
  assert.equal(lutIndex(NaN, 0, 10), -1);
  assert.equal(paletteColor(9), PALETTE[1]);
  assert.equal(paletteColor(0, '#fff'), '#fff');
});
