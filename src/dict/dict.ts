/**
 * SharedDict: OpenResty's lua_shared_dict for Node — one key/value cache in a shared zone,
 * the same for every process and worker thread attached to it.
 *
 * Concurrency: writers take the zone's one lock (and journal every metadata store, so a
 * writer killed at any instruction is rolled back by the next locker). Readers (get,
 * getStale, has) by default take no lock: they read under seqlocks (seqlock.ts), copy the
 * value, and re-check; after READ_RETRIES failed attempts they fall back to the lock. The
 * LRU is approximate as a consequence: a get marks the key's REFBITS byte instead of moving
 * the entry, and eviction gives marked entries a second chance (expiry.ts). With
 * `reads: 'locked'` every get takes the lock and moves the entry to the LRU head, exactly as
 * Lua does.
 *
 * Result signalling: see status.ts. Nothing on the hot paths allocates beyond the returned
 * value, and no native addon is called unless the lock is contended.
 */
import { afterLockedError, checkEntryRef, corrupt } from './damage.js';
import { dictCounters } from './read-stats.js';
import { checkHeaderAreas } from './verify-dict.js';
import { DictError, describeValue } from '../errors.js';
import type { ZoneHandle } from '../zone/threads.js';
import { Zone } from '../zone/zone.js';
import {
  BYTE_POOL,
  copyOut,
  POOL_MAX,
  PooledBuffer,
  readValue,
  ValueInfo,
  type DictValue,
} from './codec.js';
import { DictCore } from './core.js';
import {
  allocationCeiling,
  entryDrop,
  entryFill,
  entryRetire,
  entrySize,
  entryUnits,
  reapGraveyard,
  slotOfRef,
} from './entries.js';
import { expireStep, flushExpiredLocked } from './expiry.js';
import { openFlights, type Flights, type GetOrSetOptions, type WrapOptions } from './flight.js';
import { KeyScratch } from './hash.js';
import { dictCreateLocked, dictCurrent } from './init.js';
import {
  D_BYTES8,
  D_COUNT,
  D_SETS,
  D_FLUSH_GEN,
  D_GRAVE,
  D_LRU_TAIL,
  D_MASK,
  D_REFBITS,
  D_REF_MASK,
  D_REPAIRED,
  D_SEQ,
  D_STATS,
  D_TABLE,
  E_EXP_HI,
  E_EXP_LO,
  E_FLAGS,
  E_GEN,
  E_HASH,
  E_NEXT,
  D_LRU_HEAD,
  LIST_HEAD,
  L_LEN,
  L_NEXT,
  E_META,
  E_PREV,
  E_VLEN,
  ENTRY_HEADER_BYTES,
  LINE_WORDS,
  META_KEYLEN_MASK,
  META_TYPE_MASK,
  META_TYPE_SHIFT,
  SLOT_WORDS,
  STAT_HITS_F64,
  STAT_LINES,
  STAT_MISSES_F64,
  S_HASH,
  S_REF,
  SEQ_STRIPE_SHIFT,
  T_BYTES,
  T_V8,
  T_LIST,
  T_NUMBER,
  T_STRING,
  align8,
} from './layout.js';
import { elementCreate, elementSize, listClear, listPop, listPush } from './lists.js';
import { lruPushHead, lruReplace, lruTouch } from './lru.js';
import type { DictHost, DictPool } from './pool.js';
import { fitsInPlace, overwriteInPlace, OverwriteScratch } from './overwrite.js';
import { RECHECK_PLAIN, seqAfterRecovery, seqEnter, seqLeave, stripeWord } from './seqlock.js';
import { DictStatus, FAILED, STORED, STORED_FORCIBLY, type StoreResult } from './status.js';
import {
  slotRef,
  tableBelowGrow,
  tableFind,
  tableGrow,
  tableHasRoom,
  tableInsert,
  tableSetRef,
} from './table.js';
import { checkFlags, checkLimit, checkNumber, checkTtl, expiryAt } from './validate.js';
import { threadId } from 'node:worker_threads';
import { EncodedValue, ValueCodecs, type DictCodecOption } from './values.js';
import { checkEntries, checkKeyList, touchKeys, type SetManyEntry } from './batch.js';

/** Options of a SharedDict (the same in every process is not required). */
export interface SharedDictOptions {
  /**
   * Clock in ms since the epoch, for TTLs. Default `Date.now`. Tests inject a fake one; all
   * processes sharing a dict must agree on the time base.
   */
  now?: () => number;
  /**
   * `'seqlock'` (default): get/getStale/has read without the lock. `'locked'`: every read
   * takes the lock and moves a hit to the LRU head (Lua's behaviour; slower with several
   * processes, see bench/dict).
   */
  reads?: 'seqlock' | 'locked';
  /**
   * Eviction steps a store runs at least before it gives up with NO_MEMORY_FORCIBLE (it
   * continues while the evicted bytes are below 4 x (size + 4 KiB)). Default 30, Lua's
   * number; 0 turns eviction off.
   */
  evictionTries?: number;
  /**
   * How values other than strings, numbers, booleans and Uint8Arrays (objects, arrays, Maps,
   * Dates, BigInts...) are stored: `'v8'` (default, node:v8 structured clone), `'json'`, or
   * `{ encode, decode }`. A dict reads v8 and JSON values whatever its own codec; a custom
   * one must be declared alike in every process.
   */
  codec?: DictCodecOption;
}

/** `dict.stats()`. */
export interface DictStats {
  /** Entries in the index, including expired ones not yet reclaimed. */
  entries: number;
  /** Bytes requested for entries and list elements (header, key, value), 8-aligned. */
  bytesUsed: number;
  /** Lock-free or locked reads that found a live value, over all processes. */
  hits: number;
  misses: number;
  /** Values stored (set, safeSet, add, replace, incr), over all processes. */
  sets: number;
  /** Live entries removed to make room. */
  evictions: number;
  /** Expired entries reclaimed (expire step, eviction of expired ones, flushExpired). */
  expirations: number;
}

/** What a SharedDict needs to be rebuilt in another thread (see `transfer`). */
export interface SharedDictHandle {
  readonly kind: 'shmzone.dict';
  readonly name: string;
  /** The zone's transfer handle, opaque here. */
  readonly zone: unknown;
}

const READ_RETRIES = 16;
/** Loads of the seq words a reader spends waiting for a writer to leave, per attempt. */
const SPINS_ON_ODD = 256;
const DEFAULT_KEYS_LIMIT = 1024;
const DEFAULT_TRIES = 30;
/** Evict at least this many times the requested bytes (plus a page) before giving up. */
const EVICTION_BYTES_FACTOR = 4;
const MAX_EVICTION_STEPS = 100_000;

const MODE_SET = 0;
const MODE_ADD = 1;
const MODE_REPLACE = 2;

const READ_GET = 0;
const READ_STALE = 1;
const READ_HAS = 2;
const READ_INTO = 3;
const NO_TARGET = new Uint8Array(0);

export class SharedDict {
  /** The zone name, for messages. */
  readonly name: string;
  /**
   * Outcome of the last call on this object (a DictStatus): why a store returned FAILED, why
   * get/incr/lpop returned undefined, FORCIBLE after an incr-with-init or push that evicted.
   */
  lastStatus: number = DictStatus.OK;
  /** User flags of the value returned by the last get/getStale (0 on a miss). */
  lastFlags = 0;
  /** Whether the value returned by the last getStale had expired. */
  lastStale = false;

  /** @internal */
  core: DictCore;
  private host: DictHost;
  private pool: DictPool;
  private readonly key = new KeyScratch();
  private readonly vi = new ValueInfo();
  private readonly codecs: ValueCodecs;
  private readonly now: () => number;
  private readonly lockedReads: boolean;
  /** seqlock.ts's RECHECK_PLAIN as a field (a module binding costs a load and a hole check). */
  private readonly recheckPlain = RECHECK_PLAIN;
  private readonly tries: number;
  private statLine: number;
  private transferHandle: (() => unknown) | undefined;
  private closeZone: (() => void) | undefined;
  /**
   * What `readShared` asks whether the memory may still be read: the Zone itself when the
   * host is one (its `started` is a plain field compare, set false by `close()`), OPEN_HOST
   * for the plain `{ pool, root }` hosts of tests, NOT_OPEN before `attach`.
   */
  private zone: { readonly started: boolean } = NOT_OPEN;
  /** Set by `reserve`: whether it evicted. */
  private forcible = false;
  // Derived from the header, refreshed when the zone's ROOT changes (`sync`).
  private seqW = 0;
  private refOff = 0;
  private refMask = 0;
  private statF64 = 0;
  /** Word index of the pool's shared takeover count (`pool.recoveriesWord`). */
  private recWord = 0;
  /**
   * The takeover count this object last synced at, under the lock, after the dict's repair
   * for it was done (by anyone). -1: never. A lock-free read is only accepted while the
   * count still equals it (see `readShared` and seqlock.ts, "Recovery").
   */
  private repairedAt = -1;
  /** getInto's target, and an Int32Array over it when it is 4-aligned (made once per target). */
  private target: Uint8Array = NO_TARGET;
  private targetView: Uint8Array = NO_TARGET;
  private targetI32: Int32Array | null = null;
  /** getOrSet state, made on first use. */
  private flights: Flights | undefined;
  private overwriteScratch: OverwriteScratch | undefined;

  /**
   * A dict named `name`. Without `host` it is not usable until `attach` (the declaration
   * `sharedDict(zones, name, size)` in declare.ts attaches it when the zone starts); every
   * call before that throws DictError ERR_DICT_NOT_STARTED. With `host` (a started Zone, or
   * `{ pool, root }` in tests) it attaches at once, building the dict when ROOT is 0.
   */
  constructor(name: string, options: SharedDictOptions = {}, host?: DictHost) {
    this.name = name;
    this.now = options.now ?? Date.now;
    if (typeof this.now !== 'function') {
      throw new DictError('ERR_DICT_OPTION', 'The "now" option must be a function returning ms');
    }
    this.lockedReads = options.reads === 'locked';
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
    this.tries = tries;
    this.codecs = new ValueCodecs(options.codec);
    this.vi.codecs = this.codecs;
    this.host = notStartedHost(name);
    this.pool = this.host.pool;
    this.core = PLACEHOLDER_CORE;
    this.statLine = 0;
    if (host !== undefined) this.attach(host);
  }

  /**
   * Attach to the dict of `host` (building it under the lock when ROOT is 0). `transfer`
   * makes `dict.transfer()` work (a function returning the zone's handle). Called once.
   */
  attach(host: DictHost, transfer?: () => unknown): this {
    if (this.core !== PLACEHOLDER_CORE)
      throw new DictError('ERR_DICT_ATTACHED', `dict "${this.name}" is already attached`);
    this.host = host;
    this.pool = host.pool;
    this.core = new DictCore(host.pool);
    const owner = (host.pool as { owner?: { selfId?: number } }).owner;
    const self = owner?.selfId ?? process.pid * 31 + threadId * 7919;
    this.statLine = (self >>> 0) % STAT_LINES;
    this.transferHandle = transfer;
    this.recWord = host.pool.recoveriesWord;
    this.zone = host instanceof Zone ? host : OPEN_HOST;
    // No recovery listener: recoveries done anywhere (another process, another pool object,
    // before this attach) are noticed from the shared takeover count by `syncLocked`.
    this.pool.lock();
    try {
      this.syncLocked();
    } catch (err) {
      throw afterLockedError(this.pool, this.name, err);
    } finally {
      this.pool.unlock();
    }
    return this;
  }

  // ---------------------------------------------------------------- reads

  /**
   * The value of `key`, or `undefined` when it is missing, expired or a list (lastStatus
   * NOT_FOUND / NOT_LIST). `lastFlags` receives the entry's user flags. Binary values come back
   * as a fresh Buffer. Throws DictError ERR_DICT_KEY_* on a bad key.
   */
  get<T = unknown>(key: string | Uint8Array): T | undefined {
    this.key.load(key);
    const v = this.lockedReads ? this.readLocked(READ_GET) : this.readShared(READ_GET);
    return (typeof v === 'object' && v instanceof EncodedValue ? this.decoded(v) : v) as
      T | undefined;
  }

  /**
   * Like get, but also returns an expired value that has not been reclaimed yet, with
   * `lastStale` = true. Never runs the expire step (as Lua's get_stale).
   */
  getStale<T = unknown>(key: string | Uint8Array): T | undefined {
    this.key.load(key);
    const v = this.lockedReads ? this.readLocked(READ_STALE) : this.readShared(READ_STALE);
    return (typeof v === 'object' && v instanceof EncodedValue ? this.decoded(v) : v) as
      T | undefined;
  }

  /** A structured value read by get/getStale, decoded (DictError ERR_DICT_VALUE_DECODE). */
  private decoded(v: EncodedValue): unknown {
    return this.codecs.decode(v.type, v.bytes);
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
    this.key.load(key);
    if (!(target instanceof Uint8Array)) {
      throw new DictError(
        'ERR_DICT_VALUE_TYPE',
        `The "target" argument must be a Uint8Array, got ${describeValue(target)}`,
      );
    }
    this.target = target;
    const n = this.lockedReads ? this.readLocked(READ_INTO) : this.readShared(READ_INTO);
    return n === undefined ? -1 : (n as number);
  }

  /** Whether `key` holds a live value (a list counts). Does not count as a hit or miss. */
  has(key: string | Uint8Array): boolean {
    this.key.load(key);
    return (this.lockedReads ? this.readLocked(READ_HAS) : this.readShared(READ_HAS)) === true;
  }

  /**
   * The values of `keys`, in order (`undefined` for a miss), as `get` each, with the cache
   * misses of the keys overlapped (batch.ts). Every key is checked first (DictError
   * ERR_DICT_KEYS, ERR_DICT_KEY_*). `lastStatus` / `lastFlags` are those of the last key.
   */
  getMany<T = unknown>(keys: readonly (string | Uint8Array)[]): Array<T | undefined> {
    const list = checkKeyList(keys);
    if (this.zone.started) touchKeys(this.core, list);
    const out = new Array<T | undefined>(list.length);
    for (let i = 0; i < list.length; i++) out[i] = this.get<T>(list[i]);
    return out;
  }

  /** `has` of each key, in order; every key is checked first. */
  hasMany(keys: readonly (string | Uint8Array)[]): boolean[] {
    const list = checkKeyList(keys);
    if (this.zone.started) touchKeys(this.core, list);
    return list.map((key) => this.has(key));
  }

  // ---------------------------------------------------------------- stores

  /**
   * `set` of each `{ key, value, ttl?, flags? }`, in order; returns each StoreResult. Every
   * entry is checked before the first is stored (a bad one: DictError, nothing stored).
   */
  setMany(entries: readonly SetManyEntry[]): StoreResult[] {
    const list = checkEntries(entries, this.codecs);
    return list.map((e) => this.set(e.key, e.value, e.ttl, e.flags));
  }

  /** `delete` of each key, in order (true: a live value was removed); keys checked first. */
  deleteMany(keys: readonly (string | Uint8Array)[]): boolean[] {
    const list = checkKeyList(keys);
    for (const key of list) this.key.load(key);
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
    return this.store(MODE_SET, true, key, value, ttl, flags);
  }

  /** set without eviction: FAILED + NO_MEMORY when the zone is full. */
  safeSet(key: string | Uint8Array, value: unknown, ttl?: number, flags?: number): StoreResult {
    return this.store(MODE_SET, false, key, value, ttl, flags);
  }

  /** set only if `key` is missing or expired; else FAILED + EXISTS. `null` is refused. */
  add(key: string | Uint8Array, value: unknown, ttl?: number, flags?: number): StoreResult {
    return this.store(MODE_ADD, true, key, value, ttl, flags);
  }

  /** add without eviction. */
  safeAdd(key: string | Uint8Array, value: unknown, ttl?: number, flags?: number): StoreResult {
    return this.store(MODE_ADD, false, key, value, ttl, flags);
  }

  /** set only if `key` is live; else FAILED + NOT_FOUND. `null` is refused. */
  replace(key: string | Uint8Array, value: unknown, ttl?: number, flags?: number): StoreResult {
    return this.store(MODE_REPLACE, true, key, value, ttl, flags);
  }

  /**
   * Remove `key`. Returns true when a live value was removed (Map.delete's meaning; Lua always
   * says true). An expired entry is removed too, returning false.
   */
  delete(key: string | Uint8Array): boolean {
    this.key.load(key);
    this.beginWrite();
    try {
      const slot = this.find();
      if (slot < 0) {
        this.lastStatus = DictStatus.NOT_FOUND;
        return false;
      }
      const e = slotRef(this.core, slot);
      const live = this.core.isLive(e, this.now());
      this.dropAndReap(slot, e);
      this.lastStatus = live ? DictStatus.OK : DictStatus.NOT_FOUND;
      return live;
    } catch (err) {
      throw afterLockedError(this.pool, this.name, err);
    } finally {
      this.pool.unlock();
    }
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
    this.key.load(key);
    checkNumber(by, 'by');
    if (init !== undefined) checkNumber(init, 'init');
    else if (initTtl !== undefined) {
      throw new DictError('ERR_DICT_TTL', 'The "initTtl" argument needs the "init" argument');
    }
    const ttl = checkTtl(initTtl, 'initTtl');
    const c = this.core;
    this.beginWrite();
    try {
      const now = this.now();
      const slot = this.find();
      const old = slot >= 0 ? slotRef(c, slot) : 0;
      if (old !== 0 && c.isLive(old, now)) {
        if (c.type(old) !== T_NUMBER) {
          this.lastStatus = DictStatus.NOT_NUMBER;
          return undefined;
        }
        const sum = c.f64[c.valueOffset(old) / 8] + by;
        this.writeNumberLocked(old, sum);
        lruTouch(c, old);
        this.countStore();
        this.lastStatus = DictStatus.OK;
        return sum;
      }
      if (init === undefined) {
        this.lastStatus = DictStatus.NOT_FOUND;
        return undefined;
      }
      const sum = init + by;
      const at = expiryAt(now, ttl);
      if (old !== 0 && c.type(old) === T_NUMBER) {
        // Lua reuses an expired 8-byte node in place: value, flags, expiry, generation.
        const ew = old * 2;
        const sw = stripeWord(this.seqW, this.key.hash);
        seqEnter(c.i32, sw);
        this.writeNumberRaw(old, sum);
        c.w(ew + E_FLAGS, 0);
        c.setExpires(old, at);
        c.w(ew + E_GEN, c.u32[c.hw + D_FLUSH_GEN]);
        seqLeave(c.i32, sw);
        lruTouch(c, old);
        this.countStore();
        this.lastStatus = DictStatus.OK;
        return sum;
      }
      const r = this.storeLocked(slot, old, true, T_NUMBER, 8, sum, at, 0);
      if (r === FAILED) return undefined;
      this.lastStatus = r === STORED_FORCIBLY ? DictStatus.FORCIBLE : DictStatus.OK;
      return sum;
    } catch (err) {
      throw afterLockedError(this.pool, this.name, err);
    } finally {
      this.pool.unlock();
    }
  }

  // ---------------------------------------------------------------- lists

  /** Push onto the head of the list `key` (created when missing). See `rpush`. */
  lpush(key: string | Uint8Array, value: DictValue): number | undefined {
    return this.push(key, value, true);
  }

  /**
   * Push onto the tail of the list under `key`, creating it (no expiry) when missing; an
   * expired list is emptied and reused, an expired non-list replaced. Returns the new length,
   * or `undefined` with lastStatus NOT_LIST (a live non-list) or NO_MEMORY (pushes never
   * evict). Values: string, number, boolean, Uint8Array.
   */
  rpush(key: string | Uint8Array, value: DictValue): number | undefined {
    return this.push(key, value, false);
  }

  /** Remove and return the head of the list; `undefined` + NOT_FOUND / NOT_LIST. */
  lpop(key: string | Uint8Array): DictValue | undefined {
    return this.pop(key, true);
  }

  /** Remove and return the tail of the list; the key goes when its list is empty. */
  rpop(key: string | Uint8Array): DictValue | undefined {
    return this.pop(key, false);
  }

  /** Length of the list (0 when missing or expired); `undefined` + NOT_LIST for a non-list. */
  llen(key: string | Uint8Array): number | undefined {
    this.key.load(key);
    const c = this.core;
    this.beginWrite();
    try {
      const slot = this.find();
      const e = slot >= 0 ? slotRef(c, slot) : 0;
      if (e === 0 || !c.isLive(e, this.now())) {
        this.lastStatus = DictStatus.NOT_FOUND;
        return 0;
      }
      if (c.type(e) !== T_LIST) {
        this.lastStatus = DictStatus.NOT_LIST;
        return undefined;
      }
      this.lastStatus = DictStatus.OK;
      return c.u32[e * 2 + E_VLEN];
    } catch (err) {
      throw afterLockedError(this.pool, this.name, err);
    } finally {
      this.pool.unlock();
    }
  }

  // ---------------------------------------------------------------- TTL

  /**
   * Remaining time to live of `key` in ms, 0 = never expires; `undefined` + NOT_FOUND when
   * missing or expired (Lua returns a negative number for an expired, unreclaimed key; its
   * docs say "not found", which is what we do). Does not touch the LRU.
   */
  ttl(key: string | Uint8Array): number | undefined {
    this.key.load(key);
    const c = this.core;
    this.lockSync();
    try {
      const slot = this.find();
      const e = slot >= 0 ? slotRef(c, slot) : 0;
      const now = this.now();
      if (e === 0 || !c.isLive(e, now)) {
        this.lastStatus = DictStatus.NOT_FOUND;
        return undefined;
      }
      this.lastStatus = DictStatus.OK;
      const at = c.expires(e);
      return at === 0 ? 0 : at - now;
    } catch (err) {
      throw afterLockedError(this.pool, this.name, err);
    } finally {
      this.pool.unlock();
    }
  }

  /**
   * Set the TTL of a live `key` to `ttl` ms from now (0 = never). Returns false + NOT_FOUND
   * when missing or expired (Lua can revive an expired entry here; we do not). Throws
   * ERR_DICT_TTL (ttl is required).
   */
  expire(key: string | Uint8Array, ttl: number): boolean {
    this.key.load(key);
    if (ttl === undefined) throw new DictError('ERR_DICT_TTL', 'The "ttl" argument is required');
    checkTtl(ttl);
    const c = this.core;
    this.lockSync();
    try {
      const slot = this.find();
      const e = slot >= 0 ? slotRef(c, slot) : 0;
      const now = this.now();
      if (e === 0 || !c.isLive(e, now)) {
        this.lastStatus = DictStatus.NOT_FOUND;
        return false;
      }
      const sw = stripeWord(this.seqW, this.key.hash);
      seqEnter(c.i32, sw);
      c.setExpires(e, expiryAt(now, ttl));
      seqLeave(c.i32, sw);
      this.lastStatus = DictStatus.OK;
      return true;
    } catch (err) {
      throw afterLockedError(this.pool, this.name, err);
    } finally {
      this.pool.unlock();
    }
  }

  // ---------------------------------------------------------------- whole dict

  /**
   * Expire every entry at once (O(1): the flush generation moves on), then run one eviction
   * step. Memory is reclaimed lazily, as in Lua; getStale still sees flushed values.
   */
  flushAll(): void {
    const c = this.core;
    this.lockSync();
    try {
      c.w(c.hw + D_FLUSH_GEN, (c.u32[c.hw + D_FLUSH_GEN] + 1) >>> 0);
      c.pool.commit();
      expireStep(c, this.now(), true, 0);
      this.lastStatus = DictStatus.OK;
    } catch (err) {
      throw afterLockedError(this.pool, this.name, err);
    } finally {
      this.pool.unlock();
    }
  }

  /**
   * Free expired (and flushed) entries, walking the whole LRU from the tail; at most
   * `maxCount` (0 or absent = all). Returns the number freed. Holds the lock for the walk.
   */
  flushExpired(maxCount?: number): number {
    const max = checkLimit(maxCount, 'maxCount', 0);
    this.lockSync();
    try {
      this.lastStatus = DictStatus.OK;
      return flushExpiredLocked(this.core, this.now(), max);
    } catch (err) {
      throw afterLockedError(this.pool, this.name, err);
    } finally {
      this.pool.unlock();
    }
  }

  /**
   * Live keys, least recently written first (LRU tail first), at most `limit` (default 1024,
   * 0 = all). Keys are decoded as UTF-8 (`binary` = true gives Buffers). Holds the lock for
   * the walk.
   */
  keys(limit?: number, binary?: false): string[];
  keys(limit: number | undefined, binary: true): Buffer[];
  keys(limit?: number, binary = false): (string | Buffer)[] {
    const max = checkLimit(limit, 'limit', DEFAULT_KEYS_LIMIT);
    const c = this.core;
    const out: (string | Buffer)[] = [];
    this.lockSync();
    try {
      const now = this.now();
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
    } catch (err) {
      throw afterLockedError(this.pool, this.name, err);
    } finally {
      this.pool.unlock();
    }
    this.lastStatus = DictStatus.OK;
    return out;
  }

  /**
   * The zone's declared size in bytes, rounded up to pages (Lua's capacity(): the whole
   * zone, headers included); the pool's bytes for a dict over a bare `{ pool, root }`.
   */
  capacity(): number {
    return this.host instanceof Zone ? this.host.size : this.pool.capacity;
  }

  /** Bytes in completely free slab pages (Lua's free_space(); chunks in partly used pages are not counted). */
  freeSpace(): number {
    return this.pool.freeSpace();
  }

  /** Entries stored, including expired ones not yet reclaimed (O(1); flushExpired() first for an exact live count). */
  /**
   * Entries in the index: live keys plus expired ones not reclaimed yet (as lru-cache's
   * `size` counts stale entries until they are purged). Counting only live keys would walk
   * every entry under the host-wide lock; `flushExpired()` first gives the live count.
   */
  size(): number {
    this.syncIfMoved();
    return this.core.count;
  }

  stats(): DictStats {
    const c = this.core;
    this.lockSync();
    try {
      return dictCounters(c.u32, c.f64, c.hw);
    } catch (err) {
      throw afterLockedError(this.pool, this.name, err);
    } finally {
      this.pool.unlock();
    }
  }

  /**
   * Check the slab (`pool.verify()`) and the dict's own invariants under the lock: every LRU
   * entry is in the index at the slot its hash leads to, the LRU links are symmetric, COUNT
   * and BYTES8 match what is linked, list lengths match their elements, the graveyard is
   * empty. Throws SlabCorruptionError or DictError ERR_DICT_CORRUPT. O(entries); for tests and
   * after crash recovery.
   */
  verify(): void {
    const c = this.core;
    this.lockSync();
    try {
      this.pool.verify();
      const u32 = c.u32;
      const hw = c.hw;
      const bad = (what: string): never => {
        throw new DictError('ERR_DICT_CORRUPT', `dict "${this.name}": ${what}`);
      };
      let n = 0;
      let units = 0;
      let prev = 0;
      for (let e = u32[hw + D_LRU_HEAD]; e !== 0; e = u32[e * 2 + E_NEXT]) {
        if (++n > u32[hw + D_COUNT]) bad(`LRU longer than COUNT ${u32[hw + D_COUNT]}`);
        if (u32[e * 2 + E_PREV] !== prev) bad(`entry ${e}: PREV ${u32[e * 2 + E_PREV]} != ${prev}`);
        if (slotOfRef(c, u32[e * 2 + E_HASH], e) < 0)
          bad(`entry ${e} is not reachable in the index`);
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
      if (prev !== u32[hw + D_LRU_TAIL])
        bad(`LRU tail ${u32[hw + D_LRU_TAIL]} != last entry ${prev}`);
      if (n !== u32[hw + D_COUNT]) bad(`LRU has ${n} entries, COUNT says ${u32[hw + D_COUNT]}`);
      if (units !== u32[hw + D_BYTES8])
        bad(`linked entries take ${units * 8} bytes, BYTES8 says ${u32[hw + D_BYTES8] * 8}`);
      if (u32[hw + D_GRAVE] !== 0) bad('graveyard not empty');
    } catch (err) {
      throw afterLockedError(this.pool, this.name, err);
    } finally {
      this.pool.unlock();
    }
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
      this.flights ??= openFlights(this, this.host);
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
    this.flights ??= openFlights(this, this.host);
    return this.flights.wrap(fn, options);
  }

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
    const zone = Zone.fromTransfer(handle.zone as ZoneHandle);
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

  // ================================================================ internals

  /** Lock-free read: seqlock-validated copy; falls back to the lock after READ_RETRIES. */
  private readShared(mode: number): DictValue | undefined {
    const c = this.core;
    const u32 = c.u32;
    const u8 = c.u8;
    const i32 = c.i32;
    const kb = this.key.bytes;
    const klen = this.key.length;
    const h = this.key.hash;
    const size = u8.length;
    const words = u32.length;
    // Closed (or not started) zone: never read its memory. This used to be `host.root !==
    // c.root` on every attempt, i.e. Zone.root's Atomics.load of ROOT, which threw once the
    // zone was closed and also noticed a rebuilt dict. The closed check is now the zone's
    // plain `started` field (a zone is closed only by this thread's own code, never in the
    // middle of this synchronous call, so once per call is enough). A rebuilt dict needs no
    // check of its own here: ROOT is stored only under the lock, by `syncLocked`, and only
    // (a) when the first attacher builds the dict, before this object's `attach` returned,
    // or (b) when the pool generation changed, i.e. after a reset, which only a recovery
    // does, and every recovery bumps the shared takeover count before its first store (the
    // count is never reset, not even by the pool's re-format). So a reader whose `c.hw` is
    // out of date reads with `u32[recWord] !== repairedAt` and rejects its copy at the
    // recovery-count check below (or breaks out on it at once, on a later call), and every
    // load it made on the way is bounds-checked: no throw, no unbounded loop. The locked
    // path (`stale()`) still compares ROOT, so the fallback adopts the new dict.
    if (!this.zone.started) return this.notOpen(mode);
    for (let attempt = 0; attempt < READ_RETRIES; attempt++) {
      const sw = this.seqW + (1 + (h >>> SEQ_STRIPE_SHIFT)) * LINE_WORDS;
      // Acquire: the stripe word even and remembered before any data load below (the one
      // word covers everything this key's read depends on, see seqlock.ts).
      const s0 = Atomics.load(i32, sw);
      if ((s0 & 1) !== 0) {
        // A writer is inside: wait a little (its sections are short) before trying again.
        for (let spin = 0; spin < SPINS_ON_ODD && (Atomics.load(i32, sw) & 1) !== 0; spin++);
        continue;
      }
      // ---- speculative: anything may be torn; check every offset before using it.
      const hw = c.hw;
      const tw = u32[hw + D_TABLE] * 2;
      const mask = u32[hw + D_MASK];
      if (((mask + 1) & mask) !== 0 || tw + (mask + 1) * SLOT_WORDS > words) continue;
      let i = h & mask;
      let e = 0;
      for (let n = 0; n <= mask; n++) {
        const ref = u32[tw + i * SLOT_WORDS + S_REF];
        if (ref === 0) break;
        if (
          u32[tw + i * SLOT_WORDS + S_HASH] === h &&
          ref * 8 + ENTRY_HEADER_BYTES + klen <= size
        ) {
          const ew = ref * 2;
          if ((u32[ew + E_META] & META_KEYLEN_MASK) === klen) {
            const base = ref * 8 + ENTRY_HEADER_BYTES;
            let j = 0;
            while (j < klen && u8[base + j] === kb[j]) j++;
            if (j === klen) {
              e = ref;
              break;
            }
          }
        }
        i = (i + 1) & mask;
      }
      let value: DictValue | undefined;
      let status: number = DictStatus.NOT_FOUND;
      let flags = 0;
      let stale = false;
      if (e !== 0) {
        const ew = e * 2;
        const type = (u32[ew + E_META] >>> META_TYPE_SHIFT) & META_TYPE_MASK;
        const vlen = u32[ew + E_VLEN];
        const off = e * 8 + ENTRY_HEADER_BYTES + align8(klen);
        const hi = u32[ew + E_EXP_HI];
        const lo = u32[ew + E_EXP_LO];
        let live = u32[ew + E_GEN] === u32[hw + D_FLUSH_GEN];
        if (live && (hi | lo) !== 0) live = hi * 4294967296 + lo > this.now();
        if (live || mode === READ_STALE) {
          stale = !live;
          flags = u32[ew + E_FLAGS];
          if (mode === READ_HAS) {
            value = true;
            status = DictStatus.OK;
          } else if (type === T_LIST) {
            status = DictStatus.NOT_LIST;
          } else {
            if (off + vlen > size) continue; // torn length
            if (mode === READ_INTO) {
              status = this.copyToTarget(off, type, vlen);
              if (status !== DictStatus.NOT_BYTES) value = vlen;
            } else if (type === T_BYTES && vlen <= POOL_MAX) {
              // bytesOut's pooled path, inlined here (V8 does not inline it into this big
              // function): the same 8-byte word copy into a slice of the shared pool.
              const slot = (vlen + 7) & ~7;
              const bp = BYTE_POOL;
              const at = bp.take(slot);
              const dst = bp.f64;
              const src = c.f64;
              const sw8 = off / 8;
              const dw = at >>> 3;
              const n = slot >>> 3;
              for (let k = 0; k < n; k++) dst[dw + k] = src[sw8 + k];
              value = new PooledBuffer(bp.buf, at, vlen) as unknown as Buffer;
              status = DictStatus.OK;
            } else {
              value = readValue(c, off, type, vlen);
              status = DictStatus.OK;
            }
          }
        }
      }
      // Release check: nothing we read changed if the word still holds what we saw. A plain
      // load on x86 (after the copy's loads in program and in hardware order; seqlock.ts).
      if ((this.recheckPlain ? i32[sw] : Atomics.load(i32, sw)) !== s0) continue;
      // ...and no recovery started since this object last synced: a rollback (or a reset)
      // rewrites data without touching the stripe words, and the takeover count is bumped
      // before its first store. Loaded after the data (x86 keeps loads in order; V8 does not
      // move a load above the Atomics.load call). Mismatch: repair/sync under the lock.
      if (u32[this.recWord] !== this.repairedAt) break;
      // ---- validated.
      this.lastStatus = status;
      if (mode !== READ_HAS) {
        this.lastFlags = flags;
        this.lastStale = stale;
        const line = this.statF64;
        if (status === DictStatus.OK) c.f64[line + STAT_HITS_F64] += 1;
        else c.f64[line + STAT_MISSES_F64] += 1;
      }
      if (status === DictStatus.OK && !stale) {
        // Mark for the eviction clock. Plain racy byte store into memory that is never freed
        // while the dict lives; skip it when already set so hot keys do not dirty the line.
        const b = this.refOff + (h & this.refMask);
        if (u8[b] === 0) u8[b] = 1;
      }
      return value;
    }
    return this.readLocked(mode);
  }

  /**
   * A read on a closed or not started zone: throws the host's own error (ZoneError
   * ERR_ZONE_CLOSED, DictError ERR_DICT_NOT_STARTED) from its ROOT getter.
   */
  private notOpen(mode: number): DictValue | undefined {
    if (this.host.root === -1) return undefined; // throws first
    return this.readLocked(mode);
  }

  /**
   * getInto's copy of `vlen` bytes at zone byte `off` (inside the zone, 8-aligned) into
   * `this.target`: a word loop when the target is 4-aligned, else bytes. Returns the status.
   */
  private copyToTarget(off: number, type: number, vlen: number): number {
    if (type !== T_BYTES && type !== T_STRING) return DictStatus.NOT_BYTES;
    const target = this.target;
    if (vlen > target.length) return DictStatus.BUFFER_TOO_SMALL;
    if (vlen === 0) return DictStatus.OK;
    if (this.targetView !== target) {
      this.targetView = target;
      this.targetI32 =
        (target.byteOffset & 3) === 0
          ? new Int32Array(target.buffer, target.byteOffset, target.length >>> 2)
          : null;
    }
    const i32 = this.targetI32;
    if (i32 !== null) {
      copyOut(this.core, off, vlen, i32, target, 0);
    } else {
      const u8 = this.core.u8;
      for (let k = 0; k < vlen; k++) target[k] = u8[off + k];
    }
    return DictStatus.OK;
  }

  /** Read under the lock (reads: 'locked', or the seqlock fallback). */
  private readLocked(mode: number): DictValue | undefined {
    const c = this.core;
    this.lockSync();
    try {
      if (this.lockedReads && (mode === READ_GET || mode === READ_INTO)) this.expireLocked();
      const slot = this.find();
      const e = slot >= 0 ? slotRef(c, slot) : 0;
      let value: DictValue | undefined;
      let status: number = DictStatus.NOT_FOUND;
      let flags = 0;
      let stale = false;
      if (e !== 0) {
        const live = c.isLive(e, this.now());
        if (live || mode === READ_STALE) {
          stale = !live;
          flags = c.u32[e * 2 + E_FLAGS];
          const type = c.type(e);
          if (mode === READ_HAS) {
            value = true;
            status = DictStatus.OK;
          } else if (type === T_LIST) {
            status = DictStatus.NOT_LIST;
          } else if (mode === READ_INTO) {
            const vlen = c.u32[e * 2 + E_VLEN];
            status = this.copyToTarget(c.valueOffset(e), type, vlen);
            if (status !== DictStatus.NOT_BYTES) value = vlen;
          } else {
            value = readValue(c, c.valueOffset(e), type, c.u32[e * 2 + E_VLEN]);
            status = DictStatus.OK;
          }
          if (status === DictStatus.OK && live) {
            if (this.lockedReads) {
              if (mode === READ_GET || mode === READ_INTO) lruTouch(c, e); // exact LRU, as Lua
            } else {
              const b = this.refOff + (this.key.hash & this.refMask);
              if (c.u8[b] === 0) c.u8[b] = 1;
            }
          }
        }
      }
      this.lastStatus = status;
      if (mode !== READ_HAS) {
        this.lastFlags = flags;
        this.lastStale = stale;
        if (status === DictStatus.OK) c.f64[this.statF64 + STAT_HITS_F64] += 1;
        else c.f64[this.statF64 + STAT_MISSES_F64] += 1;
      }
      return value;
    } catch (err) {
      throw afterLockedError(this.pool, this.name, err);
    } finally {
      this.pool.unlock();
    }
  }

  /** Validate, lock, and run one store of the set family. */
  private store(
    mode: number,
    evict: boolean,
    key: string | Uint8Array,
    value: unknown,
    ttl: number | undefined,
    flags: number | undefined,
  ): StoreResult {
    this.key.load(key);
    if (value === null || value === undefined) {
      if (mode !== MODE_SET) {
        throw new DictError(
          'ERR_DICT_VALUE_TYPE',
          'add() and replace() refuse null and undefined values',
        );
      }
      this.delete(key);
      this.lastStatus = DictStatus.OK;
      return STORED;
    }
    const vi = this.vi;
    vi.classify(value);
    if (vi.type >= T_V8) value = vi.encoded; // a structured value: its codec's bytes
    const ttlMs = checkTtl(ttl);
    const fl = checkFlags(flags);
    const c = this.core;
    this.beginWrite();
    try {
      const now = this.now();
      const slot = this.find();
      const old = slot >= 0 ? slotRef(c, slot) : 0;
      if (mode !== MODE_SET) {
        const live = old !== 0 && c.isLive(old, now);
        if (mode === MODE_ADD && live) {
          this.lastStatus = DictStatus.EXISTS;
          return FAILED;
        }
        if (mode === MODE_REPLACE && !live) {
          this.lastStatus = DictStatus.NOT_FOUND;
          return FAILED;
        }
      }
      return this.storeLocked(
        slot,
        old,
        evict,
        vi.type,
        vi.length,
        value as DictValue,
        expiryAt(now, ttlMs),
        fl,
      );
    } catch (err) {
      throw afterLockedError(this.pool, this.name, err);
    } finally {
      this.pool.unlock();
    }
  }

  /**
   * The store itself (lock held, key in `this.key`, `slot`/`old` from a lookup after the
   * expire step). New entry first, then link it, then free the old one: a failed allocation
   * leaves the old value in place. Sets lastStatus.
   */
  /** The in-place overwrite's value buffer, made on first use (most dicts never need it). */
  private scratch(): OverwriteScratch {
    return (this.overwriteScratch ??= new OverwriteScratch());
  }

  /** Bumps the SETS statistic (layout.ts D_SETS: a plain store under the lock, no journal). */
  private countStore(): void {
    const c = this.core;
    c.u32[c.hw + D_SETS] = (c.u32[c.hw + D_SETS] + 1) >>> 0;
  }

  private storeLocked(
    slot: number,
    old: number,
    evict: boolean,
    type: number,
    vlen: number,
    value: DictValue | null,
    at: number,
    flags: number,
  ): StoreResult {
    const c = this.core;
    const k = this.key;
    const size = entrySize(k.length, type, vlen);
    let off = this.reserve(size, old === 0, old, evict && old === 0);
    if (off === 0 && old !== 0) {
      // No fresh chunk: an old entry whose chunk can take the value is overwritten in place
      // (overwrite.ts) rather than evicting others or failing a safeSet, as lua does.
      if (fitsInPlace(c, old, this.pool.usableSize(old * 8), type, vlen)) {
        overwriteInPlace(c, this.scratch(), old, k.hash, type, vlen, value!, flags, at);
        this.countStore();
        this.lastStatus = DictStatus.OK;
        return STORED;
      }
      if (evict) off = this.reserve(size, false, old, true);
    }
    if (off === 0) {
      this.lastStatus = this.forcible ? DictStatus.NO_MEMORY_FORCIBLE : DictStatus.NO_MEMORY;
      return FAILED;
    }
    entryFill(c, off, k.hash, k.bytes, k.length, type, vlen, flags, at, value);
    const e = off / 8;
    if (this.forcible && old !== 0) slot = this.find(); // evictions may have shifted slots
    const sw = stripeWord(this.seqW, k.hash);
    seqEnter(c.i32, sw);
    if (old !== 0) {
      tableSetRef(c, slot, e);
      lruReplace(c, old, e);
      entryRetire(c, old);
    } else {
      tableInsert(c, k.hash, e);
      lruPushHead(c, e);
    }
    c.w(c.hw + D_BYTES8, c.u32[c.hw + D_BYTES8] + align8(size) / 8);
    this.countStore();
    seqLeave(c.i32, sw);
    if (c.u32[c.hw + D_GRAVE] !== 0) reapGraveyard(c);
    if (this.forcible) {
      this.lastStatus = DictStatus.FORCIBLE;
      return STORED_FORCIBLY;
    }
    this.lastStatus = DictStatus.OK;
    return STORED;
  }

  /**
   * Allocate `size` bytes for a new entry (and, when `needSlot`, make sure the index has room
   * for one more key), running eviction steps when allowed. `keep` is never evicted. Returns
   * the byte offset or 0; sets `this.forcible`. Commits after each eviction or resize.
   *
   * How long to evict: Lua stops after 30 steps. Measured on a 1 MiB zone filled with 50-,
   * 200- and 1000-byte values, storing a 600 B / 5 KB / 20 KB value needed up to 108 / 95 /
   * 191 evictions (single tail entries free a page only once all its chunks go), so 30 steps
   * often fail where memory could be had. We run at least `evictionTries` (30) steps and
   * keep going until the evicted entries add up to EVICTION_BYTES_FACTOR x (size + a page),
   * capped at MAX_EVICTION_STEPS. A store that could not fit even in an empty zone evicts
   * nothing (allocationCeiling). See test/dict/70.eviction.test.ts.
   */
  private reserve(size: number, needSlot: boolean, keep: number, evict: boolean): number {
    const c = this.core;
    const pool = this.pool;
    let forcible = false;
    let freed8 = 0;
    const budget8 = (EVICTION_BYTES_FACTOR * (size + 4096)) / 8;
    for (let tries = 0; ; tries++) {
      if (needSlot && !tableBelowGrow(c) && tableGrow(c)) pool.commit();
      if (!needSlot || tableHasRoom(c)) {
        const off = pool.allocLocked(size);
        if (off !== 0) {
          this.forcible = forcible;
          return off;
        }
      }
      if (!evict || this.tries === 0 || tries >= MAX_EVICTION_STEPS) break;
      if (tries === 0 && size > allocationCeiling(c)) break; // would not fit in an empty zone
      if (tries >= this.tries && freed8 >= budget8) break;
      if (tries === 0 && keep !== 0) lruTouch(c, keep); // keep is the most recent: evicted last
      const before = c.u32[c.hw + D_BYTES8];
      if (expireStep(c, this.now(), true, keep) === 0) break;
      freed8 += before - c.u32[c.hw + D_BYTES8];
      forcible = true;
    }
    this.forcible = forcible;
    return 0;
  }

  private push(key: string | Uint8Array, value: DictValue, left: boolean): number | undefined {
    this.key.load(key);
    const vi = this.vi;
    vi.classify(value);
    if (vi.type >= T_V8) {
      throw new DictError(
        'ERR_DICT_VALUE_TYPE',
        `List elements must be strings, numbers, booleans or Uint8Arrays, got ${describeValue(value)}`,
      );
    }
    const c = this.core;
    const k = this.key;
    this.beginWrite();
    try {
      const now = this.now();
      let slot = this.find();
      let e = slot >= 0 ? slotRef(c, slot) : 0;
      if (e !== 0) {
        const live = c.isLive(e, now);
        const isList = c.type(e) === T_LIST;
        if (live && !isList) {
          this.lastStatus = DictStatus.NOT_LIST;
          return undefined;
        }
        if (!live && isList) {
          // Lua empties an expired list and reuses it.
          listClear(c, e);
          const sw = stripeWord(this.seqW, k.hash);
          seqEnter(c.i32, sw);
          c.w(e * 2 + E_FLAGS, 0);
          c.w(e * 2 + E_EXP_LO, 0);
          c.w(e * 2 + E_EXP_HI, 0);
          c.w(e * 2 + E_GEN, c.u32[c.hw + D_FLUSH_GEN]);
          seqLeave(c.i32, sw);
          lruTouch(c, e);
          c.pool.commit();
        } else if (!live) {
          this.dropAndReap(slot, e);
          e = 0;
        }
      }
      let created = false;
      if (e === 0) {
        const r = this.storeLocked(-1, 0, false, T_LIST, 0, null, 0, 0);
        if (r === FAILED) return undefined;
        c.pool.commit();
        slot = this.find();
        e = slotRef(c, slot);
        created = true;
      }
      const l = elementCreate(c, vi.type, vi.length, value);
      if (l === 0) {
        if (created) this.dropAndReap(slot, e);
        this.lastStatus = DictStatus.NO_MEMORY;
        return undefined;
      }
      const sw = stripeWord(this.seqW, k.hash);
      seqEnter(c.i32, sw);
      const n = listPush(c, e, l, left);
      seqLeave(c.i32, sw);
      if (!created) lruTouch(c, e);
      this.lastStatus = DictStatus.OK;
      return n;
    } catch (err) {
      throw afterLockedError(this.pool, this.name, err);
    } finally {
      this.pool.unlock();
    }
  }

  private pop(key: string | Uint8Array, left: boolean): DictValue | undefined {
    this.key.load(key);
    const c = this.core;
    this.beginWrite();
    try {
      const slot = this.find();
      const e = slot >= 0 ? slotRef(c, slot) : 0;
      if (e === 0 || !c.isLive(e, this.now())) {
        this.lastStatus = DictStatus.NOT_FOUND;
        return undefined;
      }
      if (c.type(e) !== T_LIST) {
        this.lastStatus = DictStatus.NOT_LIST;
        return undefined;
      }
      const sw = stripeWord(this.seqW, this.key.hash);
      seqEnter(c.i32, sw);
      const value = listPop(c, e, left);
      seqLeave(c.i32, sw);
      if (c.u32[e * 2 + E_VLEN] === 0) {
        c.pool.commit();
        this.dropAndReap(slot, e);
      } else {
        lruTouch(c, e);
      }
      this.lastStatus = DictStatus.OK;
      return value;
    } catch (err) {
      throw afterLockedError(this.pool, this.name, err);
    } finally {
      this.pool.unlock();
    }
  }

  /** Drop the entry in `slot`, commit, and free any graveyard list. */
  private dropAndReap(slot: number, e: number): void {
    const c = this.core;
    entryDrop(c, slot, e);
    c.pool.commit();
    if (c.u32[c.hw + D_GRAVE] !== 0) reapGraveyard(c);
  }

  /** In-place number write of a live entry: journaled, in its stripe section. */
  private writeNumberLocked(e: number, value: number): void {
    const sw = stripeWord(this.seqW, this.key.hash);
    seqEnter(this.core.i32, sw);
    this.writeNumberRaw(e, value);
    seqLeave(this.core.i32, sw);
  }

  /** Store a float64 into a live entry's value as two journaled words. */
  private writeNumberRaw(e: number, value: number): void {
    const c = this.core;
    NUM_F64[0] = value;
    const w = c.valueOffset(e) / 4;
    c.w(w, NUM_U32[0]);
    c.w(w + 1, NUM_U32[1]);
  }

  /** Slot of the current key (lock held), -1 if absent. */
  private find(): number {
    return tableFind(this.core, this.key.bytes, this.key.length, this.key.hash);
  }

  /** Lock, make sure the header is current, finish any graveyard, run Lua's expire(1). */
  private beginWrite(): void {
    this.lockSync();
    try {
      this.expireLocked();
    } catch (err) {
      const thrown = afterLockedError(this.pool, this.name, err);
      this.pool.unlock();
      throw thrown;
    }
  }

  private expireLocked(): void {
    const c = this.core;
    if (c.u32[c.hw + D_GRAVE] !== 0) reapGraveyard(c);
    if (c.u32[c.hw + D_LRU_TAIL] !== 0) {
      expireStep(c, this.now(), false, 0);
      c.pool.commit();
    }
  }

  /** Does this object need `syncLocked`: ROOT moved, or a recovery it has not synced after? */
  private stale(): boolean {
    return this.host.root !== this.core.root || this.core.u32[this.recWord] !== this.repairedAt;
  }

  /** Take the lock; sync with ROOT and with any recovery (`syncLocked`) when needed. */
  private lockSync(): void {
    this.pool.lock();
    if (this.stale()) {
      try {
        this.syncLocked();
      } catch (err) {
        const thrown = afterLockedError(this.pool, this.name, err);
        this.pool.unlock();
        throw thrown;
      }
    }
  }

  private syncIfMoved(): void {
    if (!this.stale()) return;
    this.pool.lock();
    try {
      this.syncLocked();
    } catch (err) {
      throw afterLockedError(this.pool, this.name, err);
    } finally {
      this.pool.unlock();
    }
  }

  /**
   * Under the lock: attach to the dict in ROOT (building it when there is none, or when the
   * pool was reset since it was built), and do the dict's share of any recovery of the pool
   * that it has not done yet. Recoveries are noticed from shared words only — the pool's
   * takeover count and generation against the header's D_REPAIRED and D_POOL_GEN — so it does
   * not matter which process or pool object took the lock over (seqlock.ts, "Recovery").
   */
  private syncLocked(): void {
    const pool = this.pool;
    const u32 = pool.u32;
    const count = u32[this.recWord];
    let root = this.host.root;
    if (!dictCurrent(pool, root)) {
      if (root !== 0) {
        // Not a dict of this pool generation. After a reset the old header is free memory
        // (maybe reused): never read it. Without a reset ever, ROOT must hold a dict.
        if (pool.generation === 0) {
          throw new DictError(
            'ERR_DICT_CORRUPT',
            `zone "${this.name}": ROOT ${root} does not hold a dict header`,
          );
        }
        console.warn(
          `shmzone: dict "${this.name}": the pool was reset (generation ${pool.generation}); ` +
            'the dict was rebuilt EMPTY',
        );
        // First forget the old header: a crash before the new ROOT is stored then leaves "no
        // dict" (the next locker builds one), never ROOT pointing at chunks a rollback freed.
        this.host.root = 0;
      }
      // Whoever rebuilds stores ROOT under the lock; the next locker finds a current header
      // there and adopts it, so two processes that both notice do not both rebuild.
      root = dictCreateLocked(pool);
      pool.commit();
      this.host.root = root;
    }
    this.adopt(root);
    const hw = root / 4;
    if (u32[hw + D_REPAIRED] !== count) {
      // A recovery since the dict last repaired: the rollback may have returned words a
      // reader already copied, and a dead writer may have left its stripe odd. Move every
      // word forward to an even value (unjournaled, forward only), then record the count.
      // A crash in here is itself a takeover: it bumps the count, so the next locker repairs
      // again (a second bump is harmless).
      seqAfterRecovery(this.core.i32, this.seqW);
      pool.write32(hw + D_REPAIRED, count);
      pool.commit();
      const c = this.core;
      if (c.u32[c.hw + D_GRAVE] !== 0) reapGraveyard(c);
    }
    this.repairedAt = count;
  }

  private adopt(root: number): void {
    const c = this.core;
    // The areas' refs are cached below and used lock-free: check them once, here.
    checkHeaderAreas(this.pool, root / 4, corrupt);
    c.root = root;
    c.hw = root / 4;
    const u32 = c.u32;
    this.seqW = u32[c.hw + D_SEQ] * 2;
    this.refOff = u32[c.hw + D_REFBITS] * 8;
    this.refMask = u32[c.hw + D_REF_MASK];
    this.statF64 = u32[c.hw + D_STATS] + this.statLine * (LINE_WORDS / 2);
  }
}

const NUM_F64 = new Float64Array(1);
/** `SharedDict.zone` before attach, and for hosts that are not zones (always open). */
const NOT_OPEN = { started: false } as const;
const OPEN_HOST = { started: true } as const;

function notStarted(name: string): never {
  throw new DictError(
    'ERR_DICT_NOT_STARTED',
    `dict "${name}" has no memory yet: await zones.start() first`,
  );
}

/** Stands in for the zone until `attach`: every entry point reaches `lock()` or `root`. */
function notStartedHost(name: string): DictHost {
  const pool = PLACEHOLDER_POOL;
  return {
    pool: {
      ...pool,
      lock: () => notStarted(name),
      freeSpace: () => notStarted(name),
      get capacity(): number {
        return notStarted(name);
      },
    },
    get root(): number {
      return notStarted(name);
    },
    set root(_v: number) {
      notStarted(name);
    },
  };
}
const NUM_U32 = new Uint32Array(NUM_F64.buffer);

const PLACEHOLDER_SAB = new SharedArrayBuffer(64);
const PLACEHOLDER_POOL: DictPool = {
  u8: new Uint8Array(PLACEHOLDER_SAB),
  u32: new Uint32Array(PLACEHOLDER_SAB),
  i32: new Int32Array(PLACEHOLDER_SAB),
  capacity: 0,
  freeSpace: () => 0,
  lock: () => undefined,
  unlock: () => undefined,
  holdsLock: () => false,
  allocLocked: () => 0,
  callocLocked: () => 0,
  freeLocked: () => undefined,
  write32: () => undefined,
  commit: () => undefined,
  usableSize: () => 0,
  resetDamaged: () => undefined,
  recoveriesWord: 0,
  generation: 0,
  verify: () => undefined,
};
const PLACEHOLDER_CORE = new DictCore(PLACEHOLDER_POOL);

// Re-exported for callers that only import dict.ts.
export { FAILED, STORED, STORED_FORCIBLY, DictStatus };
export type { StoreResult, DictValue };
