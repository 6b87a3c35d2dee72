/**
 * The `localCache` option: a per-SharedDict map from string keys to values a lock-free get
 * already decoded. A get of a key found there loads one shared word, the key's version
 * (versions.ts), and returns the kept value when the version has not moved. It skips
 * hashing the key, the index slot, the entry and decoding the value. It stays exact: a store,
 * delete, eviction or expiry of the key anywhere moves the version first, so the next get here
 * reads the shared dict again.
 *
 * What a hit checks, in this order (the order matters; see readShared's closing checks in
 * reads.ts): the key's version word; the flush generation (flush_all); the pool's takeover
 * count against the one this session synced at. A recovery may roll words back without
 * moving versions, so after any recovery every kept value is dropped when the session syncs
 * (`DictSession.syncLocked`). Last, the kept expiry time against the clock.
 *
 * Only immutable values are kept: strings, numbers and booleans, of string keys, from get
 * (not getStale, getInto or has). Binary values and objects come back as a fresh copy on every
 * get, as without the option. At most `capacity` keys, each value at most
 * LOCAL_MAX_VALUE_BYTES; when full, a CLOCK picks the key to drop (`LocalCache`), and a
 * cache whose hit rate falls below one half sits out gets for a while (`consult`).
 *
 * Guarded by test/dict/37.local-cache.test.ts.
 */
import { D_FLUSH_GEN, STAT_HITS_F64, T_BOOLEAN, T_NUMBER, T_STRING } from './layout.js';
import type { DictSession } from './session.js';
import { DictStatus } from './status.js';

/** Values larger than this (stored bytes) are not kept. */
export const LOCAL_MAX_VALUE_BYTES = 64 * 1024;
/** Largest `localCache` option. */
export const LOCAL_MAX_KEYS = 1 << 24;

/**
 * One kept value and what it was valid for. Made when a get fills it, never on a hit. Five
 * small fields, so that a hit touches one or two cache lines of it: the flush generation is
 * the cache's (`LocalCache.flushGen`), and the version word and refbit byte are found from
 * the key's hash (stored as an int32, a small integer to V8).
 */
class KeptValue {
  constructor(
    public value: string | number | boolean,
    public hash: number,
    public version: number,
    public flags: number,
    /** Expiry in ms since the epoch, 0 = never. */
    public expires: number,
    /** 1 when a hit served it since the clock hand last passed (second chance), else 0. */
    public used: number,
  ) {}
}

/**
 * The kept values, at most `capacity`, replaced by a CLOCK: the keys sit in a ring in the
 * order they were first kept; to make room the hand drops the first key whose value no hit
 * used since the hand last passed it, giving used ones a second chance (at most
 * CLOCK_SKIPS of them per insert). Not `Map`'s insertion order: dropping its oldest key with
 * `keys().next()` walks over every deleted slot before it, which made a full cache of 10,000
 * keys cost 5 µs a get (docs/performance.md, "localCache").
 */
export class LocalCache {
  private readonly kept = new Map<string, KeptValue>();
  private readonly ring: string[] = [];
  private hand = 0;
  /** Keys missed once while the cache was full (`keep`), and how many bits were set. */
  private readonly doorkeeper = new Uint8Array(DOOR_BITS / 8);
  private doorCount = 0;
  /**
   * The flush generation every kept value was read in. A hit that finds FLUSHGEN moved on
   * empties the cache first; a read of another generation is not kept.
   */
  flushGen = -1;
  /**
   * What the last `localGet` found for its key, valid or not (null: nothing). The read that
   * follows a miss refreshes it in place (`keepRead`) instead of making a new one: no Map.set,
   * and no old object left for the garbage collector, on every key a store made stale.
   */
  found: KeptValue | null = null;
  /** Lookups in the current sample window (`countLookup`). */
  private lookups = 0;
  /** Hits in the current sample window (`localGet` counts them). */
  hits = 0;
  /** Gets left that skip the cache (`consult`). */
  private bypass = 0;

  constructor(readonly capacity: number) {}

  /**
   * Whether this get looks in the cache at all. A full cache that served fewer than half the
   * lookups of a sample window costs more than it saves: each miss pays a Map probe that
   * finds nothing and an admission attempt on top of the shared read (docs/performance.md,
   * "localCache"). It then sits out the next BYPASS_GETS gets: no lookup, nothing kept. What
   * it keeps meanwhile needs no care, since every lookup checks the key's version.
   * Guarded by test/dict/37.local-cache.test.ts ("sits out gets").
   */
  consult(): boolean {
    if (this.bypass === 0) return true;
    this.bypass--;
    return false;
  }

  /** Counts a lookup; at the end of a sample window, decides whether to sit out gets. */
  countLookup(): void {
    if (++this.lookups < SAMPLE_LOOKUPS) return;
    if (this.ring.length === this.capacity && this.hits * 2 < this.lookups) {
      this.bypass = BYPASS_GETS;
    }
    this.lookups = 0;
    this.hits = 0;
  }

  find(key: string): KeptValue | undefined {
    return this.kept.get(key);
  }

  /**
   * Keep a value under `key`, which is not kept yet. A full cache admits a key only on its
   * second miss since the doorkeeper was last cleared (a bit per hash bucket), so a stream of
   * keys read once does not churn the hot ones out; it then reuses the dropped key's object.
   */
  keep(
    key: string,
    value: string | number | boolean,
    hash: number,
    version: number,
    flags: number,
    expires: number,
  ): void {
    const kept = this.kept;
    const ring = this.ring;
    if (ring.length < this.capacity) {
      ring.push(key);
      kept.set(key, new KeptValue(value, hash, version, flags, expires, 0));
      return;
    }
    const door = this.doorkeeper;
    const bit = hash & (DOOR_BITS - 1);
    if ((door[bit >>> 3] & (1 << (bit & 7))) === 0) {
      door[bit >>> 3] |= 1 << (bit & 7);
      if (++this.doorCount >= this.capacity) {
        door.fill(0);
        this.doorCount = 0;
      }
      return;
    }
    let at = this.hand;
    let old = kept.get(ring[at]);
    for (let skips = 0; skips < CLOCK_SKIPS && old !== undefined && old.used !== 0; skips++) {
      old.used = 0;
      at = at + 1 === ring.length ? 0 : at + 1;
      old = kept.get(ring[at]);
    }
    kept.delete(ring[at]);
    ring[at] = key;
    this.hand = at + 1 === ring.length ? 0 : at + 1;
    if (old === undefined) {
      old = new KeptValue(value, hash, version, flags, expires, 0);
    } else {
      old.value = value;
      old.hash = hash;
      old.version = version;
      old.flags = flags;
      old.expires = expires;
      old.used = 0;
    }
    kept.set(key, old);
  }

  /** Drop everything, as after a flush or a recovery; `flushGen` -1 keeps nothing until set. */
  clear(flushGen = -1): void {
    this.kept.clear();
    this.ring.length = 0;
    this.hand = 0;
    this.doorkeeper.fill(0);
    this.doorCount = 0;
    this.flushGen = flushGen;
    this.found = null;
    this.lookups = 0;
    this.hits = 0;
    this.bypass = 0;
  }
}

/** Used keys the clock hand passes over at most, per insert into a full cache. */
const CLOCK_SKIPS = 8;
/** Doorkeeper bits (a power of two): 8 KiB. */
const DOOR_BITS = 1 << 16;
/** Lookups in one sample window of the hit rate. */
export const SAMPLE_LOOKUPS = 4096;
/** Gets a cache sits out after a window with a low hit rate: 15 windows' worth. */
export const BYPASS_GETS = 15 * SAMPLE_LOOKUPS;

/** Would a get's value of this type and size be kept? */
export function keepable(type: number, vlen: number): boolean {
  return (
    (type === T_STRING || type === T_NUMBER || type === T_BOOLEAN) && vlen <= LOCAL_MAX_VALUE_BYTES
  );
}

/**
 * After a lock-free get of `key` validated (reads.ts): keep what it returned. `version` was
 * loaded inside the validated section, `expires` and `flushGen` are the entry's.
 */
export function keepRead(
  s: DictSession,
  local: LocalCache,
  key: string,
  value: string | number | boolean,
  flags: number,
  expires: number,
  flushGen: number,
  version: number,
): void {
  if (flushGen !== local.flushGen) {
    // A flush since the values kept so far (or the first keep): they are all gone anyway.
    if (s.core.u32[s.core.hw + D_FLUSH_GEN] !== flushGen) return;
    local.clear(flushGen);
  }
  const found = local.found;
  if (found !== null) {
    // Found by this get's localGet, for this key (get calls the two back to back).
    local.found = null;
    found.value = value;
    found.version = version | 0;
    found.flags = flags | 0;
    found.expires = expires;
    found.used = 1;
    return;
  }
  local.keep(key, value, s.key.hash | 0, version | 0, flags | 0, expires);
}

/**
 * A get served from the local cache, with get's side effects (status, flags, a hit in the
 * stats, the key's reference bit), or undefined: the caller must read the shared dict. A kept
 * value is never undefined. Allocates nothing.
 *
 * Why undefined and not a symbol of its own: `get` compares the result with the miss value,
 * and V8 compiles a strict comparison with a symbol constant as a check of the other side's
 * type, a load from the kept string's header: one more dependent cache miss per hit when the
 * kept values do not fit in the CPU caches (docs/performance.md, "localCache"). A comparison
 * with undefined compares two pointers. keepable() keeps undefined out of the cache.
 */
export function localGet(
  s: DictSession,
  local: LocalCache,
  key: string,
): string | number | boolean | undefined {
  local.countLookup();
  const kept = local.find(key);
  local.found = kept ?? null;
  if (kept === undefined || s.host.started === false) return undefined;
  const c = s.core;
  const u32 = c.u32;
  const word = s.verW + (kept.hash & s.verMask);
  // On arm64 the first load must not be satisfied after the later ones (seqlock.ts, Ordering).
  const version = s.recheckPlain ? u32[word] | 0 : Atomics.load(c.i32, word);
  if (version !== kept.version) return undefined;
  if (u32[c.hw + D_FLUSH_GEN] !== local.flushGen) {
    local.clear();
    return undefined;
  }
  if (u32[s.recWord] !== s.repairedAt) return undefined;
  if (kept.expires !== 0 && kept.expires <= s.now()) return undefined;
  local.found = null;
  local.hits++;
  if (kept.used === 0) kept.used = 1;
  s.lastStatus = DictStatus.OK;
  s.lastFlags = kept.flags >>> 0;
  s.lastStale = false;
  c.f64[s.statF64 + STAT_HITS_F64] += 1;
  const bit = s.refOff + (kept.hash & s.refMask);
  if (c.u8[bit] === 0) c.u8[bit] = 1;
  return kept.value;
}
