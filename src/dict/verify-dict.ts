/**
 * `verifyDictLocked`: checks a dict's shared structures without trusting any word of them and
 * without writing. Every ref is checked to be a live slab chunk large enough for what it
 * claims to be before a word behind it is read (`pool.usableSize` validates like `free()`),
 * and every walk is bounded: the LRU by COUNT, each list by its VLEN, the table by its size,
 * the graveyard by the number of chunks the zone could hold. Damage is reported as DictError
 * `ERR_DICT_CORRUPT` naming the first broken invariant, never looped on or read out of
 * bounds (test/dict/94.verify-dict.test.ts damages each of them).
 *
 * Invariants: the header's areas (TABLE, SEQ, STATS, REFBITS, VERSIONS) are live chunks of their sizes,
 * the table size and REF_MASK + 1 are powers of two; every table slot's entry is a live chunk
 * holding a key of 1..65535 bytes and a known value type, whose bytes hash to the slot's
 * HASH and the entry's E_HASH, reachable from its home slot by probing without crossing an
 * empty slot; the LRU visits exactly the table's entries once each with symmetric links and
 * ends at LRU_TAIL; COUNT is the number of entries; BYTES8 is the size of entries and list
 * elements; every list's elements are live chunks linked both ways, VLEN of them, ending at
 * LIST_TAIL. A graveyard (list entries whose elements are still being freed) is legal: the
 * next locker finishes it; its entries are counted, not required to be absent.
 */
import { DictError } from '../errors.js';
import { hashBytes } from './hash.js';
import { dictCurrent, dictValid } from './init.js';
import {
  D_BYTES8,
  D_COUNT,
  D_GRAVE,
  D_LRU_HEAD,
  D_LRU_TAIL,
  D_MASK,
  D_REFBITS,
  D_REF_MASK,
  D_VERSIONS,
  D_VER_MASK,
  D_SEQ,
  D_STATS,
  D_TABLE,
  E_HASH,
  E_META,
  E_NEXT,
  E_PREV,
  E_VLEN,
  ELEMENT_HEADER_BYTES,
  ENTRY_HEADER_BYTES,
  L_LEN,
  L_NEXT,
  L_PREV,
  LIST_HEAD,
  LIST_TAIL,
  LIST_VALUE_BYTES,
  META_KEYLEN_MASK,
  META_TYPE_MASK,
  META_TYPE_SHIFT,
  SEQ_BYTES,
  SLOT_WORDS,
  STATS_BYTES,
  T_BOOLEAN,
  T_BYTES,
  T_LIST,
  T_NUMBER,
  T_STRING,
  TABLE_MIN_SLOTS,
  align8,
  slotRefMask,
} from './layout.js';
import type { DictPool } from './pool.js';

/** What {@link verifyDictLocked} found. */
export interface DictReport {
  /**
   * `ok`: a dict of the pool's current generation, every invariant holds. `none`: ROOT is 0
   * (no dict built yet). `stale`: ROOT holds a dict of an earlier pool generation (the pool
   * was reset); the next application call rebuilds it empty, nothing in it is read.
   */
  state: 'ok' | 'none' | 'stale';
  entries: number;
  /** Bytes of entry and list element chunks (BYTES8 * 8). */
  bytes: number;
  listElements: number;
  /** List entries on the graveyard, waiting for their elements to be freed. */
  graveyard: number;
}

const KNOWN_TYPES = new Set([T_BOOLEAN, T_NUMBER, T_STRING, T_LIST, T_BYTES]);

/**
 * Checks the dict whose header is at byte `root` of `pool`. Caller holds the pool lock (for
 * a stable answer; nothing is written either way). Throws DictError ERR_DICT_CORRUPT.
 */
export function verifyDictLocked(pool: DictPool, root: number, name: string): DictReport {
  const report: DictReport = { state: 'ok', entries: 0, bytes: 0, listElements: 0, graveyard: 0 };
  if (root === 0) return { ...report, state: 'none' };
  const bad = (what: string): never => {
    throw new DictError('ERR_DICT_CORRUPT', `dict "${name}": ${what}`);
  };
  if (!dictValid(pool, root)) bad(`ROOT ${root} does not hold a dict header`);
  if (!dictCurrent(pool, root)) {
    if (pool.generation === 0) bad(`ROOT ${root} holds a dict of another pool generation`);
    return { ...report, state: 'stale' };
  }
  const u32 = pool.u32;
  const hw = root / 4;
  const chunk = liveChunk(pool, bad);
  checkHeaderAreas(pool, hw, bad);
  const slots = u32[hw + D_MASK] + 1;
  const refMask = slotRefMask(pool.u8.byteLength);
  const hashMask = ~refMask >>> 0;

  /** Checks entry `e` (a ref from the table) and returns its size in 8-byte units. */
  const entry = (e: number): number => {
    const ew = e * 2;
    const size = chunk(e, ENTRY_HEADER_BYTES, `entry ${e}`);
    const klen = u32[ew + E_META] & META_KEYLEN_MASK;
    const type = (u32[ew + E_META] >>> META_TYPE_SHIFT) & META_TYPE_MASK;
    if (klen === 0) bad(`entry ${e}: key length 0`);
    if (!KNOWN_TYPES.has(type)) bad(`entry ${e}: unknown value type ${type}`);
    const vlen = type === T_LIST ? LIST_VALUE_BYTES : u32[ew + E_VLEN];
    const need = ENTRY_HEADER_BYTES + align8(klen) + vlen;
    if (need > size)
      bad(`entry ${e}: key ${klen} + value ${vlen} bytes overflow its ${size}-byte chunk`);
    const kOff = e * 8 + ENTRY_HEADER_BYTES;
    if (hashBytes(pool.u8, kOff, kOff + klen) !== u32[ew + E_HASH])
      bad(`entry ${e}: its key does not hash to its HASH word`);
    return align8(need) / 8;
  };

  // Table: every occupied slot, and where its entry sits relative to its home slot.
  const tw = u32[hw + D_TABLE] * 2;
  const mask = slots - 1;
  const inTable = new Set<number>();
  let units = 0;
  for (let i = 0; i < slots; i++) {
    const slot = u32[tw + i * SLOT_WORDS];
    if (slot === 0) continue;
    const e = slot & refMask;
    if (e === 0) bad(`slot ${i}: hash bits with no entry`);
    if (inTable.has(e)) bad(`entry ${e} is in the table twice`);
    inTable.add(e);
    units += entry(e);
    if (((slot ^ u32[e * 2 + E_HASH]) & hashMask) !== 0)
      bad(`slot ${i}: its hash bits differ from entry ${e}'s HASH`);
    // Linear probing without tombstones: no empty slot between home and i.
    for (let j = u32[e * 2 + E_HASH] & mask; j !== i; j = (j + 1) & mask) {
      if (u32[tw + j * SLOT_WORDS] === 0)
        bad(`entry ${e} in slot ${i} is not reachable from its home slot`);
    }
  }
  const count = u32[hw + D_COUNT];
  if (inTable.size !== count) bad(`the table holds ${inTable.size} entries, COUNT says ${count}`);

  // LRU: exactly the table's entries, each once, links symmetric. Bounded by the table.
  let n = 0;
  let prev = 0;
  for (let e = u32[hw + D_LRU_HEAD]; e !== 0; e = u32[e * 2 + E_NEXT]) {
    if (!inTable.has(e)) bad(`LRU entry ${e} is not in the index`);
    if (++n > count) bad(`the LRU is longer than COUNT ${count} (a cycle or a stray link)`);
    if (u32[e * 2 + E_PREV] !== prev) bad(`entry ${e}: PREV ${u32[e * 2 + E_PREV]} != ${prev}`);
    prev = e;
  }
  if (n !== count) bad(`the LRU has ${n} entries, COUNT says ${count}`);
  if (prev !== u32[hw + D_LRU_TAIL]) bad(`LRU_TAIL ${u32[hw + D_LRU_TAIL]} != last entry ${prev}`);

  // Lists of live entries, then of graveyard entries (already off the table and the LRU).
  const list = (e: number): number => {
    const vw = (e * 8 + ENTRY_HEADER_BYTES + align8(u32[e * 2 + E_META] & META_KEYLEN_MASK)) / 4;
    const expected = u32[e * 2 + E_VLEN];
    let len = 0;
    let listUnits = 0;
    let p = 0;
    for (let l = u32[vw + LIST_HEAD]; l !== 0; l = u32[l * 2 + L_NEXT]) {
      if (++len > expected) bad(`list entry ${e} has more elements than its VLEN ${expected}`);
      const size = chunk(l, ELEMENT_HEADER_BYTES, `list ${e} element ${l}`);
      const need = ELEMENT_HEADER_BYTES + align8(u32[l * 2 + L_LEN]);
      if (need > size) bad(`list ${e} element ${l}: ${need} bytes overflow its ${size}-byte chunk`);
      if (u32[l * 2 + L_PREV] !== p) bad(`list ${e} element ${l}: PREV != ${p}`);
      listUnits += need / 8;
      p = l;
    }
    if (len !== expected) bad(`list entry ${e}: ${len} elements, VLEN ${expected}`);
    if (p !== u32[vw + LIST_TAIL]) bad(`list entry ${e}: LIST_TAIL != last element ${p}`);
    report.listElements += len;
    return listUnits;
  };
  for (const e of inTable)
    if (((u32[e * 2 + E_META] >>> META_TYPE_SHIFT) & 0xff) === T_LIST) units += list(e);
  const maxChunks = Math.floor(pool.capacity / 8);
  for (let g = u32[hw + D_GRAVE]; g !== 0; g = u32[g * 2 + E_NEXT]) {
    if (++report.graveyard > maxChunks) bad('the graveyard does not end');
    if (inTable.has(g)) bad(`graveyard entry ${g} is still in the index`);
    units += entry(g);
    units += list(g);
  }
  if (units !== u32[hw + D_BYTES8])
    bad(`entries take ${units * 8} bytes, BYTES8 says ${u32[hw + D_BYTES8] * 8}`);
  report.entries = count;
  report.bytes = units * 8;
  return report;
}

type Bad = (what: string) => never;

/** `chunk(ref, min, what)`: usable bytes at `ref` after checking it is a live chunk >= `min`. */
function liveChunk(pool: DictPool, bad: Bad) {
  return (ref: number, min: number, what: string): number => {
    let size = 0;
    try {
      size = pool.usableSize(ref * 8);
    } catch {
      bad(`${what}: ref ${ref} is not a live chunk`);
    }
    if (size < min) bad(`${what}: chunk at ref ${ref} has ${size} bytes, needs ${min}`);
    return size;
  };
}

/**
 * The header at word `hw` (already known to be a current dict header): its own chunk, the
 * table size and REF_MASK, and the areas its refs name. O(1); the lock-free reader in
 * read-stats.ts runs it too.
 */
export function checkHeaderAreas(pool: DictPool, hw: number, bad: Bad): void {
  const u32 = pool.u32;
  const chunk = liveChunk(pool, bad);
  chunk(hw / 2, 0, 'header');
  const slots = u32[hw + D_MASK] + 1;
  if (slots > pool.capacity / (SLOT_WORDS * 4))
    bad(`MASK ${slots - 1}: a table larger than the zone`);
  if (slots < TABLE_MIN_SLOTS || (slots & (slots - 1)) !== 0)
    bad(`MASK ${slots - 1}: the table size is not a power of two >= ${TABLE_MIN_SLOTS}`);
  const refBytes = u32[hw + D_REF_MASK] + 1;
  if (refBytes > pool.capacity || (refBytes & (refBytes - 1)) !== 0)
    bad(`REF_MASK ${refBytes - 1} is not a power of two minus one`);
  chunk(u32[hw + D_TABLE], slots * SLOT_WORDS * 4, 'TABLE');
  chunk(u32[hw + D_SEQ], SEQ_BYTES, 'SEQ');
  chunk(u32[hw + D_STATS], STATS_BYTES, 'STATS');
  chunk(u32[hw + D_REFBITS], refBytes, 'REFBITS');
  const versions = u32[hw + D_VER_MASK] + 1;
  if (versions * 4 > pool.capacity || (versions & (versions - 1)) !== 0)
    bad(`VER_MASK ${versions - 1} is not a power of two minus one`);
  chunk(u32[hw + D_VERSIONS], versions * 4, 'VERSIONS');
}
