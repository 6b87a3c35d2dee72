/**
 * What stats() and verify() read of the thread caches (cache-layout.ts), without the lock's
 * help from their owners: counts, and the structure that holds while owners push and pop.
 */
import { binCount, binWord, C, isBlockRun, isOnePageRun } from './cache-layout.js';
import { L } from './layout.js';
import type { PoolState } from './state.js';

/** What the caches hold now, for stats(): chunks per class, pages in cached runs, hits. */
export interface CacheCounts {
  chunks: Uint32Array;
  runPages: number;
  hits: Uint32Array;
  runHits: number;
}

/** Counts every block's entries (read without the lock: approximate, never throws). */
export function cacheCounts(s: PoolState): CacheCounts {
  const out: CacheCounts = {
    chunks: new Uint32Array(s.nClasses),
    runPages: 0,
    hits: new Uint32Array(s.nClasses),
    runHits: 0,
  };
  const u32 = s.u32;
  const dir = u32[s.base + L.H_CACHE_DIR];
  if (dir === 0 || !isOnePageRun(s, dir)) return out;
  for (let slot = 0; slot < C.DIR_SLOTS; slot++) {
    const blk = u32[(dir >>> 2) + slot];
    if (blk === 0 || !isBlockRun(s, blk)) continue;
    for (let bin = 0; bin < binCount(s.nClasses); bin++) {
      const w = binWord(blk >>> 2, bin);
      const n = Math.min(u32[w + C.BIN_COUNT], C.CAP_MAX);
      if (bin < s.nClasses) {
        out.chunks[bin] += n;
        out.hits[bin] += u32[w + C.BIN_HITS];
      } else {
        out.runPages += n * (bin - s.nClasses + 1);
        out.runHits += u32[w + C.BIN_HITS];
      }
    }
  }
  return out;
}

/**
 * verify()'s part: the directory is a one-page run and every block a BLOCK_PAGES run, no two
 * the same; every
 * count is at most CAP_MAX; every listed entry is 8-aligned inside the data pages. (Whether
 * an entry is a live block of its bin is checked where it is used, by its owner's pop and by
 * whoever frees it: a live owner pushes and pops while verify() runs.)
 */
export function verifyCaches(s: PoolState, fail: (msg: string) => never): void {
  const u32 = s.u32;
  const dir = u32[s.base + L.H_CACHE_DIR];
  if (dir === 0) return;
  if (!isOnePageRun(s, dir)) fail(`thread-cache directory ${dir} is not a one-page run`);
  const seen = new Set<number>([dir]);
  for (let slot = 0; slot < C.DIR_SLOTS; slot++) {
    const blk = u32[(dir >>> 2) + slot];
    if (blk === 0) continue;
    if (seen.has(blk) || !isBlockRun(s, blk))
      fail(
        `thread-cache block ${blk} of slot ${slot} is not a run of BLOCK_PAGES pages of its own`,
      );
    seen.add(blk);
    for (let bin = 0; bin < binCount(s.nClasses); bin++) {
      const w = binWord(blk >>> 2, bin);
      const n = u32[w + C.BIN_COUNT];
      if (n > C.CAP_MAX) fail(`thread-cache bin ${bin} of slot ${slot} holds ${n} entries`);
      for (let i = 0; i < n; i++) {
        const o = u32[w + C.BIN_ENTRIES + i];
        if (o < s.dataStart || o >= s.dataEnd || (o & 7) !== 0)
          fail(`thread-cache entry ${o} of slot ${slot} is outside the data pages`);
      }
    }
  }
}
