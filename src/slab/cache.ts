/**
 * Thread caches, the operations under the lock: attach a block, refill and flush a bin in a
 * batch, drain a block under memory pressure, reclaim a dead owner's block. The layout, the
 * lock-free push and pop (pool.ts, cache-layout.ts) and the invariants are described in
 * cache-layout.ts; what stats() and verify() read of them is cache-inspect.ts. Every write
 * here is journaled.
 */
import { allocChunks, takenChunks } from './chunk-batch.js';
import { allocRun, freeChunk, freeChunksInWord, freeRun, locate, LOC_CHUNK } from './chunks.js';
import { jw } from './journal.js';
import {
  binCount,
  binWord,
  C,
  cacheBinOf,
  isBlockRun,
  isOnePageRun,
  tagOf,
} from './cache-layout.js';
import { L } from './layout.js';
import type { PoolState } from './state.js';

/** What the cache operations under the lock need besides the pool's state. */
export interface CacheHost extends PoolState {
  readonly owner: { readonly selfId: number };
  commit(): void;
}

/** Per-bin capacity for a pool of `length` bytes: 0 disables the bin. */
export function binCaps(s: PoolState): Uint8Array {
  const n = binCount(s.nClasses);
  const caps = new Uint8Array(n);
  for (let bin = 0; bin < n; bin++) {
    const budget =
      s.length / (bin < s.nClasses ? C.CHUNK_BIN_BUDGET_DIVISOR : C.RUN_BIN_BUDGET_DIVISOR);
    const cap = Math.min(C.CAP_MAX, Math.floor(budget / binBytes(s, bin)));
    caps[bin] = cap >= 2 ? cap : 0;
  }
  return caps;
}

function binBytes(s: PoolState, bin: number): number {
  return bin < s.nClasses ? s.classes.size[bin] : (bin - s.nClasses + 1) * L.PAGE_SIZE;
}

/** The directory's byte offset, checked (0 when there is none). Damage: SlabCorruptionError. */
function directory(s: PoolState): number {
  const dir = s.u32[s.base + L.H_CACHE_DIR];
  if (dir !== 0 && !isOnePageRun(s, dir)) s.damaged(`thread-cache directory at ${dir}`);
  return dir;
}

/** The block of `slot` (byte offset, 0 = none), checked. */
function blockOf(s: PoolState, dir: number, slot: number): number {
  const blk = s.u32[(dir >>> 2) + slot];
  if (blk !== 0 && (blk === dir || !isBlockRun(s, blk)))
    s.damaged(`thread-cache block of slot ${slot} at ${blk}`);
  return blk;
}

/**
 * Under the lock: finds or makes the calling thread's block. A block left in its slot by an
 * earlier holder (another owner id: a dead thread) is reclaimed first. Returns the block's
 * word index, or 0 when there is no page for it. Journaled; commits.
 */
export function attachLocked(s: CacheHost): number {
  const self = s.owner.selfId;
  const u32 = s.u32;
  const slot = (self - 1) % C.DIR_SLOTS;
  let dir = directory(s);
  if (dir !== 0) {
    const blk = blockOf(s, dir, slot);
    if (blk !== 0 && u32[(blk >>> 2) + C.B_OWNER] === self) return blk >>> 2;
    // An earlier holder's block (it may free the directory with it): checked again below.
    if (blk !== 0) reclaimLocked(s, slot);
    dir = directory(s);
  }
  if (dir === 0) {
    dir = internalRun(s, 1);
    if (dir === 0) return 0;
    u32.fill(0, dir >>> 2, (dir >>> 2) + L.PAGE_SIZE / 4);
    jw(s, s.base + L.H_CACHE_DIR, dir);
  }
  const blk = internalRun(s, C.BLOCK_PAGES);
  if (blk === 0) {
    dropDirectoryIfEmpty(s, dir); // none of the pool's pages stay parked for no block
    s.commit();
    return 0;
  }
  u32.fill(0, blk >>> 2, (blk >>> 2) + (C.BLOCK_PAGES * L.PAGE_SIZE) / 4);
  u32[(blk >>> 2) + C.B_OWNER] = self;
  jw(s, (dir >>> 2) + slot, blk);
  s.commit();
  return blk >>> 2;
}

/** A run of `pages` for the caches' own use: not a request of the pool's users (stats). */
function internalRun(s: PoolState, pages: number): number {
  const o = allocRun(s, pages * L.PAGE_SIZE);
  s.u32[s.base + L.H_PAGE_REQS]--;
  if (o === 0) s.u32[s.base + L.H_PAGE_FAILS]--;
  return o;
}

/**
 * Under the lock, after an allocation of `bin` returned a block to the caller: puts up to
 * `want` more of the same bin on the caller's stack. Journaled; the caller commits.
 */
export function refillLocked(s: CacheHost, bw: number, bin: number, want: number): void {
  const u32 = s.u32;
  const w = binWord(bw, bin);
  let n = u32[w + C.BIN_COUNT];
  const self = s.owner.selfId;
  if (want > C.CAP_MAX - n) want = C.CAP_MAX - n;
  if (bin < s.nClasses) {
    // Chunks a bitmap word at a time (allocChunks).
    while (want > 0) {
      const got = allocChunks(s, bin, want);
      if (got === 0) break;
      for (let i = 0; i < got; i++) {
        const o = takenChunks[i];
        // The tag need not be journaled: rolled back, the chunk is free and its bytes are junk.
        u32[o >>> 2] = tagOf(o);
        u32[(o >>> 2) + 1] = self;
        jw(s, w + C.BIN_ENTRIES + n, o);
        n++;
      }
      want -= got;
    }
  } else {
    for (; want > 0; want--) {
      const o = allocRun(s, (bin - s.nClasses + 1) * L.PAGE_SIZE);
      if (o === 0) break;
      u32[s.base + L.H_PAGE_REQS]--; // a refill is no request
      jw(s, runInfoWord(s, o), L.T_RUN | L.RUN_CACHED);
      jw(s, w + C.BIN_ENTRIES + n, o);
      n++;
    }
  }
  jw(s, w + C.BIN_COUNT, n);
}

/** Word index of the INFO word of the run starting at `o`. */
function runInfoWord(s: PoolState, o: number): number {
  return (
    s.descWord + (s.firstDesc + ((o - s.dataStart) >>> L.PAGE_SHIFT)) * L.DESC_WORDS + L.D_INFO
  );
}

/**
 * True when `o` carries the cached mark of `bin`: a chunk the tag naming `owner` (whatever
 * its page says), a run the flag and the bin's length.
 */
function isMarked(s: PoolState, o: number, bin: number, owner: number): boolean {
  if (o < s.dataStart || o >= s.dataEnd || (o & 7) !== 0) return false;
  if (bin >= s.nClasses) return cacheBinOf(s, o, true) === bin;
  return s.u32[o >>> 2] === tagOf(o) && s.u32[(o >>> 2) + 1] === owner;
}

/** True when `o` is a live block of `bin` marked cached (a chunk: by `owner`). */
function isCachedEntry(s: PoolState, o: number, bin: number, owner: number): boolean {
  return isMarked(s, o, bin, owner) && (bin >= s.nClasses || cacheBinOf(s, o) === bin);
}

/** Clears the cached mark of `o` (a block of `bin`) through the journal. */
function unmarkLocked(s: PoolState, o: number, bin: number): void {
  if (bin < s.nClasses) jw(s, o >>> 2, 0);
  else jw(s, runInfoWord(s, o), L.T_RUN);
}

/**
 * Under the lock: takes the top entry of the caller's `bin`, checked as a live block of that
 * bin carrying the caller's tag (or the block is damaged). Journaled.
 */
export function popLocked(s: CacheHost, bw: number, bin: number): number {
  const u32 = s.u32;
  const w = binWord(bw, bin);
  const n = u32[w + C.BIN_COUNT];
  if (n > C.CAP_MAX) s.damaged(`thread-cache bin ${bin} holds ${n} entries`);
  const o = u32[w + C.BIN_ENTRIES + n - 1];
  if (!isCachedEntry(s, o, bin, s.owner.selfId))
    s.damaged(`thread-cache entry ${o} of bin ${bin} is not a cached block of that bin`);
  jw(s, w + C.BIN_COUNT, n - 1);
  unmarkLocked(s, o, bin);
  return o;
}

/**
 * Under the lock: frees the entries of `bin` above `keep` (newest first). Journaled. Chunks
 * that share a bitmap word and come one after another on the stack (a thread freeing in
 * allocation order) are freed together, with one store for the word (freeChunksInWord).
 */
export function flushLocked(s: CacheHost, bw: number, bin: number, keep: number): void {
  const u32 = s.u32;
  const w = binWord(bw, bin);
  const n = u32[w + C.BIN_COUNT];
  if (n > C.CAP_MAX) s.damaged(`thread-cache bin ${bin} holds ${n} entries`);
  if (keep >= n) return;
  const owner = u32[bw + C.B_OWNER];
  // The group of chunks not yet freed: slab d, bitmap word `word`, `bits` of it, `count`.
  let d = 0;
  let word = -1;
  let bits = 0;
  let count = 0;
  for (let i = n - 1; i >= keep; i--) {
    // Checked and unmarked one by one (a second entry of one block is no longer marked); the
    // group's bits stay set until it is freed, so locate() still proves each one live.
    if (takeCached(s, u32[w + C.BIN_ENTRIES + i], bin, owner) !== LOC_CHUNK) {
      freeRun(s);
      continue;
    }
    // A debug pool queues each freed chunk for poisoning (freeChunk does): no groups there.
    // Poison is fixed for the pool's life, so no group is ever pending on this branch.
    if (s.poison) {
      freeChunk(s);
      continue;
    }
    const bit = 1 << (s.locIndex & 31);
    const at = s.locDesc;
    const atWord = s.locWord;
    if (atWord === word && at === d) {
      bits |= bit;
      count++;
      continue;
    }
    if (count !== 0) freeChunksInWord(s, d, bin, word, bits, count);
    d = at;
    word = atWord;
    bits = bit;
    count = 1;
  }
  if (count !== 0) freeChunksInWord(s, d, bin, word, bits, count);
  // COUNT once, at the end: the journal undoes the whole flush if its holder dies, and damage
  // found on the way rolls it back and resets the pool (locking.ts, damaged()).
  jw(s, w + C.BIN_COUNT, keep);
}

/**
 * Takes one entry off a stack: it must be a block of `bin` marked cached (a chunk: by
 * `owner`), or the block is damaged. The mark is cleared through the journal first (so that
 * a rollback puts back a marked entry), which also keeps locate() from calling it cached;
 * locate() then proves it a live block, and its class or length must be the bin's. Returns
 * locate()'s kind, the block located (s.locDesc and the rest) for freeChunk() or freeRun().
 */
function takeCached(s: CacheHost, o: number, bin: number, owner: number): number {
  const chunk = bin < s.nClasses;
  if (!isMarked(s, o, bin, owner)) notCached(s, o, bin);
  unmarkLocked(s, o, bin);
  let kind: number;
  try {
    kind = locate(s, o);
  } catch {
    notCached(s, o, bin);
  }
  if (kind === LOC_CHUNK ? !chunk || s.locClass !== bin : chunk) notCached(s, o, bin);
  return kind;
}

function notCached(s: PoolState, o: number, bin: number): never {
  s.damaged(`thread-cache entry ${o} of bin ${bin} is not a cached block of that bin`);
}

/**
 * Under the lock: empties every bin of the block at word `bw`, one bin per commit (each
 * flush is all-or-nothing). Returns the number of entries freed.
 */
export function drainLocked(s: CacheHost, bw: number): number {
  const u32 = s.u32;
  let freed = 0;
  for (let bin = 0; bin < binCount(s.nClasses); bin++) {
    const w = binWord(bw, bin);
    const n = u32[w + C.BIN_COUNT];
    if (n === 0) continue;
    foldHits(s, w, bin);
    flushLocked(s, bw, bin, 0);
    s.commit();
    freed += n;
  }
  return freed;
}

/** A bin's lock-free hits become pool requests (stats), before its block goes away. */
function foldHits(s: PoolState, w: number, bin: number): void {
  const hits = s.u32[w + C.BIN_HITS];
  if (hits === 0) return;
  s.u32[w + C.BIN_HITS] = 0;
  if (bin < s.nClasses) s.u32[s.statsWord + bin * L.STAT_WORDS + L.S_REQS] += hits;
  else s.u32[s.base + L.H_PAGE_REQS] += hits;
}

/**
 * Under the lock: gives everything in slot `slot`'s block back to the pool (its holder is
 * dead, or is the caller leaving), resolves a push or pop the holder died in (module
 * comment, "Crashes"), frees the block and clears its directory word. Commits.
 */
export function reclaimLocked(s: CacheHost, slot: number): void {
  const dir = directory(s);
  if (dir === 0) return;
  const blk = blockOf(s, dir, slot);
  if (blk === 0) return;
  const u32 = s.u32;
  const bw = blk >>> 2;
  const owner = u32[bw + C.B_OWNER];
  const listed = new Set<number>();
  for (let bin = 0; bin < binCount(s.nClasses); bin++) {
    const w = binWord(bw, bin);
    const n = u32[w + C.BIN_COUNT];
    if (n > C.CAP_MAX) s.damaged(`thread-cache bin ${bin} holds ${n} entries`);
    for (let i = 0; i < n; i++) listed.add(u32[w + C.BIN_ENTRIES + i]);
  }
  const pending = u32[bw + C.B_PENDING];
  for (let bin = 0; bin < binCount(s.nClasses); bin++) {
    const w = binWord(bw, bin);
    const n = u32[w + C.BIN_COUNT];
    // A chunk pop the owner died in (COUNT lowered, tag not yet cleared): list it again.
    if (bin < s.nClasses && n < C.CAP_MAX) {
      const above = u32[w + C.BIN_ENTRIES + n];
      if (above !== pending && !listed.has(above) && isCachedEntry(s, above, bin, owner)) {
        listed.add(above);
        jw(s, w + C.BIN_COUNT, n + 1);
      }
    }
    foldHits(s, w, bin);
    flushLocked(s, bw, bin, 0);
    s.commit();
  }
  // A push (or a run's pop) the owner died in: the block it was moving is its alone.
  if (pending !== 0 && !listed.has(pending)) freePending(s, pending);
  jw(s, bw + C.B_PENDING, 0);
  // A chunk it held (holding-pool.ts), unless one of the above freed it already.
  const held = u32[bw + C.B_HELD];
  if (held !== 0 && held !== pending && !listed.has(held)) freePending(s, held);
  jw(s, bw + C.B_HELD, 0);
  jw(s, (dir >>> 2) + slot, 0);
  if (locate(s, blk) !== LOC_CHUNK) freeRun(s);
  dropDirectoryIfEmpty(s, dir);
  s.commit();
}

/**
 * The last block gone (or none made): the directory goes too, so an idle pool is all free
 * pages again (test/slab/thread-cache.test.ts). Journaled.
 */
function dropDirectoryIfEmpty(s: CacheHost, dir: number): void {
  const u32 = s.u32;
  for (let i = 0; i < C.DIR_SLOTS; i++) if (u32[(dir >>> 2) + i] !== 0) return;
  jw(s, s.base + L.H_CACHE_DIR, 0);
  if (locate(s, dir) !== LOC_CHUNK) freeRun(s);
}

/** Frees `o`, a dead owner's PENDING or HELD block, if it is still allocated (marked or not). */
function freePending(s: CacheHost, o: number): void {
  if (o < s.dataStart || o >= s.dataEnd || (o & 7) !== 0) return;
  let bin = cacheBinOf(s, o, true);
  if (bin >= 0) unmarkLocked(s, o, bin);
  else bin = cacheBinOf(s, o);
  if (bin < 0) return;
  const kind = locate(s, o);
  if (kind === LOC_CHUNK) freeChunk(s);
  else freeRun(s);
}
