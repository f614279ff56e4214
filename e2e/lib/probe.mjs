// The in-page probe, installed with page.addInitScript before any of the
// frontend's scripts run. It wraps WebSocket so that every kernel message
// carrying graft's figure MIME type is noted on arrival — its msg_type, the
// figure's kind and "frame", and performance.now() — before the frontend's
// own handlers see it, and it offers a requestAnimationFrame recorder for
// frame times. Results live in window.graftE2E:
//   arrivals: [{type, kind, frame, t, bytes}]   (graft figure messages)
//   binary:   number of binary websocket frames (skipped: Jupyter sends JSON text)
//   longTasks: [{t, ms}] main-thread tasks over 50 ms (PerformanceObserver)
//   text:     number of text websocket frames
//   startFrames(), stopFrames() -> [rAF timestamps]
//   watchFrames(cellSelector, i, outputSelector): from now on, every value
//             of data-frame on the .graft-figure in cell i's output is
//             appended to frames ([{frame, t}]) as the renderer sets it
// The renderer's own hooks are in window.graftFigureStats (paints, hovers).

/** The probe; runs in the page, so it must not refer to anything outside itself. */
export function probe() {
  if (window.graftE2E) return;
  const MIME = 'application/vnd.graft.figure+json';
  const state = { arrivals: [], binary: 0, text: 0, frameTimes: null, longTasks: [] };
  window.graftE2E = state;
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) state.longTasks.push({ t: e.startTime, ms: e.duration });
      if (state.longTasks.length > 2000) state.longTasks.splice(0, 1000);
    }).observe({ type: 'longtask', buffered: true });
  } catch {
    // no long task timing in this browser: longTasks stays empty
  }

  // Reads the header's msg_type and the figure's kind and frame from the
  // message text without parsing it all: the figure JSON puts "version" and
  // "kind" first, so the first "kind" after the MIME key is the figure's.
  const note = (data) => {
    if (typeof data !== 'string') {
      state.binary++;
      return;
    }
    state.text++;
    const at = data.indexOf(MIME);
    if (at < 0) return;
    const t = performance.now();
    const type = (data.match(/"msg_type"\s*:\s*"(\w+)"/) || [])[1] || '';
    const body = data.slice(at);
    const kind = (body.match(/"kind"\s*:\s*"(\w+)"/) || [])[1] || '';
    const frame = body.match(/"frame"\s*:\s*(\d+)/);
    state.arrivals.push({ type, kind, frame: frame ? Number(frame[1]) : null, t, bytes: data.length });
    if (state.arrivals.length > 5000) state.arrivals.splice(0, 1000);
  };

  const Native = window.WebSocket;
  function ProbedWebSocket(...args) {
    const ws = new Native(...args);
    // Registered before the frontend can set onmessage, so it runs first.
    ws.addEventListener('message', (ev) => note(ev.data));
    return ws;
  }
  ProbedWebSocket.prototype = Native.prototype;
  for (const k of ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED']) ProbedWebSocket[k] = Native[k];
  window.WebSocket = ProbedWebSocket;

  state.frames = [];
  state.watchFrames = (cellSelector, i, outputSelector) => {
    const read = () => {
      const cell = document.querySelectorAll(cellSelector)[i];
      const root = cell && cell.querySelector(`${outputSelector} .graft-figure`);
      const f = root && root.getAttribute('data-frame');
      const last = state.frames[state.frames.length - 1];
      if (f !== null && f !== undefined && (!last || last.frame !== f)) state.frames.push({ frame: f, t: performance.now() });
    };
    // Mutation callbacks run right after each change, however busy the page:
    // no value the renderer sets is missed, even when outputs are replaced.
    new MutationObserver(read).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-frame'] });
    read();
  };

  state.startFrames = () => {
    const times = [];
    state.frameTimes = times;
    const tick = (t) => {
      if (state.frameTimes !== times) return;
      times.push(t);
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  };
  state.stopFrames = () => {
    const times = state.frameTimes || [];
    state.frameTimes = null;
    return times;
  };
}
