/**
 * Batch calls of SharedDict: getMany, hasMany, setMany, deleteMany.
 *
 * getMany overlaps the cache misses of independent keys: it hashes every key first, then
 * loads every key's first index slot, then every entry those slots name (each line of its
 * first TOUCH_BYTES), and only then runs the ordinary lock-free get per key, which now finds
 * its lines in the cache. The loads of
 * one pass do not depend on each other, so the CPU keeps several misses in flight, where a
 * loop over get waits for each slot and then each entry in turn. The touch passes read
 * without validation (any word may be torn; offsets are bounds-checked and nothing read
 * there is returned): correctness stays with get.
 */
import { DictError, describeValue } from '../errors.js';
import { checkFlags, checkTtl } from './validate.js';
import type { DictCore } from './core.js';
import { KeyScratch } from './hash.js';
import {
  D_MASK,
  D_TABLE,
  E_META,
  E_VLEN,
  ENTRY_HEADER_BYTES,
  LINE_WORDS,
  META_KEYLEN_MASK,
  SLOT_WORDS,
} from './layout.js';
import { ValueInfo } from './codec.js';
import type { ValueCodecs } from './values.js';

/** One entry of setMany: a key, its value, and optionally a TTL in ms and user flags. */
export interface SetManyEntry {
  key: string | Uint8Array;
  value: unknown;
  ttl?: number;
  flags?: number;
}

/** The `keys` argument of a batch call, checked (DictError ERR_DICT_KEYS). */
export function checkKeyList(keys: unknown, what = 'keys'): readonly (string | Uint8Array)[] {
  if (!Array.isArray(keys)) {
    throw new DictError(
      'ERR_DICT_KEYS',
      `The "${what}" argument must be an array, got ${describeValue(keys)}`,
    );
  }
  return keys as (string | Uint8Array)[];
}

const scratch = new KeyScratch();
/** How much of each entry the touch passes load ahead: larger values stream in sequence. */
const TOUCH_BYTES = 256;
let sink = 0;

/**
 * The touch passes of getMany: every key validated and hashed (DictError ERR_DICT_KEY_*
 * before anything is read), its first slot loaded, then its entry's first word.
 */
export function touchKeys(c: DictCore, keys: readonly (string | Uint8Array)[]): void {
  const n = keys.length;
  const hashes = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    scratch.load(keys[i]);
    hashes[i] = scratch.hash;
  }
  const u32 = c.u32;
  const words = u32.length;
  const hw = c.hw;
  const tw = u32[hw + D_TABLE] * 2;
  const mask = u32[hw + D_MASK];
  if (((mask + 1) & mask) !== 0 || tw + (mask + 1) * SLOT_WORDS > words) return;
  const refs = hashes; // reused: each hash is needed only to find its slot
  const refMask = c.slotRefMask;
  for (let i = 0; i < n; i++) refs[i] = u32[tw + (hashes[i] & mask) * SLOT_WORDS] & refMask;
  let acc = 0;
  for (let i = 0; i < n; i++) {
    const ew = refs[i] * 2;
    if (ew !== 0 && ew < words) acc ^= u32[ew];
  }
  // Each entry's first line is in cache now, with its key and value lengths: load one word of
  // each further line the get will copy (up to TOUCH_BYTES), so those misses overlap too. (A
  // list's VLEN counts elements: its entry is shorter than this says, and only loads are lost.)
  for (let i = 0; i < n; i++) {
    const ew = refs[i] * 2;
    if (ew === 0 || ew + E_VLEN >= words) continue;
    const keyBytes = ((u32[ew + E_META] & META_KEYLEN_MASK) + 7) & ~7;
    const bytes = ENTRY_HEADER_BYTES + keyBytes + u32[ew + E_VLEN];
    const end = Math.min(ew + (Math.min(bytes, TOUCH_BYTES) >>> 2), words);
    for (let w = ew + LINE_WORDS; w < end; w += LINE_WORDS) acc ^= u32[w];
    if (end - 1 > ew) acc ^= u32[end - 1];
  }
  sink ^= acc; // keeps the loads
}

/** Reads `sink` so that no compiler can prove the touch loads dead. */
export function touchSink(): number {
  return sink;
}

/**
 * Check every entry of setMany before any is stored (DictError: ERR_DICT_KEYS,
 * ERR_DICT_KEY_*, ERR_DICT_VALUE_*, ERR_DICT_TTL, ERR_DICT_FLAGS): a batch with one bad
 * entry stores nothing.
 */
export function checkEntries(entries: unknown, codecs: ValueCodecs): readonly SetManyEntry[] {
  const list = checkKeyList(entries, 'entries');
  const vi = new ValueInfo();
  vi.codecs = codecs;
  for (const entry of list as unknown[]) {
    if (typeof entry !== 'object' || entry === null) {
      throw new DictError(
        'ERR_DICT_KEYS',
        `Each entry must be { key, value, ttl?, flags? }, got ${describeValue(entry)}`,
      );
    }
    const { key, value, ttl, flags } = entry as SetManyEntry;
    scratch.load(key);
    if (value !== null && value !== undefined) vi.classify(value);
    checkTtl(ttl);
    checkFlags(flags);
  }
  return list as unknown as SetManyEntry[];
}
