/**
 * The LRU queue: a doubly linked list of entries through their PREV/NEXT words, head = most
 * recently written (or promoted), tail = next victim. Only writers touch it, under the lock,
 * with journaled stores; lock-free readers never read these words.
 *
 * Readers cannot move entries (that would need the lock, which is what lua_shared_dict does
 * on every get). They set the entry's REFBITS byte instead, and the eviction clock in
 * expiry.ts gives a tail entry whose byte is set a second chance: it is moved to the head
 * and its byte cleared ("lazy promotion", CLOCK's approximation of LRU).
 */
import type { DictCore } from './core.js';
import { D_LRU_HEAD, D_LRU_TAIL, E_NEXT, E_PREV } from './layout.js';

/** Link entry `e` (not linked) at the head. */
export function lruPushHead(c: DictCore, e: number): void {
  const hw = c.hw;
  const head = c.u32[hw + D_LRU_HEAD];
  const ew = e * 2;
  c.w(ew + E_PREV, 0);
  c.w(ew + E_NEXT, head);
  if (head !== 0) c.w(head * 2 + E_PREV, e);
  else c.w(hw + D_LRU_TAIL, e);
  c.w(hw + D_LRU_HEAD, e);
}

/** Unlink entry `e`. Its own PREV/NEXT words are left as they were (it is being freed or relinked). */
export function lruUnlink(c: DictCore, e: number): void {
  const u32 = c.u32;
  const hw = c.hw;
  const ew = e * 2;
  const prev = u32[ew + E_PREV];
  const next = u32[ew + E_NEXT];
  if (prev !== 0) c.w(prev * 2 + E_NEXT, next);
  else c.w(hw + D_LRU_HEAD, next);
  if (next !== 0) c.w(next * 2 + E_PREV, prev);
  else c.w(hw + D_LRU_TAIL, prev);
}

/** Move entry `e` to the head (no-op when it already is). */
export function lruTouch(c: DictCore, e: number): void {
  if (c.u32[c.hw + D_LRU_HEAD] === e) return;
  lruUnlink(c, e);
  lruPushHead(c, e);
}

/** Put entry `fresh` (not linked) where `old` is, at the head; `old` ends unlinked. */
export function lruReplace(c: DictCore, old: number, fresh: number): void {
  lruUnlink(c, old);
  lruPushHead(c, fresh);
}

export function lruTail(c: DictCore): number {
  return c.u32[c.hw + D_LRU_TAIL];
}

export function lruHead(c: DictCore): number {
  return c.u32[c.hw + D_LRU_HEAD];
}
