// Scripted checks run in the browser by smoke.mjs; results are POSTed back.
import { scatter, longLines, growingLines } from '/fixtures/generate.mjs';

const checks = [];
const metrics = {};
const errors = [];
window.addEventListener('error', (e) => errors.push(String(e.message)));
window.alert = () => errors.push('alert() was called');
const check = (name, ok, detail = '') => checks.push({ name, ok: !!ok, detail: String(detail) });
const frames = (n = 2) => new Promise((res) => { const step = () => (n-- <= 0 ? res() : requestAnimationFrame(step)); step(); });
const json = async (name) => (await fetch('/fixtures/' + name)).json();
const stats = () => window.graftFigureStats;

function mount(spec) {
  const r = new GraftFigure.FigureRenderer();
  document.body.appendChild(r.root);
  r.update(spec);
  return r;
}
function overlayOf(r, k = 0) {
  return r.root.querySelectorAll('canvas.graft-canvas-overlay')[k];
}
function mouse(target, type, x, y, extra = {}) {
  const b = target.getBoundingClientRect();
  target.dispatchEvent(new MouseEvent(type, { bubbles: true, cancelable: true, clientX: b.left + x, clientY: b.top + y, ...extra }));
}
async function shot(name, r) {
  // Composite base + overlay canvases of the first view into one PNG.
  const base = r.root.querySelector('canvas.graft-canvas-base');
  if (!base) return;
  const c = document.createElement('canvas');
  c.width = base.width;
  c.height = base.height;
  const ctx = c.getContext('2d');
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, c.width, c.height);
  ctx.drawImage(base, 0, 0);
  ctx.drawImage(r.root.querySelector('canvas.graft-canvas-overlay'), 0, 0);
  await fetch('/shot', { method: 'POST', body: JSON.stringify({ name, data: c.toDataURL('image/png') }) });
}

async function main() {
  // 1. small lines
  const lines = mount(await json('lines.json'));
  await frames();
  check('lines: drawn, data-frame set', lines.root.getAttribute('data-frame') === '0');
  check('lines: 2 legend items', lines.root.querySelectorAll('.graft-legend-item').length === 2);
  check('lines: producer note shown', [...lines.root.querySelectorAll('.graft-note')].some((n) => n.textContent === '1 NaN value skipped'));
  const lo = overlayOf(lines);
  // Hover near step 5 of "train": find the tooltip.
  let tipShown = false;
  for (let x = 100; x < 560 && !tipShown; x += 20) {
    mouse(lo, 'mousemove', x, 150);
    const tip = lines.root.querySelector('.graft-tooltip');
    tipShown = tip.style.display !== 'none' && /x: /.test(tip.textContent);
  }
  check('lines: hover shows tooltip', tipShown, lines.root.querySelector('.graft-tooltip').textContent.replace(/\n/g, ' | '));
  await shot('lines', lines);
  mouse(lo, 'mouseleave', 0, 0);
  const item = lines.root.querySelector('.graft-legend-item');
  item.click();
  await frames();
  check('lines: legend click toggles off', item.classList.contains('graft-legend-off'));
  lo.dispatchEvent(new MouseEvent('mouseleave'));
  const unengaged = stats().paints.length;
  const plain = new WheelEvent('wheel', { bubbles: true, cancelable: true, deltaY: -300, clientX: lo.getBoundingClientRect().left + 300, clientY: lo.getBoundingClientRect().top + 150 });
  lo.dispatchEvent(plain);
  await frames();
  check('lines: a plain wheel over an unclicked figure scrolls the page', stats().paints.length === unengaged && !plain.defaultPrevented);
  const paints0 = stats().paints.length;
  lo.dispatchEvent(new WheelEvent('wheel', { bubbles: true, cancelable: true, ctrlKey: true, deltaY: -300, clientX: lo.getBoundingClientRect().left + 300, clientY: lo.getBoundingClientRect().top + 150 }));
  await frames();
  check('lines: wheel zoom repaints', stats().paints.length > paints0);
  mouse(lo, 'dblclick', 300, 150);
  await frames();

  // 2. 100k scatter: first paint and hover speed
  const timed = async (name, spec) => {
    const t0 = performance.now();
    const r = mount(spec);
    metrics[name + 'UpdateMs'] = +(performance.now() - t0).toFixed(1);
    await frames(1);
    metrics[name + 'FirstPaintMs'] = +(stats().paints[stats().paints.length - 1].t - t0).toFixed(1);
    return r;
  };
  const sc = await timed('scatter100k', scatter(100000));
  await frames();
  const so = overlayOf(sc);
  const h0 = stats().hovers.length;
  let hits = 0;
  for (let i = 0; i < 300; i++) {
    mouse(so, 'mousemove', 60 + ((i * 37) % 540), 10 + ((i * 53) % 300));
    if (sc.root.querySelector('.graft-tooltip').style.display !== 'none') hits++;
  }
  const hv = stats().hovers.slice(h0);
  metrics.scatter100kHoverMeanMs = +(hv.reduce((a, b) => a + b, 0) / hv.length).toFixed(3);
  metrics.scatter100kHoverMaxMs = +Math.max(...hv).toFixed(3);
  check('scatter 100k: hover finds points', hits > 50, `${hits}/300`);
  check('scatter 100k: hover mean < 4 ms', metrics.scatter100kHoverMeanMs < 4, metrics.scatter100kHoverMeanMs);
  const tipText = sc.root.querySelector('.graft-tooltip').textContent;
  await shot('scatter100k', sc);
  check('scatter: 5 class legend items', sc.root.querySelectorAll('.graft-legend-item').length === 5);
  // box zoom
  const p1 = stats().paints.length;
  mouse(so, 'mousedown', 200, 100, { button: 0 });
  mouse(so, 'mousemove', 300, 200);
  window.dispatchEvent(new MouseEvent('mouseup', { clientX: so.getBoundingClientRect().left + 300, clientY: so.getBoundingClientRect().top + 200 }));
  await frames();
  check('scatter: box zoom repaints full', stats().paints.length > p1 && stats().paints[stats().paints.length - 1].full);
  metrics.scatterLastTooltip = tipText;
  // shift-drag pans
  const p2 = stats().paints.length;
  mouse(so, 'mousedown', 300, 150, { button: 0, shiftKey: true });
  window.dispatchEvent(new MouseEvent('mousemove', { clientX: so.getBoundingClientRect().left + 340, clientY: so.getBoundingClientRect().top + 170 }));
  window.dispatchEvent(new MouseEvent('mouseup', { clientX: so.getBoundingClientRect().left + 340, clientY: so.getBoundingClientRect().top + 170 }));
  await frames();
  check('scatter: shift-drag pans (repaints)', stats().paints.length > p2);
  // growing scatter appends
  const gs = mount({ ...scatter(2000, 3, 5), title: 'growing', frame: 0 });
  await frames();
  const p3 = stats().paints.length;
  for (let f = 1; f <= 5; f++) {
    gs.update({ ...scatter(2000 + 200 * f, 3, 5), title: 'growing', frame: f });
    await frames(1);
  }
  await frames();
  const sp = stats().paints.slice(p3);
  metrics.scatterLiveAppends = sp.filter((p) => !p.full).length;
  check('scatter live: updates drawn, some as appends', gs.root.getAttribute('data-frame') === '5' && metrics.scatterLiveAppends > 0, JSON.stringify(sp.map((p) => p.full)));

  // 3. 1M scatter → sampled with a note
  const big = await timed('scatter1M', scatter(1000000, 4, 9));
  check('scatter 1M: sampling note', [...big.root.querySelectorAll('.graft-note')].some((n) => /showing 200,000 of 1,000,000/.test(n.textContent)));

  // 4. 1M-point line
  const ll = await timed('lines1M', longLines(1000000));
  await shot('lines1M', ll);

  // 5. live appends
  const live = mount(growingLines(0));
  await frames();
  const pl = stats().paints.length;
  for (let f = 1; f <= 30; f++) {
    live.update(growingLines(f));
    await frames(1);
  }
  await frames();
  const lp = stats().paints.slice(pl).filter((p) => p.kind === 'lines');
  metrics.liveAppends = lp.filter((p) => !p.full).length;
  metrics.liveFulls = lp.filter((p) => p.full).length;
  check('live: data-frame follows updates', live.root.getAttribute('data-frame') === '30');
  check('live: most updates are appends', metrics.liveAppends > metrics.liveFulls, `${metrics.liveAppends} appends, ${metrics.liveFulls} full`);
  await shot('live', live);
  // zoom survives update
  const lvo = overlayOf(live);
  lvo.dispatchEvent(new WheelEvent('wheel', { bubbles: true, cancelable: true, ctrlKey: true, deltaY: -500, clientX: lvo.getBoundingClientRect().left + 300, clientY: lvo.getBoundingClientRect().top + 150 }));
  await frames();
  live.root.querySelector('.graft-legend-item').click();
  await frames();
  live.update(growingLines(31));
  await frames();
  check('live: legend toggle survives update', live.root.querySelector('.graft-legend-item').classList.contains('graft-legend-off'));

  // 6. heatmap
  const hm = mount(await json('heatmap.json'));
  await frames();
  const ho = overlayOf(hm);
  let cellTip = '';
  for (let x = 80; x < 400 && !cellTip; x += 15) {
    mouse(ho, 'mousemove', x, 60);
    const t = hm.root.querySelector('.graft-tooltip');
    if (t.style.display !== 'none') cellTip = t.textContent;
  }
  check('heatmap: hover shows row/col/value', /row: .*\ncol: .*\nvalue: /.test(cellTip), cellTip.replace(/\n/g, ' | '));
  await shot('heatmap', hm);

  // 7. dashboard
  const db = mount(await json('dashboard.json'));
  await frames();
  check('dashboard: 2 panels', db.root.querySelectorAll('.graft-xy').length === 2);
  check('dashboard: metric cards', db.root.querySelectorAll('.graft-metric').length === 3);
  check('dashboard: progress text', /step 120 \/ 1000/.test(db.root.querySelector('.graft-progress-info').textContent), db.root.querySelector('.graft-progress-info').textContent);
  check('dashboard: data-frame', db.root.getAttribute('data-frame') === '4');

  // 8. broken inputs and hostile text
  const broken = await json('broken.json');
  let threw = 0;
  const mounted = [];
  for (const b of broken) {
    try {
      mounted.push(mount(b));
    } catch (e) {
      threw++;
    }
  }
  await frames();
  check('broken: nothing throws', threw === 0 && errors.length === 0, errors.join('; '));
  check('broken: every broken figure shows a note', mounted.every((m, i) => i === 6 || i === 7 || m.root.querySelectorAll('.graft-note').length > 0),
    mounted.map((m) => m.root.querySelectorAll('.graft-note').length).join(','));
  const xss = mounted[4];
  const xo = overlayOf(xss);
  let xtip = '';
  for (let x = 60; x < 600 && !xtip.includes('<img'); x += 4) {
    for (let y = 10; y < 320 && !xtip.includes('<img'); y += 8) {
      mouse(xo, 'mousemove', x, y);
      xtip = xss.root.querySelector('.graft-tooltip').textContent;
    }
  }
  check('hostile label shown as text', xtip.includes('<img src=x onerror=alert(1)>') && document.querySelectorAll('img').length === 0, xtip.replace(/\n/g, ' | '));
  await checkShippedNbextension(await json('lines.json'));
  await checkShippedLabextension(await json('lines.json'));
  check('no page errors', errors.length === 0, errors.join('; '));
  metrics.devicePixelRatio = window.devicePixelRatio;
}

const loadScript = (src) => new Promise((res, rej) => { const s = document.createElement('script'); s.src = src; s.onload = res; s.onerror = rej; document.head.appendChild(s); });

/** Loads the shipped classic nbextension with a stand-in AMD loader and OutputArea. */
async function checkShippedNbextension(spec) {
  let mod = null;
  window.define = (deps, f) => { mod = f(); };
  const registered = [];
  function OutputArea() {}
  OutputArea.prototype.register_mime_type = (mime, append, opts) => registered.push({ mime, append, opts });
  const updates = [];
  OutputArea.prototype.update_display_data = function (json) {
    // Like classic: a new output area element per target, rendered through append_map.
    for (const t of this._display_id_targets[json.transient.display_id]) {
      const el = $wrap(document.createElement('div'));
      const r = registered[0].append.call(this, json.data[registered[0].mime], {}, el);
      t.element[0].replaceWith(el[0]);
      t.element = el;
      updates.push(r);
    }
  };
  const $wrap = (node) => { const w = [node]; w.append = (x) => node.appendChild(x[0] || x); return w; };
  const area = new OutputArea();
  area.create_output_subarea = () => $wrap(document.createElement('div'));
  window.requirejs = (deps, cb) => cb({ OutputArea });
  await loadScript('/shipped/nbextensions/graft-figure/main.js');
  delete window.define;
  check('nbextension: AMD module exports load_ipython_extension', mod && typeof mod.load_ipython_extension === 'function');
  mod.load_ipython_extension();
  const reg = registered[0];
  check('nbextension: registers the MIME type first and safe', reg && reg.mime === 'application/vnd.graft.figure+json' && reg.opts.index === 0 && reg.opts.safe === true);
  const element = $wrap(document.createElement('div'));
  document.body.appendChild(element[0]);
  const first = { ...spec, frame: 0 };
  reg.append.call(area, first, {}, element);
  await frames();
  const root = element[0].querySelector('.graft-figure');
  check('nbextension: append renders a figure', root && root.getAttribute('data-frame') === '0');
  area._display_id_targets = { abc: [{ element }] };
  const next = JSON.parse(JSON.stringify(first));
  next.frame = 1;
  next.series[0].x.push(10);
  next.series[0].y.push(0.6);
  area.update_display_data({ transient: { display_id: 'abc' }, data: { 'application/vnd.graft.figure+json': next } });
  await frames();
  const root2 = document.querySelectorAll('.graft-figure');
  check('nbextension: update_display_data reuses the figure', updates.length === 1 && updates[0][0].querySelector('.graft-figure') === root && root.getAttribute('data-frame') === '1');
  check('nbextension: update drawn as an append', stats().paints[stats().paints.length - 1].full === false);
}

/** Loads the shipped lab extension's remoteEntry as JupyterLab 3 would (module federation). */
async function checkShippedLabextension(spec) {
  const pkg = await (await fetch('/shipped/labextensions/graft-figure/package.json')).json();
  check('labextension: package.json names the entry and mimeExtension', /^static\/remoteEntry\.[0-9a-f]+\.js$/.test(pkg.jupyterlab._build.load) && pkg.jupyterlab._build.mimeExtension === './mimeExtension');
  // webpack's public path is 'auto': it is derived from the script's URL.
  await loadScript('/shipped/labextensions/graft-figure/' + pkg.jupyterlab._build.load);
  const container = window._JUPYTERLAB['graft-figure'];
  class Widget {
    constructor() { this.node = document.createElement('div'); this.isDisposed = false; }
    addClass(c) { this.node.classList.add(c); }
    dispose() { this.isDisposed = true; }
  }
  const scope = { '@lumino/widgets': { '1.37.2': { get: () => Promise.resolve(() => ({ Widget })), loaded: 1, from: 'lab' } } };
  await container.init(scope);
  const factory = await container.get('./mimeExtension');
  const ext = factory().default;
  check('labextension: IExtension shape', ext && ext.rendererFactory.mimeTypes[0] === 'application/vnd.graft.figure+json' && ext.rendererFactory.safe === true && ext.rendererFactory.defaultRank === 0 && ext.dataType === 'json');
  const w = ext.rendererFactory.createRenderer({});
  document.body.appendChild(w.node);
  await w.renderModel({ data: { 'application/vnd.graft.figure+json': { ...spec, frame: 5 } } });
  await frames();
  const root = w.node.querySelector('.graft-figure');
  check('labextension: renderModel draws', root && root.getAttribute('data-frame') === '5' && root.querySelector('canvas'));
  const next = JSON.parse(JSON.stringify({ ...spec, frame: 6 }));
  next.series[0].x.push(10);
  next.series[0].y.push(0.6);
  await w.renderModel({ data: { 'application/vnd.graft.figure+json': next } });
  await frames();
  check('labextension: second renderModel updates in place', w.node.querySelector('.graft-figure') === root && root.getAttribute('data-frame') === '6');
}

main()
  .catch((e) => checks.push({ name: 'page script', ok: false, detail: String(e && e.stack || e) }))
  .finally(() => fetch('/result', { method: 'POST', body: JSON.stringify({ checks, metrics }) }));
