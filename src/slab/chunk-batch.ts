/**
 * Chunks taken a bitmap word at a time, for a thread cache's refill (cache.ts,
 * refillLocked); the slab layout and the one-chunk paths are chunks.ts's. A flush's
 * counterpart, freeing a word's chunks together, is chunks.ts's freeChunksInWord().
 */
import { allocChunk, listedButFull } from './chunks.js';
import { jw } from './journal.js';
import { L } from './layout.js';
import { unlinkFull } from './pages.js';
import { checkPoison } from './poison.js';
import { K } from './sizeclass.js';
import type { PoolState } from './state.js';

/** Offsets the last allocChunks() call took, in [0, its result). */
export const takenChunks = new Uint32Array(32);

/**
 * Takes up to `max` (1..32) chunks of class c for a thread cache's refill (cache.ts): the
 * first through allocChunk() (its checks, a new slab if the class has none), then as many
 * more as the same bitmap word of the same slab has free, with one journaled store for the
 * word (and one for INFO, for an in-page bitmap) where allocChunk() makes one or two a chunk.
 * Leaves their offsets in takenChunks and returns how many (0: no memory). Counts them as
 * used, not as requests. Guarded by test/crash/25 (every store of a refill) and
 * test/slab/thread-cache.test.ts.
 */
export function allocChunks(s: PoolState, c: number, max: number): number {
  const first = allocChunk(s, c);
  if (first === 0) return 0;
  const u32 = s.u32;
  u32[s.statsWord + c * L.STAT_WORDS + L.S_REQS]--; // a refill is no request
  takenChunks[0] = first;
  if (max === 1) return 1;
  // The slab `first` came from is still at the head of the class list unless it filled up.
  const ct = s.ct;
  const k = c * K.K_STRIDE;
  const d = u32[s.descWord + (c + 1) * L.DESC_WORDS + L.D_NEXT];
  const start = s.dataStart + (d - s.firstDesc) * L.PAGE_SIZE;
  if (d === c + 1 || first < start || first >= start + ct[k + K.K_SPAN] * L.PAGE_SIZE) return 1;
  const w = s.descWord + d * L.DESC_WORDS;
  const size = ct[k + K.K_SIZE];
  const count = ct[k + K.K_COUNT];
  let taken = 1;
  if (ct[k + K.K_BITMAP_WORDS] === 0) {
    let map = u32[w + L.D_MAP] | 0;
    while (taken < max && map !== -1) {
      const bit = ~map & (map + 1); // lowest clear bit
      map |= bit;
      takenChunks[taken++] = start + Math.imul(31 - Math.clz32(bit), size);
    }
    jw(s, w + L.D_MAP, map);
    if (taken > 1 && map === -1) unlinkFull(s, d);
  } else {
    const info = u32[w + L.D_INFO]; // allocInPage() checked it, or allocSlab() wrote it
    const room = count - (info >>> L.USED_SHIFT);
    const chunk0 = start + ct[k + K.K_DATA_OFFSET];
    const i = ((first - chunk0) / size) >>> 5; // the word allocInPage() took `first` from
    let word = u32[(start >>> 2) + i] | 0;
    while (taken < max && taken <= room && word !== -1) {
      const bit = ~word & (word + 1);
      const idx = i * 32 + 31 - Math.clz32(bit);
      if (idx >= count) listedButFull(s, d); // padding bits cleared
      word |= bit;
      takenChunks[taken++] = chunk0 + idx * size;
    }
    jw(s, (start >>> 2) + i, word);
    jw(s, w + L.D_INFO, info + (taken - 1) * L.USED_ONE);
    if (taken - 1 === room) unlinkFull(s, d);
  }
  u32[s.statsWord + c * L.STAT_WORDS + L.S_USED] += taken - 1;
  if (s.poison) for (let j = 1; j < taken; j++) checkPoison(s, takenChunks[j], size);
  return taken;
}
