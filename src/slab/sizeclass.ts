/**
 * Size classes. A class serves chunks of one size from *slabs*: runs of `span` pages cut into
 * `count` chunks. Requests larger than the largest class take runs of whole pages.
 *
 * - `pow2` is nginx's scheme: 8, 16, ... 2048 B, one page per slab, chunks naturally aligned
 *   (the in-page bitmap of the 8/16/32/64 B classes costs whole chunks, as in nginx; 64 B has
 *   63 usable chunks here instead of nginx's 64 because our descriptor map is 32 bits).
 * - `fine` (29 classes) keeps rounding waste small everywhere while every class of at most
 *   half a page lives in one-page slabs:
 *   - 8 B steps up to 64 B, then four classes per doubling up to 512 B (80, 96 ... 448, 512);
 *   - from 512 B to 2 KiB, the page divisors: the largest 8-byte multiple of which n chunks
 *     fit in a page, n = 7 .. 2 (584, 680, 816, 1024, 1360, 2048). In this range a page
 *     holds only 2 to 7 chunks, so any other size would leave its page remainder unused and
 *     is no better than the next divisor (1536 B in one page is two chunks, as 2048 B is);
 *   - above half a page, 2560, 3072 and 3584 B in slabs of the smallest span (1..8 pages)
 *     that wastes at most 2% (e.g. 3072 B: 3 pages = 4 chunks exactly). One chunk per page
 *     would waste up to half of it, and these sizes carry most of the bytes of W4.
 *   Chunks are 8-byte aligned; chunk i is at slab + dataOffset + i * size, found on free by a
 *   multiply that must come out exact.
 *
 * Why one-page slabs up to 2 KiB: a chunk in a multi-page slab lives on a page whose own
 * descriptor is not the slab's, so free() reads two descriptors (and used to walk back over
 * the inner ones). The earlier `fine` (31 classes, four per doubling up to 3584 B, multi-page
 * slabs from 160 B up) cost W2 15-25% over pow2; W2's sizes (8..2048 B) never reach a
 * multi-page slab now.
 *
 * Bitmaps: a slab of at most 32 chunks keeps its bitmap in the descriptor's MAP word; a
 * larger one at the start of its first page (`bitmapWords` words, the first chunk after it).
 * Bits past `count` are kept at 1 so that "find a zero bit" never hands them out.
 *
 * Default: `fine`, chosen by measurement (`node dist/bench/run.js slab`, full runs; this
 * 2-core VM is shared with other jobs, so only same-run figures compare):
 *
 * | run | W4 utilisation (pow2 / fine) | W2 per-call lock, ns (pow2 / fine) | fine vs pow2 on W2 |
 * | --- | --- | --- | --- |
 * | earlier fine (31 classes) | 0.745 / 0.911 | 83.9 / 100.4 | +20% (9-25% over earlier runs) |
 * | this fine | 0.745 / 0.896 | 86.1 / 86.8 | +1% |
 *
 * The aim was at least 0.88 for at most 10% on W2: this fine packs 20% more of a zone than
 * nginx's scheme at pow2's speed (W1 and W3 are even too), so it is the default; `pow2`
 * stays selectable (`sizeClasses: 'pow2'`) for nginx's exact behaviour.
 */
import { L } from './layout.js';
import type { SizeClassMode } from './api.js';

export const DEFAULT_SIZE_CLASS_MODE: SizeClassMode = 'fine';
export const MODE_CODES: Record<SizeClassMode, number> = { pow2: 0, fine: 1 };
export const MODE_NAMES: SizeClassMode[] = ['pow2', 'fine'];

/** Largest slab span in pages; bounds the walk-back from an inner page to its slab head. */
export const MAX_SPAN = K.MAX_SPAN;

export interface SizeClassTable {
  mode: SizeClassMode;
  n: number;
  /** Largest size served from a class; anything larger takes whole pages. */
  maxSize: number;
  size: Uint32Array;
  span: Uint32Array;
  count: Uint32Array;
  /** 0 = bitmap in the descriptor MAP word. */
  bitmapWords: Uint32Array;
  /** Bytes from the slab start to chunk 0. */
  dataOffset: Uint32Array;
  /** 1 / size, for the exact-division test in free(). */
  inverse: Float64Array;
  /** MAP/last-bitmap-word value of an empty slab: padding bits (>= count) set. */
  emptyMap: Uint32Array;
  /** Class of a request, indexed by (size + 7) >> 3 for size 0..maxSize. */
  byEighth: Uint8Array;
  /**
   * The same per-class values packed in one array, K_STRIDE words per class (K_* below), for
   * the hot paths: one typed array instead of six saves a data-pointer load per field.
   */
  packed: Uint32Array;
}

export const K_STRIDE = K.K_STRIDE;
export const K_SIZE = K.K_SIZE;
export const K_SPAN = K.K_SPAN;
export const K_COUNT = K.K_COUNT;
export const K_BITMAP_WORDS = K.K_BITMAP_WORDS;
export const K_DATA_OFFSET = K.K_DATA_OFFSET;
export const K_EMPTY_MAP = K.K_EMPTY_MAP;
/**
 * Exact division on free without a float division: chunk index = imul(rel, K_MAGIC) >>> K_SHIFT
 * for every byte offset rel < MAX_SPAN * L.PAGE_SIZE (2^15) into the slab's chunk area. With
 * shift = 15 + ceil(log2 size) and magic = ceil(2^shift / size) (<= 2^16), the product stays
 * below 2^31 and the rounding error rel * (magic - 2^shift / size) / 2^shift < 1 / size, too
 * small to reach the next integer (sizeclass.test.ts checks every rel of every class).
 */
export const K_MAGIC = K.K_MAGIC;
export const K_SHIFT = K.K_SHIFT;

function classSizes(mode: SizeClassMode): number[] {
  if (mode === 'pow2') return [8, 16, 32, 64, 128, 256, 512, 1024, 2048];
  const out = [8, 16, 24, 32, 40, 48, 56, 64];
  for (let base = 64; base < 512; base *= 2) {
    for (let k = 1; k <= 4; k++) out.push(base + (base / 4) * k);
  }
  for (let n = 7; n >= 2; n--) out.push(Math.floor(L.PAGE_SIZE / n / 8) * 8);
  out.push(2560, 3072, 3584);
  return out;
}

interface Shape {
  span: number;
  count: number;
  bitmapWords: number;
  dataOffset: number;
}

/** How many chunks of `size` fit in `span` pages, and where the bitmap goes. */
function shape(size: number, span: number, align: number): Shape {
  const bytes = span * L.PAGE_SIZE;
  const plain = Math.floor(bytes / size);
  if (plain <= 32) return { span, count: plain, bitmapWords: 0, dataOffset: 0 };
  let count = plain;
  for (;;) {
    const words = Math.ceil(count / 32);
    const dataOffset = Math.ceil((words * 4) / align) * align;
    if (dataOffset + count * size <= bytes) return { span, count, bitmapWords: words, dataOffset };
    count--;
  }
}

export function buildSizeClasses(mode: SizeClassMode): SizeClassTable {
  const sizes = classSizes(mode);
  const n = sizes.length;
  const t: SizeClassTable = {
    mode,
    n,
    maxSize: sizes[n - 1],
    size: new Uint32Array(n),
    span: new Uint32Array(n),
    count: new Uint32Array(n),
    bitmapWords: new Uint32Array(n),
    dataOffset: new Uint32Array(n),
    emptyMap: new Uint32Array(n),
    inverse: new Float64Array(n),
    byEighth: new Uint8Array((sizes[n - 1] >> 3) + 1),
    packed: new Uint32Array(n * K_STRIDE),
  };
  for (let c = 0; c < n; c++) {
    const size = sizes[c];
    let best: Shape;
    if (mode === 'pow2') {
      best = shape(size, 1, size);
    } else {
      best = shape(size, 1, 8);
      // Up to half a page: one-page slabs (see the header). Above: the least span that fits.
      const maxSpan = size <= L.PAGE_SIZE / 2 ? 1 : MAX_SPAN;
      for (let span = 1; span <= maxSpan; span++) {
        const s = shape(size, span, 8);
        const waste = 1 - (s.count * size) / (span * L.PAGE_SIZE);
        const bestWaste = 1 - (best.count * size) / (best.span * L.PAGE_SIZE);
        if (waste < bestWaste - 1e-9) best = s;
        if (waste <= 0.02) break;
      }
    }
    t.size[c] = size;
    t.span[c] = best.span;
    t.count[c] = best.count;
    t.bitmapWords[c] = best.bitmapWords;
    t.dataOffset[c] = best.dataOffset;
    t.inverse[c] = 1 / size;
    const usedBits = best.bitmapWords === 0 ? best.count : best.count - (best.bitmapWords - 1) * 32;
    t.emptyMap[c] = usedBits >= 32 ? 0 : (~0 << usedBits) >>> 0;
    const k = c * K_STRIDE;
    t.packed[k + K_SIZE] = size;
    t.packed[k + K_SPAN] = best.span;
    t.packed[k + K_COUNT] = best.count;
    t.packed[k + K_BITMAP_WORDS] = best.bitmapWords;
    t.packed[k + K_DATA_OFFSET] = best.dataOffset;
    t.packed[k + K_EMPTY_MAP] = t.emptyMap[c];
    const shift = 15 + Math.ceil(Math.log2(size));
    t.packed[k + K_MAGIC] = Math.ceil(2 ** shift / size);
    t.packed[k + K_SHIFT] = shift;
  }
  let c = 0;
  for (let e = 0; e < t.byEighth.length; e++) {
    while (sizes[c] < e * 8) c++;
    t.byEighth[e] = c;
  }
  return t;
}

const cache = new Map<SizeClassMode, SizeClassTable>();

export function sizeClasses(mode: SizeClassMode): SizeClassTable {
  let t = cache.get(mode);
  if (t === undefined) {
    t = buildSizeClasses(mode);
    cache.set(mode, t);
  }
  return t;
}

/** The K_* offsets and MAX_SPAN as a const enum, inlined as literals by tsc (see L in layout.ts). */
/* eslint-disable @typescript-eslint/no-duplicate-enum-values -- named constants, not an enumeration */
export const enum K {
  MAX_SPAN = 8,
  K_STRIDE = 8,
  K_SIZE = 0,
  K_SPAN = 1,
  K_COUNT = 2,
  K_BITMAP_WORDS = 3,
  K_DATA_OFFSET = 4,
  K_EMPTY_MAP = 5,
  K_MAGIC = 6,
  K_SHIFT = 7,
}
/* eslint-enable @typescript-eslint/no-duplicate-enum-values */
