/**
 * Writing an empty pool over the region a pool object describes: on create(), and on a reset
 * after damage or a failed repair (a new generation). The layout is layout.ts's.
 */
import { L } from './layout.js';
import { binSentinel } from './pages.js';
import { POISON_BYTE } from './poison.js';
import type { PoolState } from './state.js';

/** Writes an empty pool: header counters, stats, descriptors, one free run of every page. */
export function formatPool(s: PoolState, generation: number): void {
  const u32 = s.u32;
  const b = s.base;
  const D = s.descWord;
  u32[b + L.H_GENERATION] = generation;
  u32[b + L.H_PAGES_TOTAL] = s.pagesTotal;
  u32[b + L.H_PAGES_FREE] = s.pagesTotal;
  u32[b + L.H_DATA_START] = s.dataStart;
  u32[b + L.H_DESC_START] = D;
  u32[b + L.H_N_CLASSES] = s.classes.n;
  u32[b + L.H_PAGE_REQS] = 0;
  u32[b + L.H_PAGE_FAILS] = 0;
  u32[b + L.H_CACHE_DIR] = 0; // every cache block was in the pages now free
  u32[s.journalCountWord] = 0;
  u32.fill(0, s.statsWord, s.statsWord + s.classes.n * L.STAT_WORDS);
  u32.fill(0, D, D + (s.firstDesc + s.pagesTotal) * L.DESC_WORDS);
  for (let sent = 1; sent < s.firstDesc; sent++) {
    u32[D + sent * L.DESC_WORDS + L.D_NEXT] = sent;
    u32[D + sent * L.DESC_WORDS + L.D_PREV] = sent;
  }
  // One free run of every page, in the bin of its length.
  const h = s.firstDesc;
  const hw = D + h * L.DESC_WORDS;
  const sent = binSentinel(s, s.pagesTotal);
  u32[hw + L.D_INFO] = L.T_FREE;
  u32[hw + L.D_MAP] = s.pagesTotal;
  u32[hw + L.D_NEXT] = sent;
  u32[hw + L.D_PREV] = sent;
  u32[D + sent * L.DESC_WORDS + L.D_NEXT] = h;
  u32[D + sent * L.DESC_WORDS + L.D_PREV] = h;
  u32[b + L.H_FREE_BIN_MASK] = s.pagesTotal < L.FREE_BINS ? 1 << s.pagesTotal : 1;
  if (s.pagesTotal > 1) {
    const tw = D + (h + s.pagesTotal - 1) * L.DESC_WORDS;
    u32[tw + L.D_INFO] = L.T_FREE_TAIL;
    u32[tw + L.D_MAP] = h;
  }
  s.poison = u32[b + L.H_POISON] === L.POISON_ON;
  if (s.poison) s.u8.fill(POISON_BYTE, s.dataStart, s.dataEnd);
}
