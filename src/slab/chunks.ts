/**
 * Slabs (runs of 1..8 pages cut into chunks of one size class) and page-run allocations, plus
 * `locate()`, which turns an offset into (descriptor, class, chunk index) and rejects every bad
 * offset before anything is written.
 *
 * Slab head descriptor: INFO = T_SLAB | class << 4 | used << 12; MAP = bitmap when the slab
 * has <= 32 chunks; NEXT/PREV link it into its class list while it has a free chunk (every
 * listed slab has one, so allocation never loops over slabs). A slab whose last chunk is freed
 * goes back to the page allocator at once, as in nginx.
 */
import { describeValue, SlabCorruptionError, SlabError } from '../errors.js';
import {
  CLASS_MASK,
  CLASS_SHIFT,
  DESC_WORDS,
  D_INFO,
  D_MAP,
  D_NEXT,
  PAGE_SHIFT,
  PAGE_SIZE,
  STAT_WORDS,
  S_FAILS,
  S_REQS,
  S_TOTAL,
  S_USED,
  TYPE_MASK,
  T_FREE,
  T_FREE_TAIL,
  T_INNER,
  T_RUN,
  T_SLAB,
  USED_ONE,
  USED_SHIFT,
  H_PAGE_FAILS,
  H_PAGE_REQS,
} from './layout.js';
import { jw } from './journal.js';
import { allocPages, checkPoison, freePages, POISON_BYTE, pushFront, unlink } from './pages.js';
import {
  K_BITMAP_WORDS,
  K_COUNT,
  K_DATA_OFFSET,
  K_EMPTY_MAP,
  K_SIZE,
  K_SPAN,
  K_STRIDE,
} from './sizeclass.js';
import type { PoolState } from './state.js';

/** Allocates one chunk of class c. Returns its byte offset or 0. */
export function allocChunk(s: PoolState, c: number): number {
  const u32 = s.u32;
  const ct = s.classes.packed;
  const k = c * K_STRIDE;
  const D = s.descWord;
  const sw = s.statsWord + c * STAT_WORDS;
  u32[sw + S_REQS]++; // statistic, not journaled
  const sent = c + 1;
  let d = u32[D + sent * DESC_WORDS + D_NEXT];
  const bw = ct[k + K_BITMAP_WORDS];
  let idx: number;
  if (d === sent) {
    // No slab with room: carve a new one from free pages.
    d = allocPages(s, ct[k + K_SPAN]);
    if (d === 0) {
      u32[sw + S_FAILS]++;
      return 0;
    }
    const w = D + d * DESC_WORDS;
    const start = s.dataStart + (d - s.firstDesc) * PAGE_SIZE;
    if (bw === 0) {
      jw(s, w + D_MAP, (ct[k + K_EMPTY_MAP] | 1) >>> 0);
    } else {
      // In-page bitmap of a page that was free before this operation: plain stores suffice
      // (after a rollback the page is free again and nobody reads it).
      if (u32[w + D_MAP] !== 0) jw(s, w + D_MAP, 0); // left over from the free run
      const b = start >>> 2;
      for (let i = 0; i < bw - 1; i++) u32[b + i] = 0;
      u32[b + bw - 1] = ct[k + K_EMPTY_MAP];
      u32[b] |= 1;
    }
    jw(s, w + D_INFO, T_SLAB | (c << CLASS_SHIFT) | USED_ONE);
    const count = ct[k + K_COUNT];
    if (count > 1) pushFront(s, sent, d);
    u32[sw + S_TOTAL] += count; // derived, recounted after a takeover
    idx = 0;
  } else {
    const w = D + d * DESC_WORDS;
    if (bw === 0) {
      const map = u32[w + D_MAP];
      const bit = ~map & (map + 1); // lowest clear bit
      idx = 31 - Math.clz32(bit);
      jw(s, w + D_MAP, (map | bit) >>> 0);
    } else {
      const b = (s.dataStart + (d - s.firstDesc) * PAGE_SIZE) >>> 2;
      let i = 0;
      while (i < bw && u32[b + i] === 0xffffffff) i++;
      if (i === bw) {
        throw new SlabCorruptionError(
          `slab at page ${d - s.firstDesc} is in its class list but full`,
        );
      }
      const word = u32[b + i];
      const bit = ~word & (word + 1);
      idx = i * 32 + 31 - Math.clz32(bit);
      jw(s, b + i, (word | bit) >>> 0);
    }
    const info = u32[w + D_INFO];
    jw(s, w + D_INFO, info + USED_ONE);
    if ((info >>> USED_SHIFT) + 1 === ct[k + K_COUNT]) unlink(s, d); // now full
  }
  u32[sw + S_USED]++;
  const size = ct[k + K_SIZE];
  const off = s.dataStart + (d - s.firstDesc) * PAGE_SIZE + ct[k + K_DATA_OFFSET] + idx * size;
  if (s.poison) checkPoison(s, off, size);
  return off;
}

/** Allocates a run of whole pages for `size` bytes (> largest class). Returns offset or 0. */
export function allocRun(s: PoolState, size: number): number {
  const u32 = s.u32;
  u32[s.base + H_PAGE_REQS]++;
  const n = Math.ceil(size / PAGE_SIZE);
  const d = n <= s.pagesTotal ? allocPages(s, n) : 0;
  if (d === 0) {
    u32[s.base + H_PAGE_FAILS]++;
    return 0;
  }
  const w = s.descWord + d * DESC_WORDS;
  jw(s, w + D_INFO, T_RUN);
  jw(s, w + D_MAP, n);
  return s.dataStart + (d - s.firstDesc) * PAGE_SIZE;
}

/** Kinds returned by locate(). */
export const LOC_CHUNK = 1;
export const LOC_RUN = 2;

/**
 * Validates `offset` as a live allocation. Returns LOC_CHUNK (s.locDesc = slab head,
 * s.locClass, s.locIndex = chunk index) or LOC_RUN (s.locDesc = run head). Throws SlabError
 * with a distinct code otherwise. Reads only.
 */
export function locate(s: PoolState, offset: number): number {
  // Fast test first: an integer in [0, 2^32) passes `>>> 0` unchanged.
  if (typeof offset !== 'number' || offset >>> 0 !== offset) {
    if (typeof offset !== 'number' || !Number.isInteger(offset)) {
      throw new SlabError(
        'ERR_SLAB_OFFSET_TYPE',
        `slab free: offset must be an integer, got ${describeValue(offset)}`,
        offset,
      );
    }
  }
  if (offset < s.dataStart || offset >= s.dataEnd) {
    throw new SlabError(
      'ERR_SLAB_OUTSIDE',
      `slab free: offset ${offset} is outside the data pages [${s.dataStart}, ${s.dataEnd})`,
      offset,
    );
  }
  const u32 = s.u32;
  const D = s.descWord;
  const page = (offset - s.dataStart) >>> PAGE_SHIFT;
  let d = s.firstDesc + page;
  let info = u32[D + d * DESC_WORDS + D_INFO];
  let type = info & TYPE_MASK;
  if (type === T_INNER) {
    // Inner page: walk back over zero descriptors to the head of the run containing it.
    while (type === T_INNER && d > s.firstDesc) {
      d--;
      info = u32[D + d * DESC_WORDS + D_INFO];
      type = info & TYPE_MASK;
    }
    if (type === T_RUN) {
      throw new SlabError(
        'ERR_SLAB_WRONG_PAGE',
        `slab free: offset ${offset} points inside a page run, not at its start`,
        offset,
      );
    }
    if (type === T_FREE) {
      throw new SlabError(
        'ERR_SLAB_PAGE_FREE',
        `slab free: offset ${offset} is in a free page`,
        offset,
      );
    }
    if (
      type !== T_SLAB ||
      page - (d - s.firstDesc) >= s.classes.span[(info >>> CLASS_SHIFT) & CLASS_MASK]
    ) {
      throw new SlabCorruptionError(
        `page ${page} has no head descriptor (found type ${type} at page ${d - s.firstDesc})`,
      );
    }
  }
  if (type === T_RUN) {
    if ((offset - s.dataStart) % PAGE_SIZE !== 0) {
      throw new SlabError(
        'ERR_SLAB_WRONG_CHUNK',
        `slab free: offset ${offset} is not at the start of its page run`,
        offset,
      );
    }
    s.locDesc = d;
    return LOC_RUN;
  }
  if (type === T_FREE || type === T_FREE_TAIL) {
    throw new SlabError(
      'ERR_SLAB_PAGE_FREE',
      `slab free: offset ${offset} is in a free page`,
      offset,
    );
  }
  if (type !== T_SLAB)
    throw new SlabCorruptionError(`page ${page}: unknown descriptor type ${type}`);
  const t = s.classes;
  const c = (info >>> CLASS_SHIFT) & CLASS_MASK;
  if (c >= t.n) throw new SlabCorruptionError(`page ${page}: slab class ${c} out of range`);
  const ct = t.packed;
  const k = c * K_STRIDE;
  const start = s.dataStart + (d - s.firstDesc) * PAGE_SIZE;
  let rel = offset - start;
  const dataOffset = ct[k + K_DATA_OFFSET];
  if (rel < dataOffset) {
    throw new SlabError(
      'ERR_SLAB_BITMAP_CHUNK',
      `slab free: offset ${offset} points into the slab's own bitmap (class ${ct[k + K_SIZE]} B)`,
      offset,
    );
  }
  rel -= dataOffset;
  const size = ct[k + K_SIZE];
  // rel * (1/size) is within rounding of an integer exactly when rel is a multiple of size;
  // round() then gives that integer, and the product check rejects everything else.
  const idx = Math.round(rel * t.inverse[c]);
  if (idx * size !== rel || idx >= ct[k + K_COUNT]) {
    throw new SlabError(
      'ERR_SLAB_WRONG_CHUNK',
      `slab free: offset ${offset} is not the start of a ${size} B chunk`,
      offset,
    );
  }
  const bitmapWord =
    ct[k + K_BITMAP_WORDS] === 0 ? D + d * DESC_WORDS + D_MAP : (start >>> 2) + (idx >>> 5);
  if ((u32[bitmapWord] & (1 << (idx & 31))) === 0) {
    throw new SlabError(
      'ERR_SLAB_CHUNK_FREE',
      `slab free: the ${size} B chunk at ${offset} is already free`,
      offset,
    );
  }
  s.locDesc = d;
  s.locClass = c;
  s.locIndex = idx;
  s.locWord = bitmapWord;
  return LOC_CHUNK;
}

/** Frees the chunk found by locate(). */
export function freeChunk(s: PoolState): void {
  const u32 = s.u32;
  const ct = s.classes.packed;
  const d = s.locDesc;
  const c = s.locClass;
  const k = c * K_STRIDE;
  const idx = s.locIndex;
  const bwd = s.locWord;
  const w = s.descWord + d * DESC_WORDS;
  jw(s, bwd, (u32[bwd] & ~(1 << (idx & 31))) >>> 0);
  if (s.poison) {
    const size = ct[k + K_SIZE];
    const off = s.dataStart + (d - s.firstDesc) * PAGE_SIZE + ct[k + K_DATA_OFFSET] + idx * size;
    s.u8.fill(POISON_BYTE, off, off + size);
  }
  const info = u32[w + D_INFO];
  const used = (info >>> USED_SHIFT) - 1;
  const count = ct[k + K_COUNT];
  const sw = s.statsWord + c * STAT_WORDS;
  u32[sw + S_USED]--;
  if (used === 0) {
    // Empty: give the pages back (nginx does the same; no cached empty slab).
    if (count > 1) unlink(s, d);
    u32[sw + S_TOTAL] -= count;
    freePages(s, d, ct[k + K_SPAN]);
    return;
  }
  jw(s, w + D_INFO, info - USED_ONE);
  if (used + 1 === count) pushFront(s, c + 1, d); // was full: back into the class list
}

/** Frees the page run found by locate(). */
export function freeRun(s: PoolState): void {
  const d = s.locDesc;
  freePages(s, d, s.u32[s.descWord + d * DESC_WORDS + D_MAP]);
}

/** Usable bytes of the allocation found by locate(). */
export function locatedSize(s: PoolState, kind: number): number {
  return kind === LOC_RUN
    ? s.u32[s.descWord + s.locDesc * DESC_WORDS + D_MAP] * PAGE_SIZE
    : s.classes.size[s.locClass];
}
