/**
 * The calls that are not the read and write hot paths: ttl / expire, flushAll /
 * flushExpired, keys, stats and verify. Each is one `locked` body (session.ts).
 */
import { DictError } from '../errors.js';
import { checkEntryRef, corrupt } from './damage.js';
import { entryUnits, slotOfRef } from './entries.js';
import { expireStep, flushExpiredLocked } from './expiry.js';
import {
  D_BYTES8,
  D_COUNT,
  D_FLUSH_GEN,
  D_GRAVE,
  D_LRU_HEAD,
  D_LRU_TAIL,
  E_HASH,
  E_NEXT,
  E_PREV,
  E_VLEN,
  ENTRY_HEADER_BYTES,
  L_LEN,
  L_NEXT,
  LIST_HEAD,
  T_LIST,
} from './layout.js';
import { elementSize } from './lists.js';
import type { DictStats } from './options.js';
import { dictCounters } from './read-stats.js';
import { locked, type DictSession } from './session.js';
import { DictStatus } from './status.js';
import { expiryAt } from './validate.js';

/** The loaded key's entry when live (lastStatus OK), else 0 with NOT_FOUND. */
function liveEntry(s: DictSession, now: number): number {
  const e = s.lookup();
  if (e === 0 || !s.core.isLive(e, now)) {
    s.lastStatus = DictStatus.NOT_FOUND;
    return 0;
  }
  s.lastStatus = DictStatus.OK;
  return e;
}

/** Remaining ms of the loaded key (0 = forever), `undefined` when missing or expired. */
export function ttlOf(s: DictSession): number | undefined {
  return locked(s, false, ttlBody, 0, 0, 0, 0);
}

function ttlBody(s: DictSession): number | undefined {
  const now = s.now();
  const e = liveEntry(s, now);
  if (e === 0) return undefined;
  const at = s.core.expires(e);
  return at === 0 ? 0 : at - now;
}

/** Give the loaded key `ttl` ms from now (checked by the caller); false when not live. */
export function expire(s: DictSession, ttl: number): boolean {
  return locked(s, false, expireBody, ttl, 0, 0, 0);
}

function expireBody(s: DictSession, ttl: number): boolean {
  const now = s.now();
  const e = liveEntry(s, now);
  if (e === 0) return false;
  const sw = s.enter();
  s.core.setExpires(e, expiryAt(now, ttl));
  s.leave(sw);
  return true;
}

/** Expire everything (the flush generation moves on), then one eviction step. */
export function flushAll(s: DictSession): void {
  locked(s, false, flushAllBody, 0, 0, 0, 0);
}

function flushAllBody(s: DictSession): void {
  const c = s.core;
  c.w(c.hw + D_FLUSH_GEN, (c.u32[c.hw + D_FLUSH_GEN] + 1) >>> 0);
  c.pool.commit();
  expireStep(c, s.now(), true, 0);
  s.lastStatus = DictStatus.OK;
}

/** Free at most `max` (0 = all) expired entries; returns how many. */
export function flushExpired(s: DictSession, max: number): number {
  return locked(s, false, flushExpiredBody, max, 0, 0, 0);
}

function flushExpiredBody(s: DictSession, max: number): number {
  s.lastStatus = DictStatus.OK;
  return flushExpiredLocked(s.core, s.now(), max);
}

/** Live keys from the LRU tail, at most `max` (0 = all), as strings or Buffers. */
export function keys(s: DictSession, max: number, binary: boolean): (string | Buffer)[] {
  const out = locked(s, false, keysBody, max, binary, 0, 0);
  s.lastStatus = DictStatus.OK;
  return out;
}

function keysBody(s: DictSession, max: number, binary: boolean): (string | Buffer)[] {
  const c = s.core;
  const out: (string | Buffer)[] = [];
  const now = s.now();
  let t = c.u32[c.hw + D_LRU_TAIL];
  // Bounded by COUNT: a cycle or a stray link in the LRU is damage (damage.ts).
  for (let steps = c.u32[c.hw + D_COUNT]; t !== 0 && (max === 0 || out.length < max); steps--) {
    if (steps === 0) corrupt('the LRU is longer than COUNT');
    checkEntryRef(c, t, 'LRU');
    if (c.isLive(t, now)) {
      const off = t * 8 + ENTRY_HEADER_BYTES;
      const end = off + c.keyLen(t);
      out.push(binary ? Buffer.from(c.u8.slice(off, end)) : c.zbuf.toString('utf8', off, end));
    }
    t = c.u32[t * 2 + E_PREV];
  }
  return out;
}

export function stats(s: DictSession): DictStats {
  return locked(s, false, statsBody, 0, 0, 0, 0);
}

function statsBody(s: DictSession): DictStats {
  const c = s.core;
  return dictCounters(c.u32, c.f64, c.hw);
}

/**
 * The slab's and the dict's invariants under the lock: every LRU entry is in the index at
 * the slot its hash leads to, the LRU links are symmetric, COUNT and BYTES8 match what is
 * linked, list lengths match their elements, the graveyard is empty
 * (test/dict/94.verify-dict.test.ts).
 */
export function verify(s: DictSession): void {
  locked(s, false, verifyBody, 0, 0, 0, 0);
}

function verifyBody(s: DictSession): void {
  const c = s.core;
  s.pool.verify();
  const u32 = c.u32;
  const hw = c.hw;
  const bad = (what: string): never => {
    throw new DictError('ERR_DICT_CORRUPT', `dict "${s.name}": ${what}`);
  };
  let n = 0;
  let units = 0;
  let prev = 0;
  for (let e = u32[hw + D_LRU_HEAD]; e !== 0; e = u32[e * 2 + E_NEXT]) {
    if (++n > u32[hw + D_COUNT]) bad(`LRU longer than COUNT ${u32[hw + D_COUNT]}`);
    if (u32[e * 2 + E_PREV] !== prev) bad(`entry ${e}: PREV ${u32[e * 2 + E_PREV]} != ${prev}`);
    if (slotOfRef(c, u32[e * 2 + E_HASH], e) < 0) bad(`entry ${e} is not reachable in the index`);
    units += entryUnits(c, e);
    if (c.type(e) === T_LIST) {
      let len = 0;
      const vw = c.valueOffset(e) / 4;
      for (let l = u32[vw + LIST_HEAD]; l !== 0; l = u32[l * 2 + L_NEXT]) {
        if (++len > u32[e * 2 + E_VLEN]) bad(`list entry ${e} has more elements than VLEN`);
        units += elementSize(u32[l * 2 + L_LEN]) / 8;
      }
      if (len !== u32[e * 2 + E_VLEN])
        bad(`list entry ${e}: ${len} elements, VLEN ${u32[e * 2 + E_VLEN]}`);
    }
    prev = e;
  }
  if (prev !== u32[hw + D_LRU_TAIL]) bad(`LRU tail ${u32[hw + D_LRU_TAIL]} != last entry ${prev}`);
  if (n !== u32[hw + D_COUNT]) bad(`LRU has ${n} entries, COUNT says ${u32[hw + D_COUNT]}`);
  if (units !== u32[hw + D_BYTES8]) {
    bad(`linked entries take ${units * 8} bytes, BYTES8 says ${u32[hw + D_BYTES8] * 8}`);
  }
  if (u32[hw + D_GRAVE] !== 0) bad('graveyard not empty');
}
