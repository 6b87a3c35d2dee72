/**
 * List values: the entry's value area holds LIST_HEAD and LIST_TAIL (refs of element chunks),
 * VLEN counts the elements. Each element is its own chunk (layout.ts). Writers only, under
 * the lock; element links and the entry's list words are journaled. Lock-free readers never
 * follow list links (get on a list answers NOT_LIST from the entry's type alone).
 */
import type { DictCore } from './core.js';
import { readValue, writeValue, type DictValue } from './codec.js';
import {
  D_BYTES8,
  E_VLEN,
  ELEMENT_HEADER_BYTES,
  LIST_HEAD,
  LIST_TAIL,
  L_LEN,
  L_NEXT,
  L_PREV,
  L_TYPE,
  align8,
} from './layout.js';

/** Bytes an element of `length` value bytes needs. */
export function elementSize(length: number): number {
  return ELEMENT_HEADER_BYTES + align8(length);
}

/**
 * Allocate an element holding `value` (never evicts: Lua's pushes do not). Returns its ref,
 * or 0 when there is no memory. The chunk is filled with plain stores (not linked yet).
 */
export function elementCreate(c: DictCore, type: number, length: number, value: DictValue): number {
  const size = elementSize(length);
  const off = c.pool.allocLocked(size);
  if (off === 0) return 0;
  const lw = off / 4;
  c.u32[lw + L_PREV] = 0;
  c.u32[lw + L_NEXT] = 0;
  c.u32[lw + L_LEN] = length;
  c.u32[lw + L_TYPE] = type;
  writeValue(c, off + ELEMENT_HEADER_BYTES, type, length, value);
  c.w(c.hw + D_BYTES8, c.u32[c.hw + D_BYTES8] + size / 8);
  return off / 8;
}

/** Link element `l` at the head (`left`) or tail of list entry `e`; VLEN + 1. Journaled. */
export function listPush(c: DictCore, e: number, l: number, left: boolean): number {
  const u32 = c.u32;
  const vw = c.valueOffset(e) / 4;
  const lw = l * 2;
  const head = u32[vw + LIST_HEAD];
  const tail = u32[vw + LIST_TAIL];
  if (left) {
    // Fresh element: its own links need no journal, the list's words do.
    u32[lw + L_NEXT] = head;
    if (head !== 0) c.w(head * 2 + L_PREV, l);
    else c.w(vw + LIST_TAIL, l);
    c.w(vw + LIST_HEAD, l);
  } else {
    u32[lw + L_PREV] = tail;
    if (tail !== 0) c.w(tail * 2 + L_NEXT, l);
    else c.w(vw + LIST_HEAD, l);
    c.w(vw + LIST_TAIL, l);
  }
  const n = u32[e * 2 + E_VLEN] + 1;
  c.w(e * 2 + E_VLEN, n);
  return n;
}

/**
 * Unlink and free the first (`left`) or last element of non-empty list entry `e`; returns
 * its value. VLEN - 1. Journaled.
 */
export function listPop(
  c: DictCore,
  e: number,
  left: boolean,
  decode = true,
): DictValue | undefined {
  const u32 = c.u32;
  const vw = c.valueOffset(e) / 4;
  const l = left ? u32[vw + LIST_HEAD] : u32[vw + LIST_TAIL];
  const lw = l * 2;
  const value = decode
    ? readValue(c, l * 8 + ELEMENT_HEADER_BYTES, u32[lw + L_TYPE], u32[lw + L_LEN])
    : undefined;
  if (left) {
    const next = u32[lw + L_NEXT];
    c.w(vw + LIST_HEAD, next);
    if (next !== 0) c.w(next * 2 + L_PREV, 0);
    else c.w(vw + LIST_TAIL, 0);
  } else {
    const prev = u32[lw + L_PREV];
    c.w(vw + LIST_TAIL, prev);
    if (prev !== 0) c.w(prev * 2 + L_NEXT, 0);
    else c.w(vw + LIST_HEAD, 0);
  }
  c.w(e * 2 + E_VLEN, u32[e * 2 + E_VLEN] - 1);
  elementFree(c, l);
  return value;
}

/** Free element `l` (already unlinked) and uncount its bytes. */
function elementFree(c: DictCore, l: number): void {
  const size = elementSize(c.u32[l * 2 + L_LEN]);
  c.pool.freeLocked(l * 8);
  c.w(c.hw + D_BYTES8, c.u32[c.hw + D_BYTES8] - size / 8);
}

/**
 * Free every element of list entry `e` and leave it empty, committing after each element (a
 * list can be longer than the journal). Only call it when nothing uncommitted is pending:
 * the list is consistent after every pop, so each commit point is safe.
 */
export function listClear(c: DictCore, e: number): void {
  const vw = c.valueOffset(e) / 4;
  while (c.u32[vw + LIST_HEAD] !== 0) {
    listPop(c, e, true, false);
    // Each pop is consistent on its own: checkpoint so a long list never fills the journal.
    c.pool.commit();
  }
}
