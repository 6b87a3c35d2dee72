/**
 * The index: open addressing with linear probing over `MASK + 1` one-word slots (the ref and
 * the hash's top bits, layout.ts "Index table"), 0 = empty, backward-shift deletion (no
 * tombstones, so a miss stops at the first empty slot and the table never degrades). Home
 * slot of a hash = hash & MASK; a slot's full hash is its entry's HASH word.
 *
 * Writers call these with the lock held; every slot and header store is journaled. A resize
 * builds the new table in a freshly allocated chunk (no journal needed: nothing points at it
 * yet), swaps the TABLE/MASK header words (journaled) and frees the old table, with every
 * stripe entered (`seqEnterAll`) so lock-free readers of the old table retry.
 */
import type { DictCore } from './core.js';
import {
  D_COUNT,
  D_MASK,
  D_SEQ,
  D_TABLE,
  E_HASH,
  FULL_DEN,
  FULL_NUM,
  GROW_DEN,
  GROW_NUM,
  LINE_WORDS,
  SEQ_STRIPE_SHIFT,
  SLOT_WORDS,
} from './layout.js';
import { checkEntryRef, corrupt } from './damage.js';
import { seqEnter, seqEnterAll, seqLeave, seqLeaveAll } from './seqlock.js';

/** Slot index of key `kb[0..klen)` with hash `h`, or -1. Caller holds the lock. */
export function tableFind(c: DictCore, kb: Uint8Array, klen: number, h: number): number {
  const u32 = c.u32;
  const mask = u32[c.hw + D_MASK];
  const tw = tableWord(c, mask);
  let i = h & mask;
  const hashMask = c.slotHashMask;
  for (let n = 0; n <= mask; n++) {
    const slot = u32[tw + i * SLOT_WORDS];
    if (slot === 0) return -1;
    if (((slot ^ h) & hashMask) === 0) {
      const e = checkEntryRef(c, slot & c.slotRefMask, 'index');
      if (u32[e * 2 + E_HASH] === h && c.keyEquals(e, kb, klen)) return i;
    }
    i = (i + 1) & mask;
  }
  return corrupt('the index has no empty slot');
}

/**
 * Word index of the table, after checking that D_TABLE and `mask` (D_MASK) describe a
 * power-of-two table inside the zone: damage there would send every probe out of bounds.
 */
export function tableWord(c: DictCore, mask: number): number {
  const tw = c.u32[c.hw + D_TABLE] * 2;
  if (((mask + 1) & mask) !== 0 || tw + (mask + 1) * SLOT_WORDS > c.u32.length)
    corrupt(`index of ${mask + 1} slots at ref ${tw / 2}`);
  return tw;
}

/** Ref stored in slot `i`. */
export function slotRef(c: DictCore, i: number): number {
  return c.u32[c.u32[c.hw + D_TABLE] * 2 + i * SLOT_WORDS] & c.slotRefMask;
}

/** Point slot `i` at entry `e` (same key, so the same hash bits). Journaled. */
export function tableSetRef(c: DictCore, i: number, e: number): void {
  const sw = c.u32[c.hw + D_TABLE] * 2 + i * SLOT_WORDS;
  c.w(sw, ((c.u32[sw] & c.slotHashMask) | e) >>> 0);
}

/**
 * Insert entry `e` with hash `h` (the key must be absent, and `tableHasRoom` true): one
 * store, so a reader sees the slot empty or complete. Journaled.
 */
export function tableInsert(c: DictCore, h: number, e: number): void {
  const u32 = c.u32;
  const mask = u32[c.hw + D_MASK];
  const tw = tableWord(c, mask);
  let i = h & mask;
  for (let n = 0; u32[tw + i * SLOT_WORDS] !== 0; n++) {
    if (n > mask) corrupt('the index has no empty slot');
    i = (i + 1) & mask;
  }
  c.w(tw + i * SLOT_WORDS, ((h & c.slotHashMask) | e) >>> 0);
  c.w(c.hw + D_COUNT, u32[c.hw + D_COUNT] + 1);
}

/**
 * Empty slot `i` (its key's stripe `stripe` already entered by the caller) and shift the
 * following run back so every key stays reachable from its home slot. Journaled.
 *
 * Readers check only their own key's stripe, so every key moved here has its stripe entered
 * before its new slot is written and left only at the end (after its old slot was overwritten
 * or emptied); each stripe is entered once (entering twice would make the word even again
 * inside the section). Readers of keys that do not move need nothing: their slot does not
 * change, and the only slot that becomes empty (the last hole) is never between their home
 * slot and their slot — a key stays put only when its home is after the hole at that point,
 * and any later move makes the final hole lie after it. Each slot is written with one store,
 * so a reader sees a slot either before or after a move, never half of one.
 */
export function tableRemove(c: DictCore, i: number, stripe: number): void {
  const u32 = c.u32;
  const i32 = c.i32;
  const hw = c.hw;
  const mask = u32[hw + D_MASK];
  const tw = tableWord(c, mask);
  const seq = u32[hw + D_SEQ] * 2;
  // Entered stripes as a 64-bit set in two words; the caller's is entered already.
  let lo = stripe < 32 ? 1 << stripe : 0;
  let hi = stripe >= 32 ? 1 << (stripe - 32) : 0;
  const callerLo = lo;
  const callerHi = hi;
  let hole = i;
  let j = i;
  for (let n = 0; ; n++) {
    if (n > mask) corrupt('the index has no empty slot');
    j = (j + 1) & mask;
    const slot = u32[tw + j * SLOT_WORDS];
    if (slot === 0) break;
    // The slot keeps only the hash's top bits: its home and stripe come from the entry.
    const h = u32[checkEntryRef(c, slot & c.slotRefMask, 'index') * 2 + E_HASH];
    if (((slot ^ h) & c.slotHashMask) !== 0)
      corrupt(`slot ${j}: its hash bits differ from its entry's`);
    const home = h & mask;
    // May the key in j move back to `hole`? Only if its home is not in the cyclic (hole, j].
    const stays = hole <= j ? home > hole && home <= j : home > hole || home <= j;
    if (stays) continue;
    const s = h >>> SEQ_STRIPE_SHIFT;
    if (s < 32) {
      if ((lo & (1 << s)) === 0) {
        lo |= 1 << s;
        seqEnter(i32, seq + (1 + s) * LINE_WORDS);
      }
    } else if ((hi & (1 << (s - 32))) === 0) {
      hi |= 1 << (s - 32);
      seqEnter(i32, seq + (1 + s) * LINE_WORDS);
    }
    c.w(tw + hole * SLOT_WORDS, slot);
    hole = j;
  }
  c.w(tw + hole * SLOT_WORDS, 0);
  c.w(hw + D_COUNT, u32[hw + D_COUNT] - 1);
  lo &= ~callerLo;
  hi &= ~callerHi;
  for (let s = 0; lo !== 0; s++, lo >>>= 1)
    if ((lo & 1) !== 0) seqLeave(i32, seq + (1 + s) * LINE_WORDS);
  for (let s = 32; hi !== 0; s++, hi >>>= 1)
    if ((hi & 1) !== 0) seqLeave(i32, seq + (1 + s) * LINE_WORDS);
}

/** May one more key be inserted without growing (below the grow threshold)? */
export function tableBelowGrow(c: DictCore): boolean {
  const slots = c.u32[c.hw + D_MASK] + 1;
  const count = c.u32[c.hw + D_COUNT];
  // More entries than slots cannot be: a damaged COUNT would refuse every insert silently.
  if (count > slots) corrupt(`COUNT ${count} exceeds the ${slots} index slots`);
  return (count + 1) * GROW_DEN <= slots * GROW_NUM;
}

/** May one more key be inserted at all (below the hard fill limit)? */
export function tableHasRoom(c: DictCore): boolean {
  const slots = c.u32[c.hw + D_MASK] + 1;
  return (c.u32[c.hw + D_COUNT] + 1) * FULL_DEN <= slots * FULL_NUM;
}

/**
 * Double the table. Returns false (and changes nothing) when the new table cannot be
 * allocated. Caller holds the lock; the caller commits afterwards.
 */
export function tableGrow(c: DictCore): boolean {
  const u32 = c.u32;
  const hw = c.hw;
  const oldRef = u32[hw + D_TABLE];
  const oldSlots = u32[hw + D_MASK] + 1;
  const slots = oldSlots * 2;
  const off = c.pool.callocLocked(slots * SLOT_WORDS * 4);
  if (off === 0) return false;
  // Fill the fresh table with plain stores: it is unreachable until TABLE is swapped, and a
  // rollback of the allocation frees it again.
  const nw = off / 4;
  const mask = slots - 1;
  const ow = oldRef * 2;
  // A slot's home is its entry's hash & mask (the slot keeps only the hash's top bits).
  for (let k = 0; k < oldSlots; k++) {
    const slot = u32[ow + k * SLOT_WORDS];
    if (slot === 0) continue;
    const h = u32[checkEntryRef(c, slot & c.slotRefMask, 'index') * 2 + E_HASH];
    let i = h & mask;
    while (u32[nw + i * SLOT_WORDS] !== 0) i = (i + 1) & mask;
    u32[nw + i * SLOT_WORDS] = slot;
  }
  const seq = u32[hw + D_SEQ] * 2;
  seqEnterAll(c.i32, seq);
  c.w(hw + D_TABLE, off / 8);
  c.w(hw + D_MASK, mask);
  c.pool.freeLocked(oldRef * 8);
  seqLeaveAll(c.i32, seq);
  return true;
}
