/**
 * Thread caches: each owner slot (a thread of some process, src/zone/peers.ts) keeps small
 * stacks of free chunks, and of short page runs, per size class in a block of its own inside
 * the pool, so that most `alloc()` and `free()` calls take no lock and write no journal
 * (jemalloc's tcache; nginx has none). Refill and flush move chunks in batches under one lock
 * acquisition. The locked calls (`allocLocked`, `freeLocked`) never use them; held chunks
 * (holding-pool.ts) are how a caller that locks, as the dict's store, builds in them.
 *
 * ```
 *  pool header word H_CACHE_DIR: byte offset of the directory page (0 = no caches yet)
 *  directory page:  word s = byte offset of slot s's cache block (0 = none), s < 128
 *  cache block (BLOCK_PAGES pages):
 *    [B_OWNER]   owner id of the thread the block belongs to (its slot's generation included)
 *    [B_PENDING] offset a push or pop is moving (0 otherwise): see "Crashes" below
 *    [B_DRAIN]   1 when another thread ran out of memory: give everything back at the next
 *                call (a hint, written under the lock; the owner's lock-free paths check it)
 *    [B_HELD]    a chunk the owner holds outside every bin, 0 = none (holding-pool.ts)
 *    bins from B_BINS, BIN_WORDS each: [COUNT, HITS, entry 0 .. entry CAP_MAX-1]
 *      bin c < nClasses: chunks of class c; bin nClasses + p - 1: runs of p pages (p <= 16)
 *  a cached chunk: its word 0 = TAG ^ offset, word 1 = owner id
 *  a cached run: RUN_CACHED set in its head descriptor's INFO (its pages are not touched)
 * ```
 *
 * Invariants (test/slab/thread-cache.test.ts):
 * - A cached block is allocated as far as the pool's bitmaps and descriptors go, and free as
 *   far as the API goes: `free()`, `freeLocked()` and `usableSize()` of a cached offset throw
 *   ERR_SLAB_CHUNK_FREE (a tagged chunk is looked up in the block of the owner its tag names:
 *   user data may look like a tag; a run's flag is exact). `stats()` counts it as cached, not
 *   used. (As with any thread cache, two threads freeing the same offset at the same instant
 *   are not told apart: the lock-free check runs in each before either has marked it.
 *   Sequential double frees are always caught.)
 * - Only the owner thread pushes and pops, without the lock; everything else that touches a
 *   block (attach, refill, flush, drain, reclaim of a dead owner's block) holds the lock and
 *   journals its writes, so a crash rolls it back.
 * - Crashes: the owner's lock-free push is `PENDING = o; mark; entry; COUNT + 1; PENDING = 0`;
 *   its pop of a run `PENDING = o; COUNT - 1; unmark; PENDING = 0`, and of a chunk just
 *   `COUNT - 1; clear the tag`. While PENDING names `o`, `o` belongs to the owner alone, in
 *   a cache or not; a chunk still tagged with the owner's id, just above COUNT and listed
 *   nowhere, is one it was popping (a completed pop clears the tag, a later push of it lists
 *   it). Whoever reclaims a dead owner's block frees every listed entry, such a chunk, and
 *   PENDING and HELD if listed nowhere (each once): nothing leaks and nothing is freed twice
 *   (test/slab/thread-cache.test.ts, "a thread that died mid-push or mid-pop"; the SIGKILL
 *   torture of test/crash/10).
 * - Bounded: a bin holds at most `caps[bin]` entries (at most CAP_MAX, and at most the
 *   pool's length / 512 bytes a chunk bin, / 128 a run bin: a thread parks at most 3.8% of
 *   the pool in chunks and 11.4% in runs, the worst pool sizes for each). An allocation that would fail drains the
 *   caller's own caches and retries; it also sets B_DRAIN in every other block, and each of
 *   those owners drains its block at its next alloc() or free(). Others' entries are never
 *   taken from them: they pop without the lock. An owner that makes no further call keeps
 *   its cache until it leaves or is reclaimed (test/slab/thread-cache.test.ts, "asks the
 *   other owners").
 */
import { L } from './layout.js';
import { K } from './sizeclass.js';
import type { PoolState } from './state.js';

/** Words and constants of the directory and the cache blocks (see the module comment). */
/* eslint-disable @typescript-eslint/no-duplicate-enum-values -- named constants, not an enumeration */
export const enum C {
  DIR_SLOTS = 128,
  B_OWNER = 0,
  B_PENDING = 1,
  B_DRAIN = 2,
  B_HELD = 3,
  B_BINS = 4,
  BIN_COUNT = 0,
  BIN_HITS = 1,
  BIN_ENTRIES = 2,
  CAP_MAX = 32,
  BIN_WORDS = 34,
  /** Pages of a cache block: B_BINS + (classes + RUN_BINS) x BIN_WORDS words fit. */
  BLOCK_PAGES = 2,
  /** Runs of 1..RUN_BINS pages are cached. */
  RUN_BINS = 16,
  TAG = 0x7c4ac4ed,
  /** Bytes a chunk bin may park: the pool's length divided by this. */
  CHUNK_BIN_BUDGET_DIVISOR = 512,
  /** Bytes a run bin may park: the pool's length divided by this. */
  RUN_BIN_BUDGET_DIVISOR = 128,
}
/* eslint-enable @typescript-eslint/no-duplicate-enum-values */

/** Word 0 of a cached chunk or run at byte offset `o`. */
export function tagOf(o: number): number {
  return (C.TAG ^ o) >>> 0;
}

/** Bins of a pool with `nClasses` classes; every block must fit BLOCK_PAGES pages. */
export function binCount(nClasses: number): number {
  return nClasses + C.RUN_BINS;
}

/**
 * The bin a live allocation at `o` (an integer in the data pages) would be cached in, or -1
 * when it is not one the lock-free path can prove live: anything unusual goes to the locked
 * path, which classifies it and throws for a bad offset. A cached run counts only when
 * `cachedRun`. Reads only, never throws; without the lock its answer is exact for an offset
 * the caller owns (nobody else changes its page).
 */
export function cacheBinOf(s: PoolState, o: number, cachedRun = false): number {
  const u32 = s.u32;
  const ds = s.dataStart;
  const D = s.descWord;
  let d = s.firstDesc + ((o - ds) >>> L.PAGE_SHIFT);
  let info = u32[D + d * L.DESC_WORDS + L.D_INFO];
  let type = info & L.TYPE_MASK;
  if (type === L.T_RUN) {
    if (((o - ds) & (L.PAGE_SIZE - 1)) !== 0) return -1;
    if (info !== (cachedRun ? L.T_RUN | L.RUN_CACHED : L.T_RUN)) return -1;
    const pages = u32[D + d * L.DESC_WORDS + L.D_MAP];
    return pages >= 1 && pages <= C.RUN_BINS ? s.nClasses + pages - 1 : -1;
  }
  // An inner page of a multi-page slab: its head is at most MAX_SPAN - 1 pages back.
  for (let back = 1; type === L.T_INNER && back < K.MAX_SPAN && d > s.firstDesc; back++) {
    d--;
    info = u32[D + d * L.DESC_WORDS + L.D_INFO];
    type = info & L.TYPE_MASK;
  }
  const c = (info >>> L.CLASS_SHIFT) & L.CLASS_MASK;
  if (type !== L.T_SLAB || c >= s.nClasses) return -1;
  const ct = s.ct;
  const k = c * K.K_STRIDE;
  const start = ds + (d - s.firstDesc) * L.PAGE_SIZE;
  const rel = o - start - ct[k + K.K_DATA_OFFSET];
  if (rel < 0 || rel >= ct[k + K.K_SPAN] * L.PAGE_SIZE) return -1;
  const idx = Math.imul(rel, ct[k + K.K_MAGIC]) >>> ct[k + K.K_SHIFT];
  if (Math.imul(idx, ct[k + K.K_SIZE]) !== rel || idx >= ct[k + K.K_COUNT]) return -1;
  const word =
    ct[k + K.K_BITMAP_WORDS] === 0 ? D + d * L.DESC_WORDS + L.D_MAP : (start >>> 2) + (idx >>> 5);
  return (u32[word] & (1 << (idx & 31))) === 0 ? -1 : c;
}

/** Word index of the first word of `bin` in the block at word `bw`. */
export function binWord(bw: number, bin: number): number {
  return bw + C.B_BINS + bin * C.BIN_WORDS;
}

/** True when `o` is the first byte of a page run of exactly one page. */
export function isOnePageRun(s: PoolState, o: number): boolean {
  if (o < s.dataStart || o >= s.dataEnd || ((o - s.dataStart) & (L.PAGE_SIZE - 1)) !== 0)
    return false;
  const w = s.descWord + (s.firstDesc + ((o - s.dataStart) >>> L.PAGE_SHIFT)) * L.DESC_WORDS;
  return s.u32[w + L.D_INFO] === L.T_RUN && s.u32[w + L.D_MAP] === 1;
}

/** True when `o` is the first byte of a page run of exactly BLOCK_PAGES pages (a block). */
export function isBlockRun(s: PoolState, o: number): boolean {
  if (o < s.dataStart || o >= s.dataEnd || ((o - s.dataStart) & (L.PAGE_SIZE - 1)) !== 0)
    return false;
  const w = s.descWord + (s.firstDesc + ((o - s.dataStart) >>> L.PAGE_SHIFT)) * L.DESC_WORDS;
  return s.u32[w + L.D_INFO] === L.T_RUN && s.u32[w + L.D_MAP] === C.BLOCK_PAGES;
}

/**
 * True when `o` (a live allocation as far as the bitmaps go) is listed in the cache block of
 * the owner its tag names: freeing it again would be a double free. Cold past the tag check;
 * reads only.
 */
export function isCached(s: PoolState, o: number): boolean {
  const u32 = s.u32;
  if (u32[s.base + L.H_CACHE_DIR] === 0 || u32[o >>> 2] !== tagOf(o)) return false;
  const owner = u32[(o >>> 2) + 1];
  const dir = u32[s.base + L.H_CACHE_DIR];
  if (owner === 0 || dir === 0 || !isOnePageRun(s, dir)) return false;
  const blk = u32[(dir >>> 2) + ((owner - 1) % C.DIR_SLOTS)];
  if (blk === 0 || !isBlockRun(s, blk)) return false;
  const bw = blk >>> 2;
  if (u32[bw + C.B_OWNER] !== owner) return false;
  for (let bin = 0; bin < binCount(s.nClasses); bin++) {
    const w = binWord(bw, bin);
    const n = Math.min(u32[w + C.BIN_COUNT], C.CAP_MAX);
    for (let i = 0; i < n; i++) if (u32[w + C.BIN_ENTRIES + i] === o) return true;
  }
  return false;
}

/**
 * The owner's lock-free pop of a cached run of ceil(size / 4096) pages (size above the
 * largest class), as alloc()'s inlined pop of a chunk: 0 when its bin is empty or the top
 * entry is not a marked run of that length (the locked path then reports the damage).
 */
export function popRun(s: PoolState, bw: number, size: number): number {
  const bin = s.nClasses + ((size - 1) >>> L.PAGE_SHIFT);
  if (bin >= s.cacheCaps.length) return 0;
  const u32 = s.u32;
  const w = binWord(bw, bin);
  const n = u32[w + C.BIN_COUNT];
  if (n === 0 || n > C.CAP_MAX || u32[s.base + L.H_GENERATION] !== s.cacheGen) return 0;
  if (u32[bw + C.B_DRAIN] !== 0) return 0;
  const o = u32[w + C.BIN_ENTRIES + n - 1];
  const ds = s.dataStart;
  if (o < ds || o >= s.dataEnd || ((o - ds) & (L.PAGE_SIZE - 1)) !== 0) return 0;
  const dw = s.descWord + (s.firstDesc + ((o - ds) >>> L.PAGE_SHIFT)) * L.DESC_WORDS;
  if (u32[dw + L.D_INFO] !== (L.T_RUN | L.RUN_CACHED) || u32[dw + L.D_MAP] !== bin - s.nClasses + 1)
    return 0;
  u32[bw + C.B_PENDING] = o;
  u32[w + C.BIN_COUNT] = n - 1;
  u32[w + C.BIN_HITS]++;
  u32[dw + L.D_INFO] = L.T_RUN;
  u32[bw + C.B_PENDING] = 0;
  return o;
}

/**
 * The owner's lock-free push of the run at `o` (bin `bin`, which cacheBinOf() found live and
 * unmarked). False when the bin is full: the locked path frees it and flushes the bin.
 */
export function pushRun(s: PoolState, bw: number, o: number, bin: number): boolean {
  const u32 = s.u32;
  const w = binWord(bw, bin);
  const n = u32[w + C.BIN_COUNT];
  if (n >= s.cacheCaps[bin]) return false;
  const dw = s.descWord + (s.firstDesc + ((o - s.dataStart) >>> L.PAGE_SHIFT)) * L.DESC_WORDS;
  u32[bw + C.B_PENDING] = o;
  u32[dw + L.D_INFO] = L.T_RUN | L.RUN_CACHED;
  u32[w + C.BIN_ENTRIES + n] = o;
  u32[w + C.BIN_COUNT] = n + 1;
  u32[bw + C.B_PENDING] = 0;
  return true;
}

/**
 * Under the lock, after an allocation failed: asks every other owner to give its cache back
 * (B_DRAIN, a hint: see the module comment). Skips what is not a block-sized run (a
 * damaged directory word), so it writes nowhere else.
 */
export function askOwnersToDrain(s: PoolState): void {
  const u32 = s.u32;
  const dir = u32[s.base + L.H_CACHE_DIR];
  if (dir === 0 || !isOnePageRun(s, dir)) return;
  const ownBlock = s.cacheWord;
  for (let slot = 0; slot < C.DIR_SLOTS; slot++) {
    const blk = u32[(dir >>> 2) + slot];
    if (blk === 0 || blk === dir || blk >>> 2 === ownBlock || !isBlockRun(s, blk)) continue;
    u32[(blk >>> 2) + C.B_DRAIN] = 1;
  }
}
