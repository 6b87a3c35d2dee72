/**
 * The dict's view of its shared memory: typed-array views over the zone, the header's word
 * index, and small named accessors so that the algorithms read like field access.
 *
 * Conventions: `e`, `l`, `t` are refs (byte offset / 8, see layout.ts); `ew` = e * 2 is the
 * entry's first word; `hw` the header's first word. Every store to a word that is reachable
 * from the header goes through `w()` = `pool.write32` (journaled).
 */
import type { DictPool } from './pool.js';
import {
  D_COUNT,
  D_FLUSH_GEN,
  E_EXP_HI,
  E_EXP_LO,
  E_GEN,
  E_META,
  ENTRY_HEADER_BYTES,
  META_KEYLEN_MASK,
  META_TYPE_MASK,
  META_TYPE_SHIFT,
  align8,
  slotRefMask,
} from './layout.js';

const TWO_32 = 4294967296;

export class DictCore {
  readonly pool: DictPool;
  readonly u8: Uint8Array;
  readonly u32: Uint32Array;
  readonly i32: Int32Array;
  readonly f64: Float64Array;
  /** A Buffer over the whole zone, for utf8 encode/decode and copies without subarrays. */
  readonly zbuf: Buffer;
  /** Word index of the dict header (0 until attached). */
  hw = 0;
  /** Byte offset of the header this core was set up for (the zone's ROOT value). */
  root = 0;
  /** An index slot's REF bits (`slot & slotRefMask`) in this zone; layout.ts, "Index table". */
  readonly slotRefMask: number;
  /** The other bits of a slot: the key hash's top bits (`(slot ^ hash) & slotHashMask`). */
  readonly slotHashMask: number;

  constructor(pool: DictPool) {
    this.pool = pool;
    this.u8 = pool.u8;
    this.u32 = pool.u32;
    this.i32 = pool.i32;
    const buf = pool.u8.buffer;
    // The f64 view covers the zone from its (8-aligned) start; byte offset b <-> f64[b / 8].
    this.f64 = new Float64Array(buf, pool.u8.byteOffset, pool.u8.byteLength >>> 3);
    this.zbuf = Buffer.from(buf, pool.u8.byteOffset, pool.u8.byteLength);
    this.slotRefMask = slotRefMask(pool.u8.byteLength);
    this.slotHashMask = ~this.slotRefMask >>> 0;
  }

  /** Journaled metadata store (caller holds the lock). */
  w(word: number, value: number): void {
    this.pool.write32(word, value);
  }

  /** Bytes in the zone. */
  get size(): number {
    return this.u8.length;
  }

  /** Key length of entry `e`. */
  keyLen(e: number): number {
    return this.u32[e * 2 + E_META] & META_KEYLEN_MASK;
  }

  /** Value type of entry `e`. */
  type(e: number): number {
    return (this.u32[e * 2 + E_META] >>> META_TYPE_SHIFT) & META_TYPE_MASK;
  }

  /** Byte offset of entry `e`'s value. */
  valueOffset(e: number): number {
    return e * 8 + ENTRY_HEADER_BYTES + align8(this.keyLen(e));
  }

  /** Absolute expiry (ms), 0 = never. */
  expires(e: number): number {
    const ew = e * 2;
    return this.u32[ew + E_EXP_HI] * TWO_32 + this.u32[ew + E_EXP_LO];
  }

  /** Journaled store of an absolute expiry. */
  setExpires(e: number, at: number): void {
    const ew = e * 2;
    this.w(ew + E_EXP_LO, at >>> 0);
    this.w(ew + E_EXP_HI, Math.floor(at / TWO_32));
  }

  /** Not flushed and not past its expiry at `now`. */
  isLive(e: number, now: number): boolean {
    const ew = e * 2;
    if (this.u32[ew + E_GEN] !== this.u32[this.hw + D_FLUSH_GEN]) return false;
    const hi = this.u32[ew + E_EXP_HI];
    const lo = this.u32[ew + E_EXP_LO];
    return (hi | lo) === 0 || hi * TWO_32 + lo > now;
  }

  /** Does entry `e` hold exactly `kb[0..klen)` as its key? */
  keyEquals(e: number, kb: Uint8Array, klen: number): boolean {
    if ((this.u32[e * 2 + E_META] & META_KEYLEN_MASK) !== klen) return false;
    const u8 = this.u8;
    const base = e * 8 + ENTRY_HEADER_BYTES;
    for (let i = 0; i < klen; i++) if (u8[base + i] !== kb[i]) return false;
    return true;
  }

  get count(): number {
    return this.u32[this.hw + D_COUNT];
  }
}

/** Split an absolute expiry into the two words the entry stores. */
export function expLo(at: number): number {
  return at >>> 0;
}
export function expHi(at: number): number {
  return Math.floor(at / TWO_32);
}
