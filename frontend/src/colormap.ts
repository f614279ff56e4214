/**
 * colormap.ts — the categorical palette and the continuous colormaps used by
 * heatmaps, as 256-entry lookup tables interpolated from a few stops.
 */

/** Okabe–Ito, the colour-blind safe palette of the figure contract, in order. */
export const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#000000'];

/** Colour for class / series i: the spec's colour when given, else the palette. */
export function paletteColor(i: number, given?: string): string {
  if (given) return given;
  return PALETTE[((i % PALETTE.length) + PALETTE.length) % PALETTE.length];
}

/** Stops (evenly spaced) of each named map; values sampled from the published maps. */
const STOPS: Record<string, string[]> = {
  viridis: ['#440154', '#472c7a', '#3b518b', '#2c718e', '#21908d', '#27ad81', '#5cc863', '#aadc32', '#fde725'],
  magma: ['#000004', '#1c1044', '#4f127b', '#812581', '#b5367a', '#e55964', '#fb8761', '#fec287', '#fcfdbf'],
  blues: ['#f7fbff', '#deebf7', '#c6dbef', '#9ecae1', '#6baed6', '#4292c6', '#2171b5', '#08519c', '#08306b'],
  reds: ['#fff5f0', '#fee0d2', '#fcbba1', '#fc9272', '#fb6a4a', '#ef3b2c', '#cb181d', '#a50f15', '#67000d'],
  greys: ['#ffffff', '#f0f0f0', '#d9d9d9', '#bdbdbd', '#969696', '#737373', '#525252', '#252525', '#000000'],
  rdbu: ['#67001f', '#b2182b', '#d6604d', '#f4a582', '#fddbc7', '#f7f7f7', '#d1e5f0', '#92c5de', '#4393c3', '#2166ac', '#053061']
};

/** Names of the colormaps known; others fall back to viridis. */
export const COLORMAPS = Object.keys(STOPS);

function hexRGB(h: string): [number, number, number] {
  const n = parseInt(h.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

const cache = new Map<string, Uint8ClampedArray>();

/** A 256×RGBA lookup table for the named map (unknown names give viridis). */
export function colormapLUT(name: string): Uint8ClampedArray {
  const key = STOPS[name] ? name : name === 'gray' || name === 'grey' ? 'greys' : 'viridis';
  let lut = cache.get(key);
  if (lut) return lut;
  const stops = STOPS[key].map(hexRGB);
  lut = new Uint8ClampedArray(256 * 4);
  for (let i = 0; i < 256; i++) {
    const t = (i / 255) * (stops.length - 1);
    const k = Math.min(stops.length - 2, Math.floor(t));
    const f = t - k;
    for (let c = 0; c < 3; c++) lut[i * 4 + c] = Math.round(stops[k][c] + (stops[k + 1][c] - stops[k][c]) * f);
    lut[i * 4 + 3] = 255;
  }
  cache.set(key, lut);
  return lut;
}

/** LUT index (0..255) for value v in [lo, hi]; -1 when v is missing. */
export function lutIndex(v: number, lo: number, hi: number): number {
  if (!isFinite(v)) return -1;
  const t = hi > lo ? (v - lo) / (hi - lo) : 0.5;
  return Math.max(0, Math.min(255, Math.round(t * 255)));
}

/** CSS colour of LUT entry i. */
export function lutColor(lut: Uint8ClampedArray, i: number): string {
  return `rgb(${lut[i * 4]},${lut[i * 4 + 1]},${lut[i * 4 + 2]})`;
}

/** true when text on LUT entry i should be white rather than black. */
export function darkAt(lut: Uint8ClampedArray, i: number): boolean {
  const lum = 0.2126 * lut[i * 4] + 0.7152 * lut[i * 4 + 1] + 0.0722 * lut[i * 4 + 2];
  return lum < 128;
}
