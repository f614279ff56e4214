/**
 * raster.ts — scatter markers stamped straight into an RGBA pixel buffer.
 *
 * Filling 100k small paths through the 2D canvas API costs hundreds of ms
 * without a GPU (and one path with 100k sub-paths costs seconds). Markers are
 * a few pixels wide, so instead each shape is rasterised once into a coverage
 * mask (4×4 supersampled) and stamped with "source over" blending into an
 * ImageData; the result is composited onto the canvas with one drawImage.
 */

/** A coverage mask: size×size values in [0, 1], centred on the point. */
export interface Mask {
  size: number;
  cover: Float32Array;
}

/** true when (x, y), relative to the marker centre, is inside shape s of radius r. */
function inside(s: number, x: number, y: number, r: number): boolean {
  const ax = Math.abs(x);
  const ay = Math.abs(y);
  switch (s % 6) {
    case 0:
      return x * x + y * y <= r * r;
    case 1: // triangle up: apex (0,-1.2r), base y = 0.8r, half-width 1.1r
      return y <= 0.8 * r && y >= -1.2 * r && ax <= ((y + 1.2 * r) / (2 * r)) * 1.1 * r;
    case 2:
      return ax <= 0.9 * r && ay <= 0.9 * r;
    case 3:
      return ax / (1.1 * r) + ay / (1.3 * r) <= 1;
    case 4:
      return (ax <= 1.2 * r && ay <= 0.4 * r) || (ax <= 0.4 * r && ay <= 1.2 * r);
    default:
      return y >= -0.8 * r && y <= 1.2 * r && ax <= ((1.2 * r - y) / (2 * r)) * 1.1 * r;
  }
}

const masks = new Map<string, Mask>();

/** The mask for shape s (0..5) with radius r in device pixels (cached). */
export function markerMask(s: number, r: number): Mask {
  const key = `${s % 6}:${r.toFixed(2)}`;
  let m = masks.get(key);
  if (m) return m;
  const size = 2 * Math.ceil(r * 1.3) + 1;
  const half = (size - 1) / 2;
  const cover = new Float32Array(size * size);
  const SS = 4;
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let hit = 0;
      for (let sy = 0; sy < SS; sy++) {
        for (let sx = 0; sx < SS; sx++) {
          const x = px - half - 0.5 + (sx + 0.5) / SS;
          const y = py - half - 0.5 + (sy + 0.5) / SS;
          if (inside(s, x, y, r)) hit++;
        }
      }
      cover[py * size + px] = hit / (SS * SS);
    }
  }
  m = { size, cover };
  masks.set(key, m);
  return m;
}

/** Parses #rgb / #rrggbb / rgb(r,g,b); anything else gives grey. */
export function parseColor(c: string): [number, number, number] {
  const s = c.trim();
  let m = /^#([0-9a-f]{3})$/i.exec(s);
  if (m) {
    const h = m[1];
    return [parseInt(h[0] + h[0], 16), parseInt(h[1] + h[1], 16), parseInt(h[2] + h[2], 16)];
  }
  m = /^#([0-9a-f]{6})([0-9a-f]{2})?$/i.exec(s);
  if (m) {
    const n = parseInt(m[1], 16);
    return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
  }
  m = /^rgba?\(\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)/i.exec(s);
  if (m) return [Math.min(255, +m[1]), Math.min(255, +m[2]), Math.min(255, +m[3])];
  return [119, 119, 119];
}

/** An RGBA buffer (non-premultiplied, as ImageData) that markers are blended into. */
export class PointRaster {
  readonly data: Uint8ClampedArray;

  /** data: where to write (e.g. an ImageData's), width×height×4 bytes; fresh when omitted. */
  constructor(readonly width: number, readonly height: number, data?: Uint8ClampedArray) {
    this.data = data ?? new Uint8ClampedArray(width * height * 4);
  }

  /** Blends mask m centred at device pixel (cx, cy) in colour rgb with opacity alpha. */
  stamp(m: Mask, cx: number, cy: number, rgb: [number, number, number], alpha: number): void {
    const half = (m.size - 1) / 2;
    const x0 = Math.round(cx) - half;
    const y0 = Math.round(cy) - half;
    const W = this.width;
    const H = this.height;
    const d = this.data;
    const [r, g, b] = rgb;
    for (let j = 0; j < m.size; j++) {
      const y = y0 + j;
      if (y < 0 || y >= H) continue;
      for (let i = 0; i < m.size; i++) {
        const x = x0 + i;
        if (x < 0 || x >= W) continue;
        const sa = m.cover[j * m.size + i] * alpha;
        if (sa <= 0) continue;
        const k = (y * W + x) * 4;
        const da = d[k + 3] / 255;
        const oa = sa + da * (1 - sa);
        const wd = (da * (1 - sa)) / oa;
        const ws = sa / oa;
        d[k] = r * ws + d[k] * wd;
        d[k + 1] = g * ws + d[k + 1] * wd;
        d[k + 2] = b * ws + d[k + 2] * wd;
        d[k + 3] = oa * 255;
      }
    }
  }
}
