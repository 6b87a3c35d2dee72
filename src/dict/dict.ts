/**
 * SharedDict: OpenResty's lua_shared_dict for Node — one key/value cache in a shared zone,
 * the same for every process and worker thread attached to it. This class is the facade:
 * it checks arguments, loads the key, and hands over to one module per job —
 * session.ts (attach, recovery sync, the lock-and-commit helper), reads.ts (lock-free and
 * locked reads), store.ts (the set family, delete, incr, eviction), list-ops.ts (lists),
 * admin.ts (ttl, flush, keys, stats, verify), flight.ts (getOrSet).
 *
 * Concurrency: writers take the zone's one lock (and journal every metadata store, so a
 * writer killed at any instruction is rolled back by the next locker). Readers (get,
 * getStale, has) by default take no lock: they read under seqlocks (seqlock.ts), copy the
 * value, and re-check. The LRU is approximate as a consequence: a get marks the key's
 * REFBITS byte instead of moving the entry, and eviction gives marked entries a second
 * chance (expiry.ts). With `reads: 'locked'` every get takes the lock and moves the entry to
 * the LRU head, exactly as Lua does.
 *
 * Result signalling: see status.ts. Nothing on the hot paths allocates beyond the returned
 * value, and no native addon is called unless the lock is contended.
 */
import * as admin from './admin.js';
import { checkEntries, checkKeyList, touchKeys, type SetManyEntry } from './batch.js';
import type { DictValue } from './codec.js';
import type { DictCore } from './core.js';
import { DictError, describeValue } from '../errors.js';
import { openFlights, type Flights, type GetOrSetOptions, type WrapOptions } from './flight.js';
import { llen, pop, push } from './list-ops.js';
import { LOCAL_MAX_KEYS, localGet } from './local-cache.js';
import type { DictHost } from './pool.js';
import { read, READ_GET, READ_HAS, READ_INTO, READ_STALE } from './reads.js';
import { DictSession } from './session.js';
import { DictStatus, FAILED, STORED, STORED_FORCIBLY, type StoreResult } from './status.js';
import { incr, MODE_ADD, MODE_REPLACE, MODE_SET, remove, store } from './store.js';
import { checkLimit, checkTtl } from './validate.js';
import { EncodedValue, ValueCodecs } from './values.js';
import type { DictStats, SharedDictHandle, SharedDictOptions } from './options.js';
import { openTransferredZone, type TransferredZone } from './zone-host.js';

export type { DictStats, SharedDictHandle, SharedDictOptions };

const DEFAULT_KEYS_LIMIT = 1024;
const DEFAULT_TRIES = 30;

export class SharedDict {
  /** The zone name, for messages. */
  readonly name: string;
  /** @internal Everything the modules share: state, header cache, the way in under the lock. */
  readonly session: DictSession;
  private transferHandle: (() => unknown) | undefined;
  private closeZone: (() => void) | undefined;
  /** getOrSet state, made on first use. */
  private flights: Flights | undefined;

  /**
   * A dict named `name`. Without `host` it is not usable until `attach` (the declaration
   * `sharedDict(zones, name, size)` in declare.ts attaches it when the zone starts); every
   * call before that throws DictError ERR_DICT_NOT_STARTED. With `host` (a started Zone, or
   * `{ pool, root }` in tests) it attaches at once, building the dict when ROOT is 0.
   */
  constructor(name: string, options: SharedDictOptions = {}, host?: DictHost) {
    this.name = name;
    const now = options.now ?? Date.now;
    if (typeof now !== 'function') {
      throw new DictError('ERR_DICT_OPTION', 'The "now" option must be a function returning ms');
    }
    if (options.reads !== undefined && options.reads !== 'locked' && options.reads !== 'seqlock') {
      throw new DictError(
        'ERR_DICT_OPTION',
        `The "reads" option must be 'seqlock' or 'locked', got ${String(options.reads)}`,
      );
    }
    const tries = options.evictionTries ?? DEFAULT_TRIES;
    if (!Number.isInteger(tries) || tries < 0) {
      throw new DictError(
        'ERR_DICT_OPTION',
        `The "evictionTries" option must be an integer >= 0, got ${tries}`,
      );
    }
    const localCache = options.localCache ?? 0;
    if (!Number.isInteger(localCache) || localCache < 0 || localCache > LOCAL_MAX_KEYS) {
      throw new DictError(
        'ERR_DICT_OPTION',
        `The "localCache" option must be an integer from 0 to ${LOCAL_MAX_KEYS}, got ${String(localCache)}`,
      );
    }
    if (localCache > 0 && options.reads === 'locked') {
      throw new DictError(
        'ERR_DICT_OPTION',
        `The "localCache" option needs reads: 'seqlock' (locked reads move every hit in the LRU)`,
      );
    }
    this.session = new DictSession(name, {
      now,
      lockedReads: options.reads === 'locked',
      tries,
      localCache,
      codecs: new ValueCodecs(options.codec),
    });
    if (host !== undefined) this.attach(host);
  }

  /**
   * Outcome of the last call on this object (a DictStatus): why a store returned FAILED, why
   * get/incr/lpop returned undefined, FORCIBLE after an incr-with-init or push that evicted.
   */
  get lastStatus(): number {
    return this.session.lastStatus;
  }
  set lastStatus(status: number) {
    this.session.lastStatus = status;
  }

  /** User flags of the value returned by the last get/getStale (0 on a miss). */
  get lastFlags(): number {
    return this.session.lastFlags;
  }
  set lastFlags(flags: number) {
    this.session.lastFlags = flags;
  }

  /** Whether the value returned by the last getStale had expired. */
  get lastStale(): boolean {
    return this.session.lastStale;
  }
  set lastStale(stale: boolean) {
    this.session.lastStale = stale;
  }

  /** @internal The dict's shared words (tests reach the pool through it). */
  get core(): DictCore {
    return this.session.core;
  }

  /**
   * Attach to the dict of `host` (building it under the lock when ROOT is 0). `transfer`
   * makes `dict.transfer()` work (a function returning the zone's handle); `log` receives the
   * line logged when the dict is rebuilt empty after a pool reset (default console.warn;
   * `sharedDict` passes the registry's `log` option). Called once.
   */
  attach(host: DictHost, transfer?: () => unknown, log?: (line: string) => void): this {
    if (this.session.attached) {
      throw new DictError('ERR_DICT_ATTACHED', `dict "${this.name}" is already attached`);
    }
    this.transferHandle = transfer;
    this.session.attach(host, log);
    return this;
  }

  // ---------------------------------------------------------------- reads (reads.ts)

  /**
   * The value of `key`, or `undefined` when it is missing, expired or a list (lastStatus
   * NOT_FOUND / NOT_LIST). `lastFlags` receives the entry's user flags. Binary values come back
   * as a fresh Buffer. Throws DictError ERR_DICT_KEY_* on a bad key.
   */
  get<T = unknown>(key: string | Uint8Array): T | undefined {
    const s = this.session;
    const local = s.local;
    if (local !== null && typeof key === 'string' && local.consult()) {
      const kept = localGet(s, local, key);
      if (kept !== undefined) return kept as T;
      s.key.load(key);
      // Consumed (and cleared) by the read below, so no other read can keep under this key.
      s.localKey = key;
    } else {
      s.key.load(key);
    }
    const v = read(s, READ_GET);
    return (typeof v === 'object' && v instanceof EncodedValue ? this.decoded(v) : v) as
      T | undefined;
  }

  /**
   * Like get, but also returns an expired value that has not been reclaimed yet, with
   * `lastStale` = true. Never runs the expire step (as Lua's get_stale).
   */
  getStale<T = unknown>(key: string | Uint8Array): T | undefined {
    this.session.key.load(key);
    const v = read(this.session, READ_STALE);
    return (typeof v === 'object' && v instanceof EncodedValue ? this.decoded(v) : v) as
      T | undefined;
  }

  /** A structured value read by get/getStale, decoded (DictError ERR_DICT_VALUE_DECODE). */
  private decoded(v: EncodedValue): unknown {
    return this.session.codecs.decode(v.type, v.bytes);
  }

  /**
   * Zero-allocation read of a string or binary value: copies its bytes (UTF-8 for a string)
   * into `target[0..n)` and returns n. When n > `target.length` nothing is copied, n is still
   * returned, and lastStatus is BUFFER_TOO_SMALL: call again with a larger target. Returns -1
   * when the key is missing or expired (NOT_FOUND), a list (NOT_LIST), or a number or
   * boolean (NOT_BYTES). `lastFlags` as for get; counts as a hit only when it copied. The
   * contents of `target` beyond what a successful call reports are unspecified (a lock-free
   * attempt that had to be retried may have written there). Reusing one target avoids every
   * allocation; the dict keeps a reference to the last target it was given.
   * Throws DictError ERR_DICT_KEY_* on a bad key.
   */
  getInto(key: string | Uint8Array, target: Uint8Array): number {
    this.session.key.load(key);
    if (!(target instanceof Uint8Array)) {
      throw new DictError(
        'ERR_DICT_VALUE_TYPE',
        `The "target" argument must be a Uint8Array, got ${describeValue(target)}`,
      );
    }
    this.session.target = target;
    const n = read(this.session, READ_INTO);
    return n === undefined ? -1 : (n as number);
  }

  /** Whether `key` holds a live value (a list counts). Does not count as a hit or miss. */
  has(key: string | Uint8Array): boolean {
    this.session.key.load(key);
    return read(this.session, READ_HAS) === true;
  }

  /**
   * The values of `keys`, in order (`undefined` for a miss), as `get` each, with the cache
   * misses of the keys overlapped (batch.ts). Every key is checked first (DictError
   * ERR_DICT_KEYS, ERR_DICT_KEY_*). `lastStatus` / `lastFlags` are those of the last key.
   */
  getMany<T = unknown>(keys: readonly (string | Uint8Array)[]): Array<T | undefined> {
    const list = checkKeyList(keys);
    if (this.session.host.started !== false) touchKeys(this.session.core, list);
    const out = new Array<T | undefined>(list.length);
    for (let i = 0; i < list.length; i++) out[i] = this.get<T>(list[i]);
    return out;
  }

  /** `has` of each key, in order; every key is checked first. */
  hasMany(keys: readonly (string | Uint8Array)[]): boolean[] {
    const list = checkKeyList(keys);
    if (this.session.host.started !== false) touchKeys(this.session.core, list);
    return list.map((key) => this.has(key));
  }

  // ---------------------------------------------------------------- stores (store.ts)

  /**
   * `set` of each `{ key, value, ttl?, flags? }`, in order; returns each StoreResult. Every
   * entry is checked before the first is stored (a bad one: DictError, nothing stored).
   */
  setMany(entries: readonly SetManyEntry[]): StoreResult[] {
    const list = checkEntries(entries, this.session.codecs);
    return list.map((e) => this.set(e.key, e.value, e.ttl, e.flags));
  }

  /** `delete` of each key, in order (true: a live value was removed); keys checked first. */
  deleteMany(keys: readonly (string | Uint8Array)[]): boolean[] {
    const list = checkKeyList(keys);
    for (const key of list) this.session.key.load(key);
    return list.map((key) => this.delete(key));
  }

  /**
   * Store `value` under `key` for `ttl` ms (0 = forever) with user `flags`, evicting LRU
   * entries if the zone is full. Returns STORED, STORED_FORCIBLY, or FAILED with lastStatus
   * NO_MEMORY / NO_MEMORY_FORCIBLE. `null`/`undefined` deletes the key (as Lua's nil) and
   * returns STORED. If the store fails the previous value is kept (Lua loses it).
   * Throws DictError ERR_DICT_KEY_*, ERR_DICT_VALUE_TYPE, ERR_DICT_TTL, ERR_DICT_FLAGS.
   */
  set(key: string | Uint8Array, value: unknown, ttl?: number, flags?: number): StoreResult {
    this.session.key.load(key);
    return store(this.session, MODE_SET, true, value, ttl, flags);
  }

  /** set without eviction: FAILED + NO_MEMORY when the zone is full. */
  safeSet(key: string | Uint8Array, value: unknown, ttl?: number, flags?: number): StoreResult {
    this.session.key.load(key);
    return store(this.session, MODE_SET, false, value, ttl, flags);
  }

  /** set only if `key` is missing or expired; else FAILED + EXISTS. `null` is refused. */
  add(key: string | Uint8Array, value: unknown, ttl?: number, flags?: number): StoreResult {
    this.session.key.load(key);
    return store(this.session, MODE_ADD, true, value, ttl, flags);
  }

  /** add without eviction. */
  safeAdd(key: string | Uint8Array, value: unknown, ttl?: number, flags?: number): StoreResult {
    this.session.key.load(key);
    return store(this.session, MODE_ADD, false, value, ttl, flags);
  }

  /** set only if `key` is live; else FAILED + NOT_FOUND. `null` is refused. */
  replace(key: string | Uint8Array, value: unknown, ttl?: number, flags?: number): StoreResult {
    this.session.key.load(key);
    return store(this.session, MODE_REPLACE, true, value, ttl, flags);
  }

  /**
   * Remove `key`. Returns true when a live value was removed (Map.delete's meaning; Lua always
   * says true). An expired entry is removed too, returning false.
   */
  delete(key: string | Uint8Array): boolean {
    this.session.key.load(key);
    return remove(this.session);
  }

  /**
   * Add `by` to the number under `key` and return the sum; the TTL and flags are kept. A
   * missing or expired key gives `undefined` + NOT_FOUND, unless `init` is given: then
   * init + by is stored with flags 0 and expiry `initTtl` (ms, 0 = never), evicting if
   * needed (lastStatus FORCIBLE). A live non-number gives `undefined` + NOT_NUMBER.
   * Throws DictError ERR_DICT_NOT_NUMBER (by/init not finite), ERR_DICT_TTL (initTtl < 0 or
   * given without init).
   */
  incr(key: string | Uint8Array, by: number, init?: number, initTtl?: number): number | undefined {
    this.session.key.load(key);
    return incr(this.session, by, init, initTtl);
  }

  // ---------------------------------------------------------------- lists (list-ops.ts)

  /** Push onto the head of the list `key` (created when missing). See `rpush`. */
  lpush(key: string | Uint8Array, value: DictValue): number | undefined {
    this.session.key.load(key);
    return push(this.session, value, true);
  }

  /**
   * Push onto the tail of the list under `key`, creating it (no expiry) when missing; an
   * expired list is emptied and reused, an expired non-list replaced. Returns the new length,
   * or `undefined` with lastStatus NOT_LIST (a live non-list) or NO_MEMORY (pushes never
   * evict). Values: string, number, boolean, Uint8Array.
   */
  rpush(key: string | Uint8Array, value: DictValue): number | undefined {
    this.session.key.load(key);
    return push(this.session, value, false);
  }

  /** Remove and return the head of the list; `undefined` + NOT_FOUND / NOT_LIST. */
  lpop(key: string | Uint8Array): DictValue | undefined {
    this.session.key.load(key);
    return pop(this.session, true);
  }

  /** Remove and return the tail of the list; the key goes when its list is empty. */
  rpop(key: string | Uint8Array): DictValue | undefined {
    this.session.key.load(key);
    return pop(this.session, false);
  }

  /** Length of the list (0 when missing or expired); `undefined` + NOT_LIST for a non-list. */
  llen(key: string | Uint8Array): number | undefined {
    this.session.key.load(key);
    return llen(this.session);
  }

  // ---------------------------------------------------------------- TTL and admin (admin.ts)

  /**
   * Remaining time to live of `key` in ms, 0 = never expires; `undefined` + NOT_FOUND when
   * missing or expired (Lua returns a negative number for an expired, unreclaimed key; its
   * docs say "not found", which is what we do). Does not touch the LRU.
   */
  ttl(key: string | Uint8Array): number | undefined {
    this.session.key.load(key);
    return admin.ttlOf(this.session);
  }

  /**
   * Set the TTL of a live `key` to `ttl` ms from now (0 = never). Returns false + NOT_FOUND
   * when missing or expired (Lua can revive an expired entry here; we do not). Throws
   * ERR_DICT_TTL (ttl is required).
   */
  expire(key: string | Uint8Array, ttl: number): boolean {
    this.session.key.load(key);
    if (ttl === undefined) throw new DictError('ERR_DICT_TTL', 'The "ttl" argument is required');
    checkTtl(ttl);
    return admin.expire(this.session, ttl);
  }

  /**
   * Expire every entry at once (O(1): the flush generation moves on), then run one eviction
   * step. Memory is reclaimed lazily, as in Lua; getStale still sees flushed values.
   */
  flushAll(): void {
    admin.flushAll(this.session);
  }

  /**
   * Free expired (and flushed) entries, walking the whole LRU from the tail; at most
   * `maxCount` (0 or absent = all). Returns the number freed. Holds the lock for the walk.
   */
  flushExpired(maxCount?: number): number {
    return admin.flushExpired(this.session, checkLimit(maxCount, 'maxCount', 0));
  }

  /**
   * Live keys, least recently written first (LRU tail first), at most `limit` (default 1024,
   * 0 = all). Keys are decoded as UTF-8 (`binary` = true gives Buffers). Holds the lock for
   * the walk.
   */
  keys(limit?: number, binary?: false): string[];
  keys(limit: number | undefined, binary: true): Buffer[];
  keys(limit?: number, binary = false): (string | Buffer)[] {
    return admin.keys(this.session, checkLimit(limit, 'limit', DEFAULT_KEYS_LIMIT), binary);
  }

  /**
   * The zone's declared size in bytes, rounded up to pages (Lua's capacity(): the whole
   * zone, headers included); the pool's bytes for a dict over a bare `{ pool, root }`.
   */
  capacity(): number {
    return this.session.host.size ?? this.session.pool.capacity;
  }

  /** Bytes in completely free slab pages (Lua's free_space(); chunks in partly used pages are not counted). */
  freeSpace(): number {
    return this.session.pool.freeSpace();
  }

  /**
   * Entries in the index: live keys plus expired ones not reclaimed yet (as lru-cache's
   * `size` counts stale entries until they are purged). Counting only live keys would walk
   * every entry under the host-wide lock; `flushExpired()` first gives the live count.
   */
  size(): number {
    this.session.syncIfMoved();
    return this.session.core.count;
  }

  stats(): DictStats {
    return admin.stats(this.session);
  }

  /**
   * Check the slab (`pool.verify()`) and the dict's own invariants under the lock (admin.ts).
   * Throws SlabCorruptionError or DictError ERR_DICT_CORRUPT. O(entries); for tests and
   * after crash recovery.
   */
  verify(): void {
    admin.verify(this.session);
  }

  // ---------------------------------------------------------------- getOrSet (flight.ts)

  /**
   * The value of `key`; on a miss, `loader(key)`'s result, stored with `options.ttl`. When
   * callers in several threads or processes miss the same key at once, the loader runs once
   * on the host and the others await the stored value (waiting sleeps on a futex from a libuv
   * pool thread: the event loop keeps running). A loader that throws rejects the callers of
   * its own thread; callers elsewhere then load again. A loader whose thread or process dies
   * is replaced by one waiter within ~100 ms. With `options.staleTtl` (ms, needs `ttl`), a
   * value older than `ttl` but younger than `ttl + staleTtl` is returned at once while one
   * caller on the host reloads it in the background. Rejects with DictError ERR_DICT_KEY_*
   * (getOrSet keys are 6 bytes shorter than MAX_KEY_BYTES and must not start with byte
   * 0xFF: ERR_DICT_KEY_RESERVED), ERR_DICT_LOADER, ERR_DICT_TTL, ERR_DICT_OPTION,
   * ERR_DICT_LOADER_VALUE (the loader gave null/undefined), ERR_DICT_VALUE_TYPE, or
   * ERR_DICT_FLIGHT_HOST (not in a zone); nothing is stored then.
   */
  getOrSet<T = unknown>(
    key: string | Uint8Array,
    loader: (key: string | Uint8Array) => T | Promise<T>,
    options?: GetOrSetOptions,
  ): Promise<T> {
    try {
      this.flights ??= openFlights(this, this.session.host);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.flights.getOrSet(key, loader, options);
  }

  /**
   * `fn` cached: each call is `getOrSet(options.key(...args), () => fn(...args), options)`
   * (default key: `fn.name + ':' + JSON.stringify(args)`). Throws DictError ERR_DICT_LOADER,
   * ERR_DICT_OPTION, ERR_DICT_TTL, ERR_DICT_FLIGHT_HOST at once; calls reject as getOrSet's.
   */
  wrap<A extends unknown[], T>(
    fn: (...args: A) => T | Promise<T>,
    options?: WrapOptions<A>,
  ): (...args: A) => Promise<T> {
    this.flights ??= openFlights(this, this.session.host);
    return this.flights.wrap(fn, options);
  }

  // ---------------------------------------------------------------- threads

  /** A handle to send to a worker thread; `SharedDict.fromTransfer(handle)` there. */
  transfer(): SharedDictHandle {
    if (this.transferHandle === undefined) {
      throw new DictError(
        'ERR_DICT_TRANSFER',
        'This dict was not created from a zone and cannot be transferred',
      );
    }
    return { kind: 'shmzone.dict', name: this.name, zone: this.transferHandle() };
  }

  /**
   * Rebuild in a worker thread a dict sent with `dict.transfer()`. The thread registers in
   * the zone's peer table; `dict.close()` (or the thread's exit) releases it. Throws DictError
   * ERR_DICT_HANDLE, and the zone's ERR_ZONE_* errors.
   */
  static fromTransfer(handle: SharedDictHandle, options: SharedDictOptions = {}): SharedDict {
    if (typeof handle !== 'object' || handle === null || handle.kind !== 'shmzone.dict') {
      throw new DictError('ERR_DICT_HANDLE', `Not a dict handle: ${describeValue(handle)}`);
    }
    const zone: TransferredZone = openTransferredZone(handle.zone);
    const dict = new SharedDict(handle.name, options).attach(zone, () => zone.transfer());
    dict.closeZone = () => zone.close();
    return dict;
  }

  /** Leave the zone if this object opened it (fromTransfer); otherwise the registry owns it. */
  close(): void {
    const close = this.closeZone;
    this.closeZone = undefined;
    if (close !== undefined) close();
  }
}

// Re-exported for callers that only import dict.ts.
export { FAILED, STORED, STORED_FORCIBLY, DictStatus };
export type { StoreResult, DictValue };
