/**
 * Tests that damage or inspect a dict's index reach its slots through here, so the slot
 * layout (src/dict/layout.ts, "Index table") is spelled out in one place.
 */
import { D_MASK, D_TABLE, E_HASH, SLOT_WORDS, slotRefMask } from '../../src/dict/layout.js';

interface IndexedPool {
  readonly u8: Uint8Array;
  readonly u32: Uint32Array;
  write32(word: number, value: number): void;
}

/** The entry ref of every occupied slot, by slot index. */
export function indexRefs(pool: IndexedPool, hw: number): Map<number, number> {
  const u32 = pool.u32;
  const tw = u32[hw + D_TABLE] * 2;
  const mask = slotRefMask(pool.u8.byteLength);
  const out = new Map<number, number>();
  for (let i = 0; i <= u32[hw + D_MASK]; i++) {
    const ref = u32[tw + i * SLOT_WORDS] & mask;
    if (ref !== 0) out.set(i, ref);
  }
  return out;
}

/**
 * Points the slot of the key with hash `hash` at `ref` (journaled: the caller holds the lock),
 * keeping the slot's hash bits; returns how many slots it changed.
 */
export function repointSlot(pool: IndexedPool, hw: number, hash: number, ref: number): number {
  const u32 = pool.u32;
  const tw = u32[hw + D_TABLE] * 2;
  const mask = slotRefMask(pool.u8.byteLength);
  let hits = 0;
  for (const [i, e] of indexRefs(pool, hw)) {
    if (u32[e * 2 + E_HASH] !== hash) continue;
    pool.write32(tw + i * SLOT_WORDS, ((u32[tw + i * SLOT_WORDS] & ~mask) | ref) >>> 0);
    hits++;
  }
  return hits;
}
