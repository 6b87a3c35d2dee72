/**
 * Reclaiming memory: lua_shared_dict's small expire step, eviction from the LRU tail, and the
 * full walk of flushExpired.
 *
 * `expireStep(force = false)` is Lua's expire(1), run before writes: look at the tail and free
 * up to two entries while the tail has expired; stop at the first live one.
 * `expireStep(force = true)` is Lua's expire(0), the eviction step: free the tail entry
 * whatever its TTL, then up to two more if they have expired. Before choosing the victim it
 * runs the clock over the tail: an entry that a lock-free reader marked (its REFBITS byte) is
 * moved to the head with its mark cleared, at most SECOND_CHANCES times per step.
 *
 * Each freed entry is one independent step: the caller commits after the call (entries freed
 * here are already consistent), and a graveyard list is reaped here.
 */
import type { DictCore } from './core.js';
import { checkEntryRef, corrupt } from './damage.js';
import { entryDrop, reapGraveyard, slotOfRef } from './entries.js';
import {
  D_COUNT,
  D_EVICTED,
  D_EXPIRED,
  D_GRAVE,
  D_LRU_HEAD,
  D_LRU_TAIL,
  D_REFBITS,
  D_REF_MASK,
  E_HASH,
  E_PREV,
} from './layout.js';
import { lruTouch } from './lru.js';

/** How many marked tail entries one eviction step may promote before it evicts anyway. */
export const SECOND_CHANCES = 8;

/**
 * Free entries at the LRU tail (see above). `keep` is an entry that must not be chosen (the
 * old value of the key being stored). Returns the number of entries freed. Commits after each.
 */
export function expireStep(c: DictCore, now: number, force: boolean, keep: number): number {
  const u32 = c.u32;
  const hw = c.hw;
  let freed = 0;
  let n = force ? 0 : 1;
  let chances = 0;
  while (n < 3) {
    let t = u32[hw + D_LRU_TAIL];
    if (t === 0) break;
    if (n++ !== 0) {
      if (t === keep || c.isLive(t, now)) break;
    } else {
      // The clock: give marked (recently read) entries a second chance.
      const rb = u32[hw + D_REFBITS] * 8;
      const rmask = u32[hw + D_REF_MASK];
      while (t !== 0 && chances < SECOND_CHANCES && u32[hw + D_LRU_HEAD] !== t) {
        const b = rb + (u32[t * 2 + E_HASH] & rmask);
        if (t !== keep && c.u8[b] === 0) break;
        // Plain store: refbits are hints, written by lock-free readers too; never journaled.
        c.u8[b] = 0;
        lruTouch(c, t);
        chances++;
        t = u32[hw + D_LRU_TAIL];
      }
      if (t === keep) t = u32[t * 2 + E_PREV];
      if (t === 0) break;
    }
    checkEntryRef(c, t, 'LRU');
    const live = c.isLive(t, now);
    const slot = slotOfRef(c, u32[t * 2 + E_HASH], t);
    if (slot < 0) corrupt(`LRU entry ${t} is not in the index`);
    entryDrop(c, slot, t);
    if (live) c.w(hw + D_EVICTED, u32[hw + D_EVICTED] + 1);
    else c.w(hw + D_EXPIRED, u32[hw + D_EXPIRED] + 1);
    freed++;
    c.pool.commit();
    if (u32[hw + D_GRAVE] !== 0) reapGraveyard(c);
  }
  return freed;
}

/**
 * Walk the whole LRU from the tail and free every expired entry, at most `max` (0 = no
 * limit). Returns the number freed. Commits after each.
 */
export function flushExpiredLocked(c: DictCore, now: number, max: number): number {
  const u32 = c.u32;
  const hw = c.hw;
  let freed = 0;
  let t = u32[hw + D_LRU_TAIL];
  // Bounded by COUNT: a cycle or a stray link in the LRU is damage, not a long walk.
  for (let steps = u32[hw + D_COUNT]; t !== 0 && (max === 0 || freed < max); steps--) {
    if (steps === 0) corrupt('the LRU is longer than COUNT');
    checkEntryRef(c, t, 'LRU');
    const prev = u32[t * 2 + E_PREV];
    if (!c.isLive(t, now)) {
      const slot = slotOfRef(c, u32[t * 2 + E_HASH], t);
      if (slot < 0) corrupt(`LRU entry ${t} is not in the index`);
      entryDrop(c, slot, t);
      c.w(hw + D_EXPIRED, u32[hw + D_EXPIRED] + 1);
      freed++;
      c.pool.commit();
      if (u32[hw + D_GRAVE] !== 0) reapGraveyard(c);
    }
    t = prev;
  }
  return freed;
}
