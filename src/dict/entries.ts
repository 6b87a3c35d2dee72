/**
 * Entries: filling a fresh entry chunk, retiring an entry, the graveyard of list entries.
 *
 * An entry goes through three states: *fresh* (allocated, filled with plain stores, reachable
 * from nothing: a crash rolls the allocation back), *linked* (in the index and the LRU; every
 * change is journaled), *retired* (unlinked; freed at once, or for a list with elements put on
 * the graveyard and freed one element per journal commit by `reapGraveyard`).
 */
import type { DictCore } from './core.js';
import { expHi, expLo } from './core.js';
import { writeValue, type DictValue } from './codec.js';
import {
  D_REF_MASK,
  D_VER_MASK,
  HEADER_BYTES,
  SEQ_BYTES,
  STATS_BYTES,
  D_BYTES8,
  D_FLUSH_GEN,
  D_GRAVE,
  D_MASK,
  D_SEQ,
  E_EXP_HI,
  E_EXP_LO,
  E_FLAGS,
  E_GEN,
  E_HASH,
  E_META,
  E_NEXT,
  E_PREV,
  E_VLEN,
  ENTRY_HEADER_BYTES,
  LIST_VALUE_BYTES,
  META_TYPE_SHIFT,
  SLOT_WORDS,
  SEQ_STRIPE_SHIFT,
  T_LIST,
  align8,
} from './layout.js';
import { listClear } from './lists.js';
import { lruUnlink } from './lru.js';
import { seqEnter, seqLeave, stripeWord } from './seqlock.js';
import { tableRemove, tableWord } from './table.js';
import { bumpKeyVersion } from './versions.js';

/** Keys up to this many bytes are copied into an entry by a loop rather than `set`. */
const KEY_LOOP_MAX = 64;

/** Bytes to allocate for an entry. */
export function entrySize(klen: number, type: number, vlen: number): number {
  return ENTRY_HEADER_BYTES + align8(klen) + (type === T_LIST ? LIST_VALUE_BYTES : vlen);
}

/** The same size, in the units of D_BYTES8, for an existing entry. */
export function entryUnits(c: DictCore, e: number): number {
  const type = c.type(e);
  const vlen = type === T_LIST ? LIST_VALUE_BYTES : c.u32[e * 2 + E_VLEN];
  return align8(ENTRY_HEADER_BYTES + align8(c.keyLen(e)) + vlen) / 8;
}

/**
 * Fill the fresh chunk at byte `off` (plain stores: nothing links to it yet). For a list,
 * `vlen` is ignored: the list starts empty.
 */
export function entryFill(
  c: DictCore,
  off: number,
  hash: number,
  kb: Uint8Array,
  klen: number,
  type: number,
  vlen: number,
  flags: number,
  expires: number,
  value: DictValue | null,
): void {
  const u32 = c.u32;
  const ew = off / 4;
  u32[ew + E_HASH] = hash;
  u32[ew + E_PREV] = 0;
  u32[ew + E_NEXT] = 0;
  u32[ew + E_META] = klen | (type << META_TYPE_SHIFT);
  u32[ew + E_VLEN] = type === T_LIST ? 0 : vlen;
  u32[ew + E_FLAGS] = flags;
  u32[ew + E_EXP_LO] = expLo(expires);
  u32[ew + E_EXP_HI] = expHi(expires);
  u32[ew + E_GEN] = u32[c.hw + D_FLUSH_GEN];
  u32[ew + 9] = 0;
  const kOff = off + ENTRY_HEADER_BYTES;
  const u8 = c.u8;
  // A short key byte by byte: `subarray` would allocate a view on every store, under the lock.
  if (klen <= KEY_LOOP_MAX) for (let i = 0; i < klen; i++) u8[kOff + i] = kb[i];
  else u8.set(kb.subarray(0, klen), kOff);
  const vOff = kOff + align8(klen);
  if (type === T_LIST) {
    u32[vOff / 4] = 0;
    u32[vOff / 4 + 1] = 0;
  } else {
    writeValue(c, vOff, type, vlen, value as DictValue);
  }
}

/** Slot index that holds ref `e` (with hash `h`); -1 if none. Caller holds the lock. */
export function slotOfRef(c: DictCore, h: number, e: number): number {
  const u32 = c.u32;
  const mask = u32[c.hw + D_MASK];
  const tw = tableWord(c, mask);
  let i = h & mask;
  for (let n = 0; n <= mask; n++) {
    const ref = u32[tw + i * SLOT_WORDS] & c.slotRefMask;
    if (ref === e) return i;
    if (ref === 0) return -1;
    i = (i + 1) & mask;
  }
  return -1;
}

/**
 * Free an unlinked entry, or put it on the graveyard when it is a list with elements.
 * Journaled; the caller is inside the entry's stripe section.
 */
export function entryRetire(c: DictCore, e: number): void {
  const ew = e * 2;
  if (c.type(e) === T_LIST && c.u32[ew + E_VLEN] > 0) {
    c.w(ew + E_NEXT, c.u32[c.hw + D_GRAVE]);
    c.w(c.hw + D_GRAVE, e);
    return;
  }
  const units = entryUnits(c, e);
  c.pool.freeLocked(e * 8);
  c.w(c.hw + D_BYTES8, c.u32[c.hw + D_BYTES8] - units);
}

/**
 * Remove entry `e` in slot `slot` from the index and the LRU and retire it, inside its
 * stripe's seqlock section. Journaled; the caller commits and then reaps the graveyard.
 */
export function entryDrop(c: DictCore, slot: number, e: number): void {
  const h = c.u32[e * 2 + E_HASH];
  const sw = stripeWord(c.u32[c.hw + D_SEQ] * 2, h);
  seqEnter(c.i32, sw);
  bumpKeyVersion(c, h);
  tableRemove(c, slot, h >>> SEQ_STRIPE_SHIFT);
  lruUnlink(c, e);
  entryRetire(c, e);
  seqLeave(c.i32, sw);
}

/**
 * Free every graveyard entry, element by element, committing after each step. Call only at a
 * point where nothing uncommitted is pending (it commits first).
 */
export function reapGraveyard(c: DictCore): void {
  const u32 = c.u32;
  while (u32[c.hw + D_GRAVE] !== 0) {
    c.pool.commit();
    const e = u32[c.hw + D_GRAVE];
    // Unreachable by readers since it was unlinked (and that bumped its stripe): no seqlock.
    listClear(c, e);
    c.w(c.hw + D_GRAVE, u32[e * 2 + E_NEXT]);
    const units = entryUnits(c, e);
    c.pool.freeLocked(e * 8);
    c.w(c.hw + D_BYTES8, u32[c.hw + D_BYTES8] - units);
    c.pool.commit();
  }
}

/**
 * An upper bound on any one chunk the dict could ever get: the zone minus the dict's fixed
 * areas (header, index, seqlock and stats lines, refbits, versions). A store larger than this fails at
 * once with NO_MEMORY and evicts nothing (test/dict/70.eviction.test.ts, "never fits").
 */
export function allocationCeiling(c: DictCore): number {
  const u32 = c.u32;
  const hw = c.hw;
  const index = (u32[hw + D_MASK] + 1) * SLOT_WORDS * 4;
  const refbits = u32[hw + D_REF_MASK] + 1;
  const versions = (u32[hw + D_VER_MASK] + 1) * 4;
  const fixed = HEADER_BYTES + index + SEQ_BYTES + STATS_BYTES + refbits + versions;
  return c.pool.capacity - fixed;
}
