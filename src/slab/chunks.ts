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
import { describeValue, SlabError } from '../errors.js';
import { L } from './layout.js';
import { jw } from './journal.js';
import { allocPages, freePages, pushFront, unlink, unlinkFull } from './pages.js';
import { checkPoison, deferPoison } from './poison.js';
import { K } from './sizeclass.js';
import { askOwnersToDrain, isCached, tagOf } from './cache-layout.js';
import type { PoolState } from './state.js';

/**
 * Allocates one chunk of class c. Returns its byte offset or 0. Fast path: the first slab of
 * the class list has a free chunk by construction; one bitmap scan, one or two journaled
 * writes (MAP, or in-page word + INFO), two more when the slab becomes full.
 */
export function allocChunk(s: PoolState, c: number): number {
  const u32 = s.u32;
  const ct = s.ct;
  const k = c * K.K_STRIDE;
  const sw = s.statsWord + c * L.STAT_WORDS;
  u32[sw + L.S_REQS]++; // statistic, not journaled
  const D = s.descWord;
  const d = u32[D + (c + 1) * L.DESC_WORDS + L.D_NEXT];
  if (d === c + 1) return allocSlab(s, c); // no slab with room
  // Bitmaps in the page (classes below 128 B) out of line: this function stays small enough
  // for the JIT to inline it into allocLocked().
  if (ct[k + K.K_BITMAP_WORDS] !== 0) return allocInPage(s, c, d);
  const off = allocInMap(s, c, d);
  if (s.poison) checkPoison(s, off, ct[k + K.K_SIZE]);
  return off;
}

/**
 * allocChunk()'s common case, also alloc()'s (pool.ts): slab d, the first in class c's list,
 * keeps its bitmap in MAP, with the padding bits set, so it is full exactly when MAP is all
 * ones; such a slab has no bitmap in the page, so chunk 0 is at the slab start (K_DATA_OFFSET
 * 0). One journaled write, two more when the slab fills up. Counts the chunk as used, not
 * the request.
 */
export function allocInMap(s: PoolState, c: number, d: number): number {
  const u32 = s.u32;
  const w = s.descWord + d * L.DESC_WORDS;
  const map = u32[w + L.D_MAP] | 0;
  // d came from the class list: a page descriptor of a slab of class c with a free chunk.
  if (
    d < s.firstDesc ||
    d >= s.descEnd ||
    u32[w + L.D_INFO] !== (L.T_SLAB | (c << L.CLASS_SHIFT)) ||
    map === -1
  )
    badListEntry(s, c, d);
  const bit = ~map & (map + 1); // lowest clear bit
  const now = map | bit;
  jw(s, w + L.D_MAP, now);
  if (now === -1) unlinkFull(s, d);
  u32[s.statsWord + c * L.STAT_WORDS + L.S_USED]++;
  return (
    s.dataStart +
    (d - s.firstDesc) * L.PAGE_SIZE +
    Math.imul(31 - Math.clz32(bit), s.ct[c * K.K_STRIDE + K.K_SIZE])
  );
}

/** allocChunk() for a class whose bitmap is at the start of the slab's first page. */
function allocInPage(s: PoolState, c: number, d: number): number {
  const u32 = s.u32;
  const ct = s.ct;
  const k = c * K.K_STRIDE;
  const w = s.descWord + d * L.DESC_WORDS;
  const info = u32[w + L.D_INFO];
  // As in allocInMap(), and its count below the chunk count.
  if (
    d < s.firstDesc ||
    d >= s.descEnd ||
    (info & L.INFO_KIND_MASK) !== (L.T_SLAB | (c << L.CLASS_SHIFT)) ||
    info >>> L.USED_SHIFT >= ct[k + K.K_COUNT]
  )
    badListEntry(s, c, d);
  const bw = ct[k + K.K_BITMAP_WORDS];
  const start = s.dataStart + (d - s.firstDesc) * L.PAGE_SIZE;
  const b = start >>> 2;
  let i = 0;
  while (i < bw && u32[b + i] === 0xffffffff) i++;
  if (i === bw) listedButFull(s, d);
  const word = u32[b + i] | 0;
  const bit = ~word & (word + 1);
  const idx = i * 32 + 31 - Math.clz32(bit);
  if (idx >= ct[k + K.K_COUNT]) listedButFull(s, d); // padding bits cleared
  jw(s, b + i, word | bit);
  jw(s, w + L.D_INFO, info + L.USED_ONE);
  if ((info >>> L.USED_SHIFT) + 1 === ct[k + K.K_COUNT]) unlinkFull(s, d);
  u32[s.statsWord + c * L.STAT_WORDS + L.S_USED]++;
  const off = start + ct[k + K.K_DATA_OFFSET] + idx * ct[k + K.K_SIZE];
  if (s.poison) checkPoison(s, off, ct[k + K.K_SIZE]);
  return off;
}

/** A listed slab whose bitmap says full, or a cleared padding bit: damage. */
export function listedButFull(s: PoolState, d: number): never {
  s.damaged(`slab at page ${d - s.firstDesc} is in its class list but full`);
}

function badListEntry(s: PoolState, c: number, d: number): never {
  s.damaged(
    `class list of ${s.classes.size[c]} B holds descriptor ${d}, not a slab of it with room`,
  );
}

/** allocChunk() when the class list is empty: carve a new slab from free pages, chunk 0. */
function allocSlab(s: PoolState, c: number): number {
  const u32 = s.u32;
  const ct = s.ct;
  const k = c * K.K_STRIDE;
  const sw = s.statsWord + c * L.STAT_WORDS;
  const d = allocPages(s, ct[k + K.K_SPAN]);
  if (d === 0) {
    u32[sw + L.S_FAILS]++;
    if (u32[s.base + L.H_CACHE_DIR] !== 0) askOwnersToDrain(s); // they may park what it needs
    return 0;
  }
  const w = s.descWord + d * L.DESC_WORDS;
  const start = s.dataStart + (d - s.firstDesc) * L.PAGE_SIZE;
  const bw = ct[k + K.K_BITMAP_WORDS];
  if (bw === 0) {
    jw(s, w + L.D_MAP, ct[k + K.K_EMPTY_MAP] | 1);
    // The used count lives in the bitmap: INFO holds no count.
    jw(s, w + L.D_INFO, L.T_SLAB | (c << L.CLASS_SHIFT));
  } else {
    // In-page bitmap, journaled like any metadata word (at most 16, once per new slab). The
    // page was free before this operation, but perhaps only since a free earlier in the same
    // uncommitted section, as the in-page bitmap of a slab that the rollback will bring back:
    // plain stores here would leave that slab with this one's bits after a crash.
    jw(s, w + L.D_MAP, 0); // left over from the free run (skipped when already 0)
    const b = start >>> 2;
    jw(s, b, bw === 1 ? ct[k + K.K_EMPTY_MAP] | 1 : 1);
    for (let i = 1; i < bw - 1; i++) jw(s, b + i, 0);
    if (bw > 1) jw(s, b + bw - 1, ct[k + K.K_EMPTY_MAP]);
    jw(s, w + L.D_INFO, L.T_SLAB | (c << L.CLASS_SHIFT) | L.USED_ONE);
  }
  const count = ct[k + K.K_COUNT];
  if (count > 1) pushFront(s, c + 1, d);
  u32[sw + L.S_TOTAL] += count; // derived, recounted after a takeover
  u32[sw + L.S_USED]++;
  // Debug mode: allocPages() already checked the poison of every page of the slab.
  return start + ct[k + K.K_DATA_OFFSET];
}

/** Allocates a run of whole pages for `size` bytes (> largest class). Returns offset or 0. */
export function allocRun(s: PoolState, size: number): number {
  const u32 = s.u32;
  u32[s.base + L.H_PAGE_REQS]++;
  const n = ((size - 1) >>> L.PAGE_SHIFT) + 1; // ceil(size / 4096) for 1 <= size < 2^32
  const d = n <= s.pagesTotal ? allocPages(s, n) : 0;
  if (d === 0) {
    u32[s.base + L.H_PAGE_FAILS]++;
    if (u32[s.base + L.H_CACHE_DIR] !== 0) askOwnersToDrain(s); // they may park what it needs
    return 0;
  }
  const w = s.descWord + d * L.DESC_WORDS;
  jw(s, w + L.D_INFO, L.T_RUN);
  jw(s, w + L.D_MAP, n); // skipped when the free run was exactly n pages (MAP already n)
  return s.dataStart + (d - s.firstDesc) * L.PAGE_SIZE;
}

/** Kinds returned by locate(). */
export const LOC_CHUNK = 1;
export const LOC_RUN = 2;

/**
 * Validates `offset` as a live allocation. Returns LOC_CHUNK (s.locDesc = slab head,
 * s.locClass, s.locIndex = chunk index, s.locWord = its bitmap word) or LOC_RUN (s.locDesc =
 * run head). Throws SlabError with a distinct code otherwise. Reads only.
 *
 * This is the fast path for what freeLocked() meets almost always, a live chunk on a slab's
 * head page; anything else (a page run, a multi-page slab's inner page, every bad offset) goes
 * to `locateAny`, which classifies it from scratch. Keeping this small lets the JIT inline it
 * into freeLocked() within its inlining budget. (free() repeats these checks itself: the note
 * above alloc() in pool.ts.)
 */
export function locate(s: PoolState, offset: number): number {
  // One way out to locateAny (each call site costs inlining budget). typeof first: `>>>` on
  // an object would run its valueOf. An integer in [0, 2^32) passes `>>> 0` unchanged; from
  // then on only `o` is used, an int32 for the JIT even when the caller holds offsets as
  // doubles (a Float64Array).
  chunk: {
    if (typeof offset !== 'number') break chunk;
    const o = offset >>> 0;
    const ds = s.dataStart;
    if (o !== offset || o < ds || o >= s.dataEnd) break chunk;
    const u32 = s.u32;
    const D = s.descWord;
    const d = s.firstDesc + ((o - ds) >>> L.PAGE_SHIFT);
    const info = u32[D + d * L.DESC_WORDS + L.D_INFO];
    const c = (info >>> L.CLASS_SHIFT) & L.CLASS_MASK;
    if ((info & L.TYPE_MASK) !== L.T_SLAB || c >= s.nClasses) break chunk;
    const ct = s.ct;
    const k = c * K.K_STRIDE;
    const start = ds + (d - s.firstDesc) * L.PAGE_SIZE;
    // rel < span * PAGE_SIZE <= 2^15 and magic <= 2^16 (sizeclass.ts): the products are
    // exact int32s, so plain `*` (Math.imul would cost inlining budget: a global load and a
    // call in the bytecode). A negative rel yields a garbage idx, rejected by `rel < 0`.
    const rel = o - start - ct[k + K.K_DATA_OFFSET];
    const idx = (rel * ct[k + K.K_MAGIC]) >>> ct[k + K.K_SHIFT];
    if (rel < 0 || idx * ct[k + K.K_SIZE] !== rel || idx >= ct[k + K.K_COUNT]) break chunk;
    const word =
      ct[k + K.K_BITMAP_WORDS] === 0 ? D + d * L.DESC_WORDS + L.D_MAP : (start >>> 2) + (idx >>> 5);
    if ((u32[word] & (1 << (idx & 31))) === 0) break chunk;
    // Thread caches exist: a tagged chunk may be a cached one (cache-layout.ts).
    if (u32[s.base + L.H_CACHE_DIR] !== 0 && u32[o >>> 2] === tagOf(o)) break chunk;
    s.locDesc = d;
    s.locClass = c;
    s.locIndex = idx;
    s.locWord = word;
    return LOC_CHUNK;
  }
  return locateAny(s, offset);
}

/**
 * locate() for any offset: the same result for a live allocation, and for anything else the
 * SlabError (or SlabCorruptionError) that says what is wrong with it. Cold: every error and
 * the walk back from an inner page are in the functions below.
 */
function locateAny(s: PoolState, offset: unknown): number {
  if (typeof offset !== 'number') badOffset(s, offset);
  const o = offset >>> 0;
  if (o !== offset) badOffset(s, offset);
  const ds = s.dataStart;
  if (o < ds || o >= s.dataEnd) outside(s, offset);
  const u32 = s.u32;
  const D = s.descWord;
  const f = s.firstDesc;
  let d = f + ((o - ds) >>> L.PAGE_SHIFT);
  let info = u32[D + d * L.DESC_WORDS + L.D_INFO];
  if ((info & L.TYPE_MASK) !== L.T_SLAB) {
    if ((info & L.TYPE_MASK) === L.T_RUN) return locateRun(s, o, d);
    d = slabHead(s, offset, d, info);
    info = u32[D + d * L.DESC_WORDS + L.D_INFO];
  }
  const c = (info >>> L.CLASS_SHIFT) & L.CLASS_MASK;
  if (c >= s.nClasses) badClass(s, d, c);
  const ct = s.ct;
  const k = c * K.K_STRIDE;
  const start = ds + (d - f) * L.PAGE_SIZE;
  const rel = o - start - ct[k + K.K_DATA_OFFSET];
  if (rel < 0) inBitmap(s, offset, c);
  const idx = Math.imul(rel, ct[k + K.K_MAGIC]) >>> ct[k + K.K_SHIFT];
  if (Math.imul(idx, ct[k + K.K_SIZE]) !== rel || idx >= ct[k + K.K_COUNT])
    notChunkStart(s, offset, c);
  const word =
    ct[k + K.K_BITMAP_WORDS] === 0 ? D + d * L.DESC_WORDS + L.D_MAP : (start >>> 2) + (idx >>> 5);
  if ((u32[word] & (1 << (idx & 31))) === 0) chunkFree(s, offset, c);
  if (isCached(s, o)) chunkFree(s, offset, c);
  s.locDesc = d;
  s.locClass = c;
  s.locIndex = idx;
  s.locWord = word;
  return LOC_CHUNK;
}

/** locate() of an offset in a page-run head page: it must be the run's first byte. */
function locateRun(s: PoolState, o: number, d: number): number {
  if (((o - s.dataStart) & (L.PAGE_SIZE - 1)) !== 0) notRunStart(o);
  if ((s.u32[s.descWord + d * L.DESC_WORDS + L.D_INFO] & L.RUN_CACHED) !== 0) runCached(o);
  s.locDesc = d;
  return LOC_RUN;
}

/** An offset that is not an integer in [0, 2^32): a type error, or outside the data pages. */
function badOffset(s: PoolState, offset: unknown): never {
  if (typeof offset !== 'number' || !Number.isInteger(offset)) {
    throw new SlabError(
      'ERR_SLAB_OFFSET_TYPE',
      `slab free: offset must be an integer, got ${describeValue(offset)}`,
      offset,
    );
  }
  outside(s, offset);
}

function outside(s: PoolState, offset: number): never {
  throw new SlabError(
    'ERR_SLAB_OUTSIDE',
    `slab free: offset ${offset} is outside the data pages [${s.dataStart}, ${s.dataEnd})`,
    offset,
  );
}

function notRunStart(offset: number): never {
  throw new SlabError(
    'ERR_SLAB_WRONG_CHUNK',
    `slab free: offset ${offset} is not at the start of its page run`,
    offset,
  );
}

/**
 * locate() on a page whose descriptor is not a slab head or a run head: walk back over zero
 * descriptors (inner pages) to the head; return it if it is a slab that covers the page,
 * throw otherwise.
 */
function slabHead(s: PoolState, offset: number, d: number, info: number): number {
  const u32 = s.u32;
  const D = s.descWord;
  const page = d - s.firstDesc;
  let type = info & L.TYPE_MASK;
  if (type === L.T_INNER) {
    while (type === L.T_INNER && d > s.firstDesc) {
      d--;
      info = u32[D + d * L.DESC_WORDS + L.D_INFO];
      type = info & L.TYPE_MASK;
    }
    if (type === L.T_RUN) {
      throw new SlabError(
        'ERR_SLAB_WRONG_PAGE',
        `slab free: offset ${offset} points inside a page run, not at its start`,
        offset,
      );
    }
    if (type === L.T_FREE) {
      throw new SlabError(
        'ERR_SLAB_PAGE_FREE',
        `slab free: offset ${offset} is in a free page`,
        offset,
      );
    }
    if (
      type !== L.T_SLAB ||
      page - (d - s.firstDesc) >= s.classes.span[(info >>> L.CLASS_SHIFT) & L.CLASS_MASK]
    ) {
      s.damaged(
        `page ${page} has no head descriptor (found type ${type} at page ${d - s.firstDesc})`,
      );
    }
    return d;
  }
  if (type === L.T_FREE || type === L.T_FREE_TAIL) {
    throw new SlabError(
      'ERR_SLAB_PAGE_FREE',
      `slab free: offset ${offset} is in a free page`,
      offset,
    );
  }
  s.damaged(`page ${page}: unknown descriptor type ${type}`);
}

function badClass(s: PoolState, d: number, c: number): never {
  s.damaged(`page ${d - s.firstDesc}: slab class ${c} out of range`);
}

function inBitmap(s: PoolState, offset: number, c: number): never {
  throw new SlabError(
    'ERR_SLAB_BITMAP_CHUNK',
    `slab free: offset ${offset} points into the slab's own bitmap (class ${s.classes.size[c]} B)`,
    offset,
  );
}

function notChunkStart(s: PoolState, offset: number, c: number): never {
  throw new SlabError(
    'ERR_SLAB_WRONG_CHUNK',
    `slab free: offset ${offset} is not the start of a ${s.classes.size[c]} B chunk`,
    offset,
  );
}

function runCached(offset: number): never {
  throw new SlabError(
    'ERR_SLAB_CHUNK_FREE',
    `slab free: the page run at ${offset} is already free (in a thread cache)`,
    offset,
  );
}

function chunkFree(s: PoolState, offset: number, c: number): never {
  throw new SlabError(
    'ERR_SLAB_CHUNK_FREE',
    `slab free: the ${s.classes.size[c]} B chunk at ${offset} is already free`,
    offset,
  );
}

/** Frees the chunk found by locate(). */
export function freeChunk(s: PoolState): void {
  const c = s.locClass;
  // Bitmaps in the page out of line, as in allocChunk().
  if (s.ct[c * K.K_STRIDE + K.K_BITMAP_WORDS] !== 0) {
    freeInPage(s);
    return;
  }
  if (s.poison) deferChunkPoison(s);
  freeInMap(s, s.locDesc, c, 1 << s.locIndex, 1);
}

/**
 * freeChunk()'s common case, also free()'s (pool.ts): clears `bits` (`count` chunks, all set)
 * of slab d (class c), whose bitmap is its MAP word, and puts the slab back in its class list
 * if it was full, or back to the page allocator if it is now empty. The used count is the set
 * bits of MAP less the padding: no INFO write. A thread cache's flush passes several bits of
 * one slab (freeChunksInWord()).
 */
export function freeInMap(s: PoolState, d: number, c: number, bits: number, count: number): void {
  const u32 = s.u32;
  const w = s.descWord + d * L.DESC_WORDS + L.D_MAP;
  const old = u32[w] | 0;
  const now = old & ~bits;
  jw(s, w, now);
  u32[s.statsWord + c * L.STAT_WORDS + L.S_USED] -= count;
  if (now === (s.ct[c * K.K_STRIDE + K.K_EMPTY_MAP] | 0)) {
    releaseEmptySlab(s, d, c, old === -1);
  } else if (old === -1) {
    pushFront(s, c + 1, d); // was full: back into the class list
  }
}

/** freeChunk() for a class whose bitmap is at the start of the slab's first page. */
function freeInPage(s: PoolState): void {
  if (s.poison) deferChunkPoison(s);
  freeChunksInWord(s, s.locDesc, s.locClass, s.locWord, 1 << (s.locIndex & 31), 1);
}

/**
 * Frees the `count` chunks whose bits are `bits` of bitmap word `word` (all set) of slab d,
 * class c: one journaled store for the word, one for INFO (an in-page bitmap), and the slab
 * back in its class list if it was full, or back to the page allocator if it is now empty.
 * freeInPage()'s one chunk, and a thread cache's flush of several (cache.ts, flushLocked).
 */
export function freeChunksInWord(
  s: PoolState,
  d: number,
  c: number,
  word: number,
  bits: number,
  count: number,
): void {
  const ct = s.ct;
  const k = c * K.K_STRIDE;
  if (ct[k + K.K_BITMAP_WORDS] === 0) {
    freeInMap(s, d, c, bits, count); // `word` is d's MAP
    return;
  }
  const u32 = s.u32;
  jw(s, word, u32[word] & ~bits);
  u32[s.statsWord + c * L.STAT_WORDS + L.S_USED] -= count;
  const w = s.descWord + d * L.DESC_WORDS;
  const info = u32[w + L.D_INFO];
  const used = (info >>> L.USED_SHIFT) - count;
  // locate() found these chunks' bits set: the count is at least `count`, at most the chunks.
  if (used < 0 || used + count > ct[k + K.K_COUNT])
    s.damaged(`slab at page ${d - s.firstDesc} has used count ${used + count}`);
  const wasFull = used + count === ct[k + K.K_COUNT];
  if (used === 0) {
    releaseEmptySlab(s, d, c, wasFull);
    return;
  }
  jw(s, w + L.D_INFO, info - count * L.USED_ONE);
  if (wasFull) pushFront(s, c + 1, d); // back into the class list
}

/**
 * The last chunk of slab d (class c) was freed: give its pages back (nginx does the same; no
 * cached empty slab). A slab that was full is in no list, and its links are stale
 * (pages.ts, unlinkFull): cleared here, or freePages() would leave them in a page it merges
 * into a free run. Full to empty at once happens with one chunk per slab, and when a thread
 * cache's flush frees a whole slab's chunks together (test/slab/thread-cache.test.ts,
 * "random alloc/free with caches on").
 */
function releaseEmptySlab(s: PoolState, d: number, c: number, wasFull: boolean): void {
  const ct = s.ct;
  const k = c * K.K_STRIDE;
  if (!wasFull) unlink(s, d);
  else {
    const w = s.descWord + d * L.DESC_WORDS;
    jw(s, w + L.D_NEXT, 0);
    jw(s, w + L.D_PREV, 0);
  }
  s.u32[s.statsWord + c * L.STAT_WORDS + L.S_TOTAL] -= ct[k + K.K_COUNT];
  freePages(s, d, ct[k + K.K_SPAN]);
}

/** Debug mode: queue the located chunk's bytes for poisoning at the next commit. */
function deferChunkPoison(s: PoolState): void {
  const k = s.locClass * K.K_STRIDE;
  const size = s.ct[k + K.K_SIZE];
  const off =
    s.dataStart +
    (s.locDesc - s.firstDesc) * L.PAGE_SIZE +
    s.ct[k + K.K_DATA_OFFSET] +
    s.locIndex * size;
  deferPoison(s, off, size);
}

/** Frees the page run found by locate(). */
export function freeRun(s: PoolState): void {
  const d = s.locDesc;
  freePages(s, d, s.u32[s.descWord + d * L.DESC_WORDS + L.D_MAP]);
}

/** Usable bytes of the allocation found by locate(). */
export function locatedSize(s: PoolState, kind: number): number {
  return kind === LOC_RUN
    ? s.u32[s.descWord + s.locDesc * L.DESC_WORDS + L.D_MAP] * L.PAGE_SIZE
    : s.classes.size[s.locClass];
}
