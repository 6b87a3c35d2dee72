/** Builds the `PoolStats` snapshot from shared counters (read without the lock: approximate). */
import type { PoolStats, SlotStats } from './api.js';
import { L } from './layout.js';
import type { PoolState } from './state.js';
import { sleepersNow } from './lock.js';
import { cacheCounts } from './cache-inspect.js';

export function collectStats(s: PoolState): PoolStats {
  const u32 = s.u32;
  const b = s.base;
  const t = s.classes;
  const slots: SlotStats[] = [];
  // Cached chunks are allocated in the bitmaps but free for the API: not `used`.
  const cached = cacheCounts(s);
  for (let c = 0; c < t.n; c++) {
    const w = s.statsWord + c * L.STAT_WORDS;
    slots.push({
      size: t.size[c],
      total: u32[w + L.S_TOTAL],
      used: Math.max(0, u32[w + L.S_USED] - cached.chunks[c]),
      cached: cached.chunks[c],
      reqs: u32[w + L.S_REQS] + cached.hits[c],
      fails: u32[w + L.S_FAILS],
    });
  }
  return {
    pageSize: L.PAGE_SIZE,
    pagesTotal: s.pagesTotal,
    pagesFree: u32[b + L.H_PAGES_FREE],
    pageAllocs: {
      reqs: u32[b + L.H_PAGE_REQS] + cached.runHits,
      fails: u32[b + L.H_PAGE_FAILS],
      cachedPages: cached.runPages,
    },
    slots,
    lock: {
      acquisitions: u32[b + L.H_LOCK_ACQUISITIONS],
      contended: u32[b + L.H_LOCK_CONTENDED],
      spins: u32[b + L.H_LOCK_SPINS],
      sleeps: u32[b + L.H_LOCK_SLEEPS],
      recoveries: u32[b + L.H_LOCK_RECOVERIES],
      sleepers: sleepersNow(s.i32, s.sleepersWord),
    },
    generation: u32[b + L.H_GENERATION],
  };
}
