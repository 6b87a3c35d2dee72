/**
 * lpush / rpush / lpop / rpop / llen over the list entries of lists.ts. Pushes never evict
 * (as Lua's); an expired list is emptied and reused, an expired non-list replaced
 * (test/dict/50.lists.test.ts).
 */
import { DictError, describeValue } from '../errors.js';
import type { DictValue } from './codec.js';
import { D_FLUSH_GEN, E_EXP_HI, E_EXP_LO, E_FLAGS, E_GEN, E_VLEN, T_LIST, T_V8 } from './layout.js';
import { elementCreate, listClear, listPop, listPush } from './lists.js';
import { lruTouch } from './lru.js';
import { locked, type DictSession } from './session.js';
import { DictStatus, FAILED } from './status.js';
import { dropAndReap, storeLocked } from './store.js';

/** Push `value` onto the loaded key's list, at the head when `left`; the new length. */
export function push(s: DictSession, value: DictValue, left: boolean): number | undefined {
  const vi = s.vi;
  vi.classify(value);
  if (vi.type >= T_V8) {
    throw new DictError(
      'ERR_DICT_VALUE_TYPE',
      `List elements must be strings, numbers, booleans or Uint8Arrays, got ${describeValue(value)}`,
    );
  }
  return locked(s, true, pushBody, value, left, 0, 0);
}

function pushBody(s: DictSession, value: DictValue, left: boolean): number | undefined {
  const c = s.core;
  let e = s.lookup();
  let slot = s.slot;
  if (e !== 0) {
    const live = c.isLive(e, s.now());
    const isList = c.type(e) === T_LIST;
    if (live && !isList) {
      s.lastStatus = DictStatus.NOT_LIST;
      return undefined;
    }
    if (!live && isList) {
      // Lua empties an expired list and reuses it.
      listClear(c, e);
      const sw = s.enter();
      c.w(e * 2 + E_FLAGS, 0);
      c.w(e * 2 + E_EXP_LO, 0);
      c.w(e * 2 + E_EXP_HI, 0);
      c.w(e * 2 + E_GEN, c.u32[c.hw + D_FLUSH_GEN]);
      s.leave(sw);
      lruTouch(c, e);
      c.pool.commit();
    } else if (!live) {
      dropAndReap(s, slot, e);
      e = 0;
    }
  }
  let created = false;
  if (e === 0) {
    if (storeLocked(s, 0, false, T_LIST, 0, null, 0, 0) === FAILED) return undefined;
    c.pool.commit();
    e = s.lookup();
    slot = s.slot;
    created = true;
  }
  const l = elementCreate(c, s.vi.type, s.vi.length, value);
  if (l === 0) {
    if (created) dropAndReap(s, slot, e);
    s.lastStatus = DictStatus.NO_MEMORY;
    return undefined;
  }
  const sw = s.enter();
  const n = listPush(c, e, l, left);
  s.leave(sw);
  if (!created) lruTouch(c, e);
  s.lastStatus = DictStatus.OK;
  return n;
}

/** Pop the head (`left`) or tail of the loaded key's list; the key goes with its last element. */
export function pop(s: DictSession, left: boolean): DictValue | undefined {
  return locked(s, true, popBody, left, 0, 0, 0);
}

function popBody(s: DictSession, left: boolean): DictValue | undefined {
  const c = s.core;
  const e = liveList(s);
  if (e === 0) return undefined;
  const sw = s.enter();
  const value = listPop(c, e, left);
  s.leave(sw);
  if (c.u32[e * 2 + E_VLEN] === 0) {
    c.pool.commit();
    dropAndReap(s, s.slot, e);
  } else {
    lruTouch(c, e);
  }
  s.lastStatus = DictStatus.OK;
  return value;
}

/** Length of the loaded key's list: 0 when missing or expired, `undefined` for a non-list. */
export function llen(s: DictSession): number | undefined {
  return locked(s, true, llenBody, 0, 0, 0, 0);
}

function llenBody(s: DictSession): number | undefined {
  const e = liveList(s);
  if (e !== 0) return s.core.u32[e * 2 + E_VLEN];
  return s.lastStatus === DictStatus.NOT_FOUND ? 0 : undefined;
}

/** The loaded key's live list entry (lastStatus OK), or 0 with NOT_FOUND / NOT_LIST. */
function liveList(s: DictSession): number {
  const c = s.core;
  const e = s.lookup();
  if (e === 0 || !c.isLive(e, s.now())) {
    s.lastStatus = DictStatus.NOT_FOUND;
    return 0;
  }
  if (c.type(e) !== T_LIST) {
    s.lastStatus = DictStatus.NOT_LIST;
    return 0;
  }
  s.lastStatus = DictStatus.OK;
  return e;
}
