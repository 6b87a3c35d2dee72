/**
 * Overwriting a linked entry in place, the way lua_shared_dict reuses an entry whose chunk
 * fits the new value: no allocation, so a full dict stores it without evicting anyone and
 * `safeSet` does not fail (test/dict/72.overwrite-in-place.test.ts).
 *
 * The dict's normal store is copy-on-write (a fresh entry filled with plain stores, then
 * linked). This path is used only when that allocation fails. It keeps the same promise that a
 * writer killed at any point leaves the old value or the new one: every word it changes goes
 * through the undo journal (`c.w`), value words included, so a dead writer's stores are all
 * rolled back by the next locker (the in-place sweep of test/crash/20.crash-points.test.ts).
 * The journal holds JOURNAL_CAPACITY entries per commit; the value is therefore bounded by
 * IN_PLACE_MAX_VALUE_BYTES, and larger values take the normal path (which may evict).
 *
 * Lock-free readers see the entry change inside the key's stripe section (seqEnter/seqLeave),
 * so a read that overlaps it retries, exactly as for a copy-on-write store.
 */
import type { DictCore } from './core.js';
import { writeValue, type DictValue } from './codec.js';
import { entryUnits } from './entries.js';
import {
  D_BYTES8,
  D_FLUSH_GEN,
  D_SEQ,
  E_FLAGS,
  E_GEN,
  E_META,
  E_VLEN,
  ENTRY_HEADER_BYTES,
  META_KEYLEN_MASK,
  META_TYPE_SHIFT,
  T_LIST,
  align8,
} from './layout.js';
import { lruTouch } from './lru.js';
import { seqEnter, seqLeave, stripeWord } from './seqlock.js';
import { bumpKeyVersion } from './versions.js';

/**
 * Largest value written in place: its words plus the header, LRU and count words stay well
 * inside one commit's journal (1,024 entries; the path commits first).
 */
export const IN_PLACE_MAX_VALUE_BYTES = 3584;

/** The new value's bytes, built off to the side and then copied word by word, journaled. */
export class OverwriteScratch {
  readonly u8 = new Uint8Array(IN_PLACE_MAX_VALUE_BYTES);
  readonly u32 = new Uint32Array(this.u8.buffer);
  readonly f64 = new Float64Array(this.u8.buffer);
  readonly zbuf = Buffer.from(this.u8.buffer);
}

/**
 * Can linked entry `e` (usable chunk bytes `usable`) take a value of `type`/`vlen` in place?
 * Not lists (their elements live elsewhere), not values over IN_PLACE_MAX_VALUE_BYTES.
 */
export function fitsInPlace(
  c: DictCore,
  e: number,
  usable: number,
  type: number,
  vlen: number,
): boolean {
  if (type === T_LIST || c.type(e) === T_LIST || vlen > IN_PLACE_MAX_VALUE_BYTES) return false;
  return ENTRY_HEADER_BYTES + align8(c.keyLen(e)) + vlen <= usable;
}

/**
 * Rewrites entry `e`'s value, type, flags and expiry (lock held, `fitsInPlace` true, nothing
 * uncommitted pending), makes it the most recent, and adjusts the byte count. Journaled.
 */
export function overwriteInPlace(
  c: DictCore,
  scratch: OverwriteScratch,
  e: number,
  hash: number,
  type: number,
  vlen: number,
  value: DictValue,
  flags: number,
  at: number,
): void {
  const ew = e * 2;
  const words = (vlen + 3) >>> 2;
  scratch.u32.fill(0, 0, words); // the last word's bytes past vlen are deterministic
  writeValue(scratch, 0, type, vlen, value);
  c.pool.commit(); // the journal starts empty: room for every word below
  const unitsBefore = entryUnits(c, e);
  const sw = stripeWord(c.u32[c.hw + D_SEQ] * 2, hash);
  seqEnter(c.i32, sw);
  bumpKeyVersion(c, hash);
  const vw = (e * 8 + ENTRY_HEADER_BYTES + align8(c.keyLen(e))) >>> 2;
  const src = scratch.u32;
  for (let k = 0; k < words; k++) c.w(vw + k, src[k]);
  c.w(ew + E_META, (c.u32[ew + E_META] & META_KEYLEN_MASK) | (type << META_TYPE_SHIFT));
  c.w(ew + E_VLEN, vlen);
  c.w(ew + E_FLAGS, flags);
  c.setExpires(e, at);
  c.w(ew + E_GEN, c.u32[c.hw + D_FLUSH_GEN]);
  lruTouch(c, e);
  c.w(c.hw + D_BYTES8, c.u32[c.hw + D_BYTES8] - unitsBefore + entryUnits(c, e));
  seqLeave(c.i32, sw);
}
