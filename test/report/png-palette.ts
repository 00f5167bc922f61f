import { deflateSync, inflateSync } from 'node:zlib';

/*
 * Shrinks a Chromium screenshot for committing: a full-page report holds a few thousand colours
 * (mostly anti-aliased text), so an indexed PNG of 256 colours keeps it legible at a third of the
 * size. Only what Chromium writes is read: 8-bit RGB or RGBA, not interlaced.
 */

const SIGNATURE = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);
const PALETTE_SIZE = 256;
/** The most frequent colours (background, text) are kept exactly; the rest share median-cut boxes. */
const EXACT_COLOURS = 96;

interface Image {
  readonly width: number;
  readonly height: number;
  /** RGB, 3 bytes a pixel, alpha dropped (screenshots are opaque). */
  readonly rgb: Buffer;
}

function chunks(png: Buffer): { type: string; data: Buffer }[] {
  if (!png.subarray(0, 8).equals(SIGNATURE)) throw new Error('not a PNG');
  const found: { type: string; data: Buffer }[] = [];
  for (let at = 8; at < png.length; ) {
    const length = png.readUInt32BE(at);
    found.push({ type: png.toString('ascii', at + 4, at + 8), data: png.subarray(at + 8, at + 8 + length) });
    at += 12 + length;
  }
  return found;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

function decode(png: Buffer): Image {
  const all = chunks(png);
  const header = all.find((c) => c.type === 'IHDR')?.data;
  if (!header) throw new Error('PNG without IHDR');
  const width = header.readUInt32BE(0);
  const height = header.readUInt32BE(4);
  const [depth, colourType, , , interlace] = [header[8], header[9], header[10], header[11], header[12]];
  if (depth !== 8 || (colourType !== 2 && colourType !== 6) || interlace !== 0) {
    throw new Error(`unsupported PNG: depth ${depth}, colour type ${colourType}, interlace ${interlace}`);
  }
  const bpp = colourType === 6 ? 4 : 3;
  const stride = width * bpp;
  const filtered = inflateSync(Buffer.concat(all.filter((c) => c.type === 'IDAT').map((c) => c.data)));
  const pixels = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = filtered[y * (stride + 1)];
    const line = y * (stride + 1) + 1;
    const row = y * stride;
    for (let x = 0; x < stride; x++) {
      const a = x >= bpp ? (pixels[row + x - bpp] as number) : 0;
      const b = y > 0 ? (pixels[row - stride + x] as number) : 0;
      const c = x >= bpp && y > 0 ? (pixels[row - stride + x - bpp] as number) : 0;
      const raw = filtered[line + x] as number;
      const predicted = filter === 1 ? a : filter === 2 ? b : filter === 3 ? (a + b) >> 1 : filter === 4 ? paeth(a, b, c) : 0;
      pixels[row + x] = (raw + predicted) & 255;
    }
  }
  if (bpp === 3) return { width, height, rgb: pixels };
  const rgb = Buffer.alloc(width * height * 3);
  for (let i = 0, j = 0; i < pixels.length; i += 4, j += 3) pixels.copy(rgb, j, i, i + 3);
  return { width, height, rgb };
}

type Colour = readonly [number, number, number];
const channels = (c: number): Colour => [(c >> 16) & 255, (c >> 8) & 255, c & 255];

/** Median cut over (colour, count) pairs into at most `boxes` weighted averages. */
function medianCut(colours: readonly { colour: number; count: number }[], boxes: number): Colour[] {
  let queue = colours.length > 0 ? [colours] : [];
  while (queue.length < boxes) {
    const splittable = queue.filter((box) => box.length > 1);
    if (splittable.length === 0) break;
    const widest = splittable.reduce((best, box) =>
      box.reduce((n, c) => n + c.count, 0) > best.reduce((n, c) => n + c.count, 0) ? box : best,
    );
    const ranges = [0, 1, 2].map((ch) => {
      const values = widest.map((c) => channels(c.colour)[ch] as number);
      return Math.max(...values) - Math.min(...values);
    });
    const channel = ranges.indexOf(Math.max(...ranges));
    const sorted = [...widest].sort((p, q) => (channels(p.colour)[channel] as number) - (channels(q.colour)[channel] as number));
    const half = sorted.reduce((n, c) => n + c.count, 0) / 2;
    let cut = 1;
    for (let seen = 0; cut < sorted.length - 1; cut++) {
      seen += (sorted[cut - 1] as { count: number }).count;
      if (seen >= half) break;
    }
    queue = [...queue.filter((box) => box !== widest), sorted.slice(0, cut), sorted.slice(cut)];
  }
  return queue.map((box) => {
    const total = box.reduce((n, c) => n + c.count, 0);
    const mean = [0, 1, 2].map((ch) => Math.round(box.reduce((n, c) => n + (channels(c.colour)[ch] as number) * c.count, 0) / total));
    return mean as unknown as Colour;
  });
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = (CRC_TABLE[(crc ^ byte) & 255] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** Re-encodes an RGB(A) PNG as an indexed PNG of at most 256 colours. */
export function toPalettePng(png: Buffer): Buffer {
  const { width, height, rgb } = decode(png);
  const counts = new Map<number, number>();
  for (let i = 0; i < rgb.length; i += 3) {
    const colour = ((rgb[i] as number) << 16) | ((rgb[i + 1] as number) << 8) | (rgb[i + 2] as number);
    counts.set(colour, (counts.get(colour) ?? 0) + 1);
  }
  const byFrequency = [...counts].map(([colour, count]) => ({ colour, count })).sort((a, b) => b.count - a.count);
  const palette: Colour[] =
    byFrequency.length <= PALETTE_SIZE
      ? byFrequency.map((c) => channels(c.colour))
      : [
          ...byFrequency.slice(0, EXACT_COLOURS).map((c) => channels(c.colour)),
          ...medianCut(byFrequency.slice(EXACT_COLOURS), PALETTE_SIZE - EXACT_COLOURS),
        ];
  const nearest = new Map<number, number>();
  for (const { colour } of byFrequency) {
    const [r, g, b] = channels(colour);
    let best = 0;
    let bestDistance = Number.POSITIVE_INFINITY;
    palette.forEach(([pr, pg, pb], index) => {
      const distance = (r - pr) ** 2 + (g - pg) ** 2 + (b - pb) ** 2;
      if (distance < bestDistance) [best, bestDistance] = [index, distance];
    });
    nearest.set(colour, best);
  }
  const rows = Buffer.alloc(height * (width + 1));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const colour = ((rgb[i] as number) << 16) | ((rgb[i + 1] as number) << 8) | (rgb[i + 2] as number);
      rows[y * (width + 1) + 1 + x] = nearest.get(colour) as number;
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8;
  header[9] = 3;
  return Buffer.concat([
    SIGNATURE,
    chunk('IHDR', header),
    chunk('PLTE', Buffer.from(palette.flat())),
    chunk('IDAT', deflateSync(rows, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
