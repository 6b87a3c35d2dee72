/**
 * The set family (set, safeSet, add, safeAdd, replace), delete and incr, with eviction.
 * A store writes the new entry first, then links it, then frees the old one, so a failed
 * allocation keeps the old value. When no fresh chunk is to be had, an old entry whose chunk
 * takes the new value is overwritten in place (overwrite.ts) rather than evicting others or
 * failing a safeSet, as Lua does (test/dict/72.overwrite-in-place.test.ts).
 */
import { DictError } from '../errors.js';
import type { DictValue } from './codec.js';
import { allocationCeiling, entryDrop, entryFill, entrySize, reapGraveyard } from './entries.js';
import { expireStep } from './expiry.js';
import {
  D_BYTES8,
  D_FLUSH_GEN,
  D_GRAVE,
  D_SETS,
  E_FLAGS,
  E_GEN,
  T_NUMBER,
  T_V8,
  align8,
} from './layout.js';
import { lruPushHead, lruReplace, lruTouch } from './lru.js';
import { fitsInPlace, overwriteInPlace, OverwriteScratch } from './overwrite.js';
import { locked, type DictSession } from './session.js';
import { DictStatus, FAILED, STORED, STORED_FORCIBLY, type StoreResult } from './status.js';
import { tableInsert, tableSetRef } from './table.js';
import { buildBeforeLock, claimBuiltEntry, retireReplaced, roomForOneMore } from './held-entry.js';
import { checkFlags, checkNumber, checkTtl, expiryAt } from './validate.js';
import { warmBeforeDelete, warmBeforeStore } from './warm.js';

export const MODE_SET = 0;
export const MODE_ADD = 1;
export const MODE_REPLACE = 2;

/** Evict at least this many times the requested bytes (plus a page) before giving up. */
const EVICTION_BYTES_FACTOR = 4;
const MAX_EVICTION_STEPS = 100_000;

/** Validate, lock, and run one store of the set family (key loaded by the caller). */
export function store(
  s: DictSession,
  mode: number,
  evict: boolean,
  value: unknown,
  ttl: number | undefined,
  flags: number | undefined,
): StoreResult {
  if (value === null || value === undefined) {
    if (mode !== MODE_SET) {
      throw new DictError(
        'ERR_DICT_VALUE_TYPE',
        'add() and replace() refuse null and undefined values',
      );
    }
    remove(s);
    s.lastStatus = DictStatus.OK;
    return STORED;
  }
  const vi = s.vi;
  vi.classify(value);
  if (vi.type >= T_V8) value = vi.encoded; // a structured value: its codec's bytes
  const ttlMs = checkTtl(ttl);
  const fl = checkFlags(flags);
  warmBeforeStore(s);
  buildBeforeLock(s, vi.type, vi.length, value as DictValue, ttlMs, fl);
  try {
    return locked(s, true, storeBody, mode | (evict ? EVICT : 0), value as DictValue, ttlMs, fl);
  } finally {
    // Not linked (an add of a live key, say): `locked` gave the chunk back after the lock;
    // a lock or sync that threw never got there.
    s.heldEntry = 0;
    s.pool.releaseHeld?.();
  }
}

/** `store`'s mode argument carries `evict` in this bit. */
const EVICT = 4;

function storeBody(
  s: DictSession,
  modeBits: number,
  value: DictValue,
  ttlMs: number,
  flags: number,
): StoreResult {
  const c = s.core;
  const now = s.writeNow; // read as this write began (`locked`)
  const old = s.lookup();
  const mode = modeBits & 3;
  if (mode !== MODE_SET) {
    const live = old !== 0 && c.isLive(old, now);
    if (mode === MODE_ADD && live) {
      s.lastStatus = DictStatus.EXISTS;
      return FAILED;
    }
    if (mode === MODE_REPLACE && !live) {
      s.lastStatus = DictStatus.NOT_FOUND;
      return FAILED;
    }
  }
  const evict = (modeBits & EVICT) !== 0;
  return storeLocked(s, old, evict, s.vi.type, s.vi.length, value, expiryAt(now, ttlMs), flags);
}

/**
 * The store itself (lock held, key in `s.key`, `old` from `s.lookup()` after the expire
 * step, its slot in `s.slot`). Sets lastStatus.
 */
export function storeLocked(
  s: DictSession,
  old: number,
  evict: boolean,
  type: number,
  vlen: number,
  value: DictValue | null,
  at: number,
  flags: number,
): StoreResult {
  const c = s.core;
  const k = s.key;
  const size = entrySize(k.length, type, vlen);
  const built = claimBuiltEntry(s, old === 0);
  let off = built !== 0 ? built : reserve(s, size, old === 0, old, evict && old === 0);
  if (off === 0 && old !== 0) {
    if (fitsInPlace(c, old, s.pool.usableSize(old * 8), type, vlen)) {
      s.overwriteScratch ??= new OverwriteScratch();
      overwriteInPlace(c, s.overwriteScratch, old, k.hash, type, vlen, value!, flags, at);
      countStore(s);
      s.lastStatus = DictStatus.OK;
      return STORED;
    }
    if (evict) off = reserve(s, size, false, old, true);
  }
  if (off === 0) {
    s.lastStatus = s.forcible ? DictStatus.NO_MEMORY_FORCIBLE : DictStatus.NO_MEMORY;
    return FAILED;
  }
  if (built === 0) entryFill(c, off, k.hash, k.bytes, k.length, type, vlen, flags, at, value);
  const e = off / 8;
  if (s.forcible && old !== 0) s.lookup(); // evictions may have shifted slots
  const sw = s.enter();
  if (old !== 0) {
    tableSetRef(c, s.slot, e);
    lruReplace(c, old, e);
    retireReplaced(s, old);
  } else {
    tableInsert(c, k.hash, e);
    lruPushHead(c, e);
  }
  c.w(c.hw + D_BYTES8, c.u32[c.hw + D_BYTES8] + align8(size) / 8);
  countStore(s);
  s.leave(sw);
  if (c.u32[c.hw + D_GRAVE] !== 0) reapGraveyard(c);
  if (s.forcible) {
    s.lastStatus = DictStatus.FORCIBLE;
    return STORED_FORCIBLY;
  }
  s.lastStatus = DictStatus.OK;
  return STORED;
}

/**
 * Allocate `size` bytes for a new entry (and, when `needSlot`, make sure the index has room
 * for one more key), running eviction steps when allowed. `keep` is never evicted. Returns
 * the byte offset or 0; sets `s.forcible`. Commits after each eviction or resize.
 * It runs at least `evictionTries` steps (Lua's 30) and keeps going until the evicted
 * entries add up to EVICTION_BYTES_FACTOR x (size + a page), capped at MAX_EVICTION_STEPS;
 * a store that could not fit even in an empty zone evicts nothing (allocationCeiling).
 * Why 30 steps alone are too few: docs/performance.md; test/dict/70.eviction.test.ts.
 */
function reserve(
  s: DictSession,
  size: number,
  needSlot: boolean,
  keep: number,
  evict: boolean,
): number {
  const c = s.core;
  const pool = s.pool;
  let forcible = false;
  let freed8 = 0;
  const budget8 = (EVICTION_BYTES_FACTOR * (size + 4096)) / 8;
  for (let tries = 0; ; tries++) {
    if (!needSlot || roomForOneMore(s)) {
      // Refilling: the thread cache gets chunks for the next store's build (held-entry.ts).
      const off =
        pool.allocRefilling !== undefined ? pool.allocRefilling(size) : pool.allocLocked(size);
      if (off !== 0) {
        s.forcible = forcible;
        return off;
      }
    }
    if (!evict || s.tries === 0 || tries >= MAX_EVICTION_STEPS) break;
    if (tries === 0 && size > allocationCeiling(c)) break; // would not fit in an empty zone
    if (tries >= s.tries && freed8 >= budget8) break;
    if (tries === 0 && keep !== 0) lruTouch(c, keep); // keep is the most recent: evicted last
    const before = c.u32[c.hw + D_BYTES8];
    if (expireStep(c, s.now(), true, keep) === 0) break;
    freed8 += before - c.u32[c.hw + D_BYTES8];
    forcible = true;
  }
  s.forcible = forcible;
  return 0;
}

/** Bumps the SETS statistic (layout.ts D_SETS: a plain store under the lock, no journal). */
function countStore(s: DictSession): void {
  const c = s.core;
  c.u32[c.hw + D_SETS] = (c.u32[c.hw + D_SETS] + 1) >>> 0;
}

/** delete of the loaded key: true when a live value was removed. */
export function remove(s: DictSession): boolean {
  warmBeforeDelete(s);
  return locked(s, true, removeBody, 0, 0, 0, 0);
}

function removeBody(s: DictSession): boolean {
  const e = s.lookup();
  if (e === 0) {
    s.lastStatus = DictStatus.NOT_FOUND;
    return false;
  }
  const live = s.core.isLive(e, s.now());
  dropAndReap(s, s.slot, e);
  s.lastStatus = live ? DictStatus.OK : DictStatus.NOT_FOUND;
  return live;
}

/** Drop the entry in `slot`, commit, and free any graveyard list. */
export function dropAndReap(s: DictSession, slot: number, e: number): void {
  const c = s.core;
  entryDrop(c, slot, e);
  c.pool.commit();
  if (c.u32[c.hw + D_GRAVE] !== 0) reapGraveyard(c);
}

/** incr of the loaded key (see SharedDict.incr); `init` undefined: no init. */
export function incr(
  s: DictSession,
  by: number,
  init: number | undefined,
  initTtl: number | undefined,
): number | undefined {
  checkNumber(by, 'by');
  if (init !== undefined) checkNumber(init, 'init');
  else if (initTtl !== undefined) {
    throw new DictError('ERR_DICT_TTL', 'The "initTtl" argument needs the "init" argument');
  }
  const ttl = checkTtl(initTtl, 'initTtl');
  warmBeforeStore(s); // an incr writes the lines a store does: slot, entry, LRU neighbours
  return locked(s, true, incrBody, by, init, ttl, 0);
}

function incrBody(
  s: DictSession,
  by: number,
  init: number | undefined,
  ttl: number,
): number | undefined {
  const c = s.core;
  const now = s.writeNow; // read as this write began (`locked`)
  const old = s.lookup();
  if (old !== 0 && c.isLive(old, now)) {
    if (c.type(old) !== T_NUMBER) {
      s.lastStatus = DictStatus.NOT_NUMBER;
      return undefined;
    }
    const sum = c.f64[c.valueOffset(old) / 8] + by;
    const sw = s.enter();
    writeNumber(s, old, sum);
    s.leave(sw);
    lruTouch(c, old);
    countStore(s);
    s.lastStatus = DictStatus.OK;
    return sum;
  }
  if (init === undefined) {
    s.lastStatus = DictStatus.NOT_FOUND;
    return undefined;
  }
  const sum = init + by;
  const at = expiryAt(now, ttl);
  if (old !== 0 && c.type(old) === T_NUMBER) {
    // Lua reuses an expired 8-byte node in place: value, flags, expiry, generation.
    const ew = old * 2;
    const sw = s.enter();
    writeNumber(s, old, sum);
    c.w(ew + E_FLAGS, 0);
    c.setExpires(old, at);
    c.w(ew + E_GEN, c.u32[c.hw + D_FLUSH_GEN]);
    s.leave(sw);
    lruTouch(c, old);
    countStore(s);
    s.lastStatus = DictStatus.OK;
    return sum;
  }
  const r = storeLocked(s, old, true, T_NUMBER, 8, sum, at, 0);
  if (r === FAILED) return undefined;
  s.lastStatus = r === STORED_FORCIBLY ? DictStatus.FORCIBLE : DictStatus.OK;
  return sum;
}

const NUM_F64 = new Float64Array(1);
const NUM_U32 = new Uint32Array(NUM_F64.buffer);

/** Store a float64 into a live entry's value as two journaled words (inside a section). */
function writeNumber(s: DictSession, e: number, value: number): void {
  const c = s.core;
  NUM_F64[0] = value;
  const w = c.valueOffset(e) / 4;
  c.w(w, NUM_U32[0]);
  c.w(w + 1, NUM_U32[1]);
}
