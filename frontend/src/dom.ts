/**
 * dom.ts — small DOM helpers. Text goes in through textContent only: nothing
 * from a figure is ever parsed as HTML.
 */

/** Creates an element with an optional class and text. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

/** Sets inline styles from an object (camelCase keys). */
export function css(e: HTMLElement, styles: Partial<CSSStyleDeclaration>): void {
  Object.assign(e.style, styles);
}

/** Runs fn on the next animation frame (or soon, where there is none). */
export function nextFrame(fn: () => void): void {
  if (typeof requestAnimationFrame === 'function') requestAnimationFrame(() => fn());
  else setTimeout(fn, 16);
}

/** performance.now() where available. */
export function now(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}
