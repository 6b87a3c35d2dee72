/**
 * Building a dict in an empty (or reset) pool, and checking one found in an attached zone.
 */
import { DictError } from '../errors.js';
import type { DictPool } from './pool.js';
import {
  D_MAGIC,
  D_MASK,
  D_POOL_GEN,
  D_REFBITS,
  D_REPAIRED,
  D_REF_MASK,
  D_SEQ,
  D_STATS,
  D_TABLE,
  D_VERSION,
  D_VERSIONS,
  D_VER_MASK,
  DICT_MAGIC,
  DICT_VERSION,
  HEADER_BYTES,
  LINE_WORDS,
  SEQ_BYTES,
  SEQ_STRIPES,
  SLOT_WORDS,
  STATS_BYTES,
  TABLE_MIN_SLOTS,
  refbitsFor,
  versionsFor,
} from './layout.js';

/**
 * Allocate and fill a dict header and its areas. Caller holds the lock; the returned byte
 * offset becomes reachable only when the caller stores it in the zone's ROOT word, so every
 * store here is plain. Throws DictError ERR_DICT_ZONE_TOO_SMALL (after freeing what it took).
 */
export function dictCreateLocked(pool: DictPool): number {
  const refbits = refbitsFor(pool.capacity);
  const versions = versionsFor(refbits);
  const sizes = [
    HEADER_BYTES,
    TABLE_MIN_SLOTS * SLOT_WORDS * 4,
    SEQ_BYTES,
    STATS_BYTES,
    refbits,
    versions * 4,
  ];
  const offs: number[] = [];
  for (const size of sizes) {
    const off = pool.callocLocked(size);
    if (off === 0) {
      for (const o of offs) pool.freeLocked(o);
      throw new DictError(
        'ERR_DICT_ZONE_TOO_SMALL',
        `The zone of ${pool.capacity} bytes has no room for a dict (needs about ${sizes.reduce((a, b) => a + b, 0)} bytes plus entries)`,
      );
    }
    offs.push(off);
  }
  const [hdr, table, seq, stats, bits, vers] = offs;
  const u32 = pool.u32;
  const hw = hdr / 4;
  u32[hw + D_VERSION] = DICT_VERSION;
  u32[hw + D_TABLE] = table / 8;
  u32[hw + D_MASK] = TABLE_MIN_SLOTS - 1;
  u32[hw + D_SEQ] = seq / 8;
  u32[hw + D_STATS] = stats / 8;
  u32[hw + D_REFBITS] = bits / 8;
  u32[hw + D_REF_MASK] = refbits - 1;
  u32[hw + D_VERSIONS] = vers / 8;
  u32[hw + D_VER_MASK] = versions - 1;
  u32[hw + D_POOL_GEN] = pool.generation;
  // Born repaired: recoveries up to now happened before this dict existed.
  u32[hw + D_REPAIRED] = u32[pool.recoveriesWord];
  // Start the seqlock words at a random even value: a reader still holding a copy of a
  // previous dict's words (after a reset) cannot match them by accident.
  const start = (Math.floor(Math.random() * 0x3fffffff) * 2) | 0;
  for (let s = 0; s <= SEQ_STRIPES; s++) u32[seq / 4 + s * LINE_WORDS] = start;
  u32[hw + D_MAGIC] = DICT_MAGIC;
  return hdr;
}

/** Is there a valid dict header at byte `off`? (Magic and version only; see `dictCurrent`.) */
export function dictValid(pool: DictPool, off: number): boolean {
  if (off === 0 || off % 8 !== 0 || off + HEADER_BYTES > pool.u8.length) return false;
  const hw = off / 4;
  return pool.u32[hw + D_MAGIC] === DICT_MAGIC && pool.u32[hw + D_VERSION] === DICT_VERSION;
}

/**
 * Is there a valid dict header at byte `off` that was built in the pool's current generation?
 * After a reset the old header lies in free memory, often intact: its magic still reads
 * right, its D_POOL_GEN does not.
 */
export function dictCurrent(pool: DictPool, off: number): boolean {
  return dictValid(pool, off) && pool.u32[off / 4 + D_POOL_GEN] === pool.generation;
}
