// A tiny stand-in for the DOM and the 2D canvas context, enough to run
// FigureRenderer under node:test. The context records every call so tests can
// count what was drawn. Only what the renderer uses is implemented.

export interface Call {
  name: string;
  args: unknown[];
}

/** A 2D context that records method calls; properties are plain fields. */
export function fakeContext(log: Call[]): CanvasRenderingContext2D {
  const fields: Record<string, unknown> = {};
  return new Proxy(fields, {
    get(target, prop: string) {
      if (prop in target) return target[prop];
      if (prop === 'measureText') return (t: string) => ({ width: String(t).length * 6 });
      return (...args: unknown[]) => {
        log.push({ name: prop, args });
      };
    },
    set(target, prop: string, v) {
      target[prop] = v;
      return true;
    }
  }) as unknown as CanvasRenderingContext2D;
}

type Listener = (e: unknown) => void;

export class FakeElement {
  tagName: string;
  className = '';
  style: Record<string, string> = {};
  dataset: Record<string, string> = {};
  children: FakeElement[] = [];
  parent: FakeElement | null = null;
  attrs: Record<string, string> = {};
  listeners: Record<string, Listener[]> = {};
  title = '';
  tabIndex = 0;
  type = '';
  width = 300;
  height = 150;
  private text = '';
  ctx: CanvasRenderingContext2D | null = null;
  static calls: Call[] = [];

  constructor(tag: string) {
    this.tagName = tag.toUpperCase();
  }
  get classList() {
    const self = this;
    const list = (): string[] => self.className.split(/\s+/).filter((c) => c);
    return {
      add: (...c: string[]) => (self.className = [...new Set([...list(), ...c])].join(' ')),
      remove: (c: string) => (self.className = list().filter((x) => x !== c).join(' ')),
      contains: (c: string) => list().includes(c),
      toggle: (c: string, on?: boolean) => {
        const has = list().includes(c);
        const want = on === undefined ? !has : on;
        if (want && !has) self.className = [...list(), c].join(' ');
        if (!want && has) self.className = list().filter((x) => x !== c).join(' ');
        return want;
      }
    };
  }
  get textContent(): string {
    return this.text + this.children.map((c) => c.textContent).join('');
  }
  set textContent(t: string) {
    this.children.forEach((c) => (c.parent = null));
    this.children = [];
    this.text = String(t);
  }
  appendChild(c: FakeElement): FakeElement {
    if (c.parent) c.parent.removeChild(c);
    c.parent = this;
    this.children.push(c);
    return c;
  }
  append(...cs: FakeElement[]): void {
    cs.forEach((c) => this.appendChild(c));
  }
  removeChild(c: FakeElement): FakeElement {
    this.children = this.children.filter((x) => x !== c);
    c.parent = null;
    return c;
  }
  replaceChild(n: FakeElement, old: FakeElement): FakeElement {
    const i = this.children.indexOf(old);
    if (n.parent) n.parent.removeChild(n);
    this.children[i] = n;
    n.parent = this;
    old.parent = null;
    return old;
  }
  remove(): void {
    if (this.parent) this.parent.removeChild(this);
  }
  setAttribute(k: string, v: string): void {
    this.attrs[k] = String(v);
  }
  getAttribute(k: string): string | null {
    return k in this.attrs ? this.attrs[k] : null;
  }
  addEventListener(t: string, f: Listener): void {
    (this.listeners[t] ||= []).push(f);
  }
  removeEventListener(t: string, f: Listener): void {
    this.listeners[t] = (this.listeners[t] || []).filter((x) => x !== f);
  }
  /** Calls the listeners of e.type with e (plus preventDefault). */
  fire(type: string, e: Record<string, unknown> = {}): void {
    const ev = { type, button: 0, shiftKey: false, deltaMode: 0, preventDefault() {}, ...e };
    (this.listeners[type] || []).slice().forEach((f) => f(ev));
  }
  click(): void {
    this.fire('click');
  }
  getBoundingClientRect() {
    return { left: 0, top: 0, right: this.width, bottom: this.height, width: this.width, height: this.height };
  }
  get offsetWidth(): number {
    return 100;
  }
  get offsetHeight(): number {
    return 40;
  }
  get clientWidth(): number {
    return 1000;
  }
  get clientHeight(): number {
    return 1000;
  }
  getContext(): CanvasRenderingContext2D {
    return (this.ctx ||= fakeContext(FakeElement.calls));
  }
  /** All descendants with the given class. */
  querySelectorAll(sel: string): FakeElement[] {
    const cls = sel.replace(/^[a-z]*\./, '');
    const out: FakeElement[] = [];
    const walk = (e: FakeElement): void => {
      e.children.forEach((c) => {
        if (c.classList.contains(cls)) out.push(c);
        walk(c);
      });
    };
    walk(this);
    return out;
  }
  querySelector(sel: string): FakeElement | null {
    return this.querySelectorAll(sel)[0] ?? null;
  }
}

class FakeImageData {
  data: Uint8ClampedArray;
  constructor(public width: number, public height: number) {
    this.data = new Uint8ClampedArray(width * height * 4);
  }
}

/** Installs document, window, ImageData on globalThis (idempotent). */
export function installFakeDom(): void {
  const g = globalThis as Record<string, unknown>;
  if (g.document) return;
  g.document = { createElement: (t: string) => new FakeElement(t) };
  g.window = globalThis;
  g.devicePixelRatio = 1;
  g.addEventListener = () => {};
  g.removeEventListener = () => {};
  g.ImageData = FakeImageData;
}

/** Resolves after pending animation frames (the renderer falls back to setTimeout 16 ms). */
export function frames(): Promise<void> {
  return new Promise((r) => setTimeout(r, 40));
}
