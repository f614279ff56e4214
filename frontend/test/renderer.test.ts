import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { installFakeDom, FakeElement, frames } from './fakedom';
import type { FigureRenderer as FR } from '../src/renderer';
import type { FigureStats } from '../src/stats';

let FigureRenderer: typeof FR;
const fixtures = path.join(__dirname, '../../../test/fixtures');
const stats = (): FigureStats => (globalThis as unknown as { graftFigureStats: FigureStats }).graftFigureStats;
const root = (r: FR): FakeElement => r.root as unknown as FakeElement;

before(async () => {
  installFakeDom();
  ({ FigureRenderer } = await import('../src/renderer'));
});

function growing(frame: number, per = 10): object {
  const n = (frame + 1) * per;
  const x = Array.from({ length: n }, (_, i) => i);
  return { version: 1, kind: 'lines', frame, series: [{ name: 'train', x, y: x.map((i) => 2 / (1 + i / 20)) }] };
}

test('broken inputs never throw and always explain themselves', async () => {
  const broken = JSON.parse(fs.readFileSync(path.join(fixtures, 'broken.json'), 'utf8')) as unknown[];
  const rs = broken.map((b) => {
    const r = new FigureRenderer();
    r.update(b);
    return r;
  });
  await frames();
  rs.forEach((r, i) => assert.ok(root(r).querySelectorAll('.graft-note').length > 0, `input ${i} shows a note`));
  // Not even hostile calls throw.
  const r = new FigureRenderer();
  for (const v of [undefined, Symbol('x'), () => 1, { kind: 'lines', series: [{ y: { length: 1e12 } }] }]) r.update(v);
  await frames();
});

test('live updates: first paint full, growth appends, data-frame follows', async () => {
  const r = new FigureRenderer();
  const start = stats()?.paints.length ?? 0;
  r.update(growing(0));
  await frames();
  for (let f = 1; f <= 12; f++) {
    r.update(growing(f));
    await frames();
  }
  const paints = stats().paints.slice(start);
  assert.equal(paints[0].full, true);
  assert.equal(paints[0].frame, 0);
  assert.equal(paints.length, 13);
  assert.ok(paints.filter((p) => !p.full).length >= 8, JSON.stringify(paints.map((p) => p.full)));
  assert.equal(root(r).getAttribute('data-frame'), '12');
  // Several updates in one frame are painted once, with the last frame number.
  const before = stats().paints.length;
  r.update(growing(13));
  r.update(growing(14));
  await frames();
  assert.equal(stats().paints.length, before + 1);
  assert.equal(stats().paints[before].frame, 14);
});

test("a live figure's final frame is drawn whole, to fit its axes to the data", async () => {
  const r = new FigureRenderer();
  for (let f = 0; f <= 12; f++) {
    r.update(growing(f));
    await frames();
  }
  const before = stats().paints.length;
  r.update({ ...growing(12), frame: 13, final: true });
  await frames();
  const last = stats().paints.slice(before);
  assert.equal(last.length, 1);
  assert.equal(last[0].full, true, 'the final frame kept the room the live frames left to grow');
  assert.equal(last[0].frame, 13);
});

test('legend toggles survive updates', async () => {
  const r = new FigureRenderer();
  const two = (n: number): object => ({ version: 1, kind: 'lines', series: [{ name: 'a', y: Array(n).fill(1) }, { name: 'b', y: Array(n).fill(2) }] });
  r.update(two(3));
  await frames();
  const items = root(r).querySelectorAll('.graft-legend-item');
  assert.equal(items.length, 2);
  items[1].click();
  r.update(two(4));
  await frames();
  assert.ok(root(r).querySelectorAll('.graft-legend-item')[1].classList.contains('graft-legend-off'));
});

test('hover tooltip carries hostile labels as text', async () => {
  const r = new FigureRenderer();
  r.update({ version: 1, kind: 'scatter', points: { x: [0, 10], y: [0, 10], label: ['<img src=x onerror=alert(1)>', 'b'], index: [7, 8] } });
  await frames();
  const overlay = root(r).querySelector('canvas.graft-canvas-overlay')!;
  // The plot is 624 wide: the auto x range is [0, 12] → x=0 at the left margin (58 px).
  let tip = '';
  for (let x = 50; x < 70 && !tip; x++) {
    for (let y = 250; y < 320 && !tip; y += 2) {
      overlay.fire('mousemove', { clientX: x, clientY: y });
      const t = root(r).querySelector('.graft-tooltip')!;
      if (t.style.display === 'block') tip = t.textContent;
    }
  }
  assert.equal(tip.split('\n')[0], '<img src=x onerror=alert(1)>');
  assert.equal(tip.split('\n')[1], 'index: 7');
  assert.ok(stats().hovers.length > 0);
});

test('1M-point line is decimated before drawing', async () => {
  const n = 1_000_000;
  const y = new Array(n);
  for (let i = 0; i < n; i++) y[i] = Math.sin(i / 1000) + (i % 7) / 10;
  FakeElement.calls.length = 0;
  const r = new FigureRenderer();
  r.update({ version: 1, kind: 'lines', series: [{ name: 'big', y }] });
  await frames();
  const lineTos = FakeElement.calls.filter((c) => c.name === 'lineTo').length;
  assert.ok(lineTos < 4 * 624, `lineTo calls: ${lineTos}`);
  assert.ok(lineTos > 500);
  assert.equal(root(r).querySelectorAll('.graft-note').filter((e) => e.classList.contains('graft-error')).length, 0);
});

test('no module writes HTML', () => {
  const src = path.join(__dirname, '../../../src');
  for (const f of fs.readdirSync(src)) {
    const text = fs.readFileSync(path.join(src, f), 'utf8');
    assert.ok(!/innerHTML|outerHTML|insertAdjacentHTML|document\.write/.test(text), f);
  }
});
