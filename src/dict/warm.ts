/**
 * Before a store, an incr or a delete takes the zone lock, load (without the lock) the cache
 * lines it is about to touch under it: the key's index slot and entry, that entry's LRU
 * neighbours (an overwrite or a delete unlinks it), the LRU head (a new entry is linked in
 * front of it) and tail (Lua's expire step looks at it first), and for a delete the entries
 * its index shift reads. At 100,000 keys each of those is a cache miss of 100 ns or more;
 * taken here they no longer lengthen the section every other writer waits for, which is what
 * lets writes scale with processes (issue 21, docs/performance.md, "Writes").
 *
 * Nothing here is trusted or kept: every word may be torn or stale (no lock, no seqlock),
 * so each load is bounds-checked and the probe bounded; the values only feed a sink so the
 * compiler keeps the loads. The locked path re-reads everything itself.
 */
import type { DictSession } from './session.js';
import {
  D_LRU_HEAD,
  D_LRU_TAIL,
  D_MASK,
  D_TABLE,
  E_EXP_LO,
  E_HASH,
  E_NEXT,
  E_PREV,
  ENTRY_HEADER_WORDS,
  SLOT_WORDS,
} from './layout.js';

/** Slots probed at most: a longer run is rare at the table's 0.75 fill and not worth it. */
const MAX_PROBES = 8;

/** Touch the lines a store of `s.key` will write. No effect on shared memory. */
export function warmBeforeStore(s: DictSession): void {
  warm(s, false);
}

/**
 * Touch the lines a delete of `s.key` will write, and beyond the key's slot the entry of
 * each slot up to the next empty one: the delete's backward shift of the index reads each
 * moved key's hash from its entry (table.ts tableRemove). No effect on shared memory.
 */
export function warmBeforeDelete(s: DictSession): void {
  warm(s, true);
}

function warm(s: DictSession, shift: boolean): void {
  if (s.host.started === false) return;
  const c = s.core;
  const u32 = c.u32;
  const words = u32.length - ENTRY_HEADER_WORDS;
  const hw = c.hw;
  const h = s.key.hash;
  const tw = u32[hw + D_TABLE] * 2;
  const mask = u32[hw + D_MASK];
  let sink =
    touchEntry(u32, u32[hw + D_LRU_TAIL], words) ^ touchEntry(u32, u32[hw + D_LRU_HEAD], words);
  if (((mask + 1) & mask) === 0 && tw + (mask + 1) * SLOT_WORDS <= u32.length) {
    let i = h & mask;
    let found = false;
    for (let n = 0; n < MAX_PROBES; n++) {
      const slot = u32[tw + i * SLOT_WORDS];
      if (slot === 0) break;
      const ref = slot & c.slotRefMask;
      if (found) {
        sink ^= touchEntry(u32, ref, words); // a slot the shift may move: its entry's hash
      } else if (((slot ^ h) & c.slotHashMask) === 0 && ref * 2 <= words) {
        const ew = ref * 2;
        sink ^= touchEntry(u32, u32[ew + E_PREV], words) ^ touchEntry(u32, u32[ew + E_NEXT], words);
        if (!shift) break;
        found = true;
      }
      i = (i + 1) & mask;
    }
  }
  s.warmSink = sink;
}

/** One load from entry `e`'s header (0 when `e` is none or out of range). */
function touchEntry(u32: Uint32Array, e: number, words: number): number {
  return e !== 0 && e * 2 <= words ? u32[e * 2 + E_EXP_LO] ^ u32[e * 2 + E_HASH] : 0;
}
