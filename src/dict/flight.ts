/**
 * getOrSet / wrap with host-wide single-flight: when threads in several processes miss the
 * same key at once, one of them runs the loader and the others await its result.
 *
 * Shared state (no new layout: everything is a dict entry or a zone header word):
 * - the in-flight marker: entry `0xFF 'F' <key bytes>`, value = the loader's owner id (the
 *   peer table's `1 + slot + 128 * generation`). `add` creates it, so exactly one caller wins.
 * - the takeover claim: entry `0xFF 'T' <dead id, 4 bytes> <key bytes>`, 60 s TTL. When the
 *   marker names a dead owner (`OwnerIdentity.isOwnerDead`: its process or thread is gone),
 *   waiters race to `add` it; the winner re-checks the marker still names the dead id and
 *   overwrites it with its own. Ids carry their slot's generation, so a claim never matches a
 *   later owner (test/dict/96.get-or-set-processes.test.ts).
 * - the flight word (zone header word H_FLIGHT_WAKE): bumped and futex-woken after every load
 *   ends (stored, failed or thrown); waiters sleep on it (flight-wait.ts) at most
 *   LIVENESS_CHECK_MS before checking the marker's owner is still alive.
 * Keys whose first byte is 0xFF are thereby reserved (no UTF-8 string starts with it).
 *
 * Crash safety is the dict's: every shared write is one dict call under the zone lock.
 * Inside one thread, calls for the same key share one promise, so a loader's error reaches
 * the callers of its own thread; callers elsewhere wake, find no value and no marker, and
 * one of them loads again.
 */
import { DictError } from '../errors.js';
import type { OwnerIdentity } from '../slab/api.js';
import { isThreadsOnlyZone } from '../zone/header.js';
import { H_FLIGHT_WAKE } from '../zone/layout.js';
import { flightWordOf, type FlightWord } from './flight-wait.js';
import { MAX_KEY_BYTES } from './layout.js';
import type { DictHost } from './pool.js';
import { DictStatus, FAILED, type StoreResult } from './status.js';
import { checkTtl } from './validate.js';

/** How often a waiter checks that the loader it waits for is still alive. */
export const LIVENESS_CHECK_MS = 100;
/** Lifetime of a takeover claim; any takeover is long done by then. */
const TAKEOVER_TTL_MS = 60_000;
const RESERVED = 0xff;
const MARKER = 0x46; // 'F'
const TAKEOVER = 0x54; // 'T'
/** Marker and takeover-claim bytes added to a key: getOrSet keys are this much shorter. */
export const FLIGHT_KEY_OVERHEAD = 6;

/** `getOrSet` options. */
export interface GetOrSetOptions {
  /** TTL of the stored value in ms, 0 or absent = forever (as `set`). */
  ttl?: number;
  /**
   * Stale-while-revalidate, in ms (needs `ttl`): the value is kept `ttl + staleTtl` ms; once
   * older than `ttl`, callers get it at once while one caller on the host reloads it in the
   * background. A failed background reload keeps the stale value until it expires.
   */
  staleTtl?: number;
}

/** Validated getOrSet options: the TTL to store with, and the stale part of it. */
interface Lifetime {
  /** What the value is stored with: ttl + staleTtl (0 = forever). */
  storeTtl: number;
  /** 0, or the tail of storeTtl during which the value is served stale and reloaded. */
  staleTtl: number;
}

/** `wrap` options. */
export interface WrapOptions<A extends unknown[]> extends GetOrSetOptions {
  /** The cache key of a call; default: `fn.name` + ':' + JSON.stringify(args). */
  key?: (...args: A) => string | Uint8Array;
}

/** What the flight needs of a SharedDict: its public calls. */
export interface FlightDict {
  readonly name: string;
  lastStatus: number;
  get(key: string | Uint8Array): unknown;
  add(key: string | Uint8Array, value: unknown, ttl?: number): StoreResult;
  set(key: string | Uint8Array, value: unknown, ttl?: number): StoreResult;
  delete(key: string | Uint8Array): boolean;
  ttl(key: string | Uint8Array): number | undefined;
}

const encoder = new TextEncoder();

/**
 * The Flights of `dict` attached to `host`. Throws DictError ERR_DICT_FLIGHT_HOST unless the
 * host is a started zone (the flight word lives in the zone header, `host.buffer`).
 */
export function openFlights(dict: FlightDict, host: DictHost): Flights {
  const owner = host.pool.owner;
  if (host.buffer === undefined || owner === undefined || host.started !== true) {
    throw new DictError(
      'ERR_DICT_FLIGHT_HOST',
      `getOrSet/wrap need a dict in a started zone (dict "${dict.name}")`,
    );
  }
  const word = flightWordOf(host.buffer, H_FLIGHT_WAKE, isThreadsOnlyZone(host.buffer));
  return new Flights(dict, word, owner);
}

/** One dict's getOrSet state in the calling thread. */
export class Flights {
  /** Loads in progress in this thread, by key (see localKey). */
  private readonly local = new Map<string, Promise<unknown>>();

  constructor(
    private readonly dict: FlightDict,
    private readonly word: FlightWord,
    private readonly owner: OwnerIdentity,
  ) {}

  /** See SharedDict.getOrSet. */
  getOrSet<T>(
    key: string | Uint8Array,
    loader: (key: string | Uint8Array) => T | Promise<T>,
    options: GetOrSetOptions = {},
  ): Promise<T> {
    try {
      const keyBytes = flightKeyBytes(key);
      if (typeof loader !== 'function') {
        throw new DictError('ERR_DICT_LOADER', `getOrSet: the loader must be a function`);
      }
      const life = readLifetime(options);
      const hit = this.dict.get(key);
      if (hit !== undefined) {
        if (this.isStale(key, life)) this.start(key, keyBytes, loader, life, true).catch(ignore);
        return Promise.resolve(hit as T);
      }
      return this.start(key, keyBytes, loader, life, false) as Promise<T>;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** This thread's flight for `key`, started unless one is under way. */
  private start<T>(
    key: string | Uint8Array,
    keyBytes: Uint8Array,
    loader: (key: string | Uint8Array) => T | Promise<T>,
    life: Lifetime,
    refresh: boolean,
  ): Promise<unknown> {
    const id = localKey(key);
    let flight = this.local.get(id);
    if (flight === undefined) {
      flight = this.fly(key, keyBytes, loader, life, refresh).finally(() => this.local.delete(id));
      this.local.set(id, flight);
    }
    return flight;
  }

  /** True when `key`'s value is in the stale tail of its lifetime (see staleTtl). */
  private isStale(key: string | Uint8Array, life: Lifetime): boolean {
    if (life.staleTtl === 0) return false;
    const left = this.dict.ttl(key);
    return left !== undefined && left !== 0 && left <= life.staleTtl;
  }

  /** See SharedDict.wrap. */
  wrap<A extends unknown[], T>(
    fn: (...args: A) => T | Promise<T>,
    options: WrapOptions<A> = {},
  ): (...args: A) => Promise<T> {
    if (typeof fn !== 'function') {
      throw new DictError('ERR_DICT_LOADER', 'wrap: fn must be a function');
    }
    const keyOf = options.key ?? ((...args: A) => `${fn.name}:${JSON.stringify(args)}`);
    if (typeof keyOf !== 'function') {
      throw new DictError('ERR_DICT_OPTION', 'wrap: the "key" option must be a function');
    }
    const { storeTtl, staleTtl } = readLifetime(options);
    const getOrSetOptions: GetOrSetOptions = { ttl: storeTtl - staleTtl, staleTtl };
    return (...args: A) => {
      let key: string | Uint8Array;
      try {
        key = keyOf(...args);
      } catch (error) {
        return Promise.reject(error);
      }
      return this.getOrSet(key, () => fn(...args), getOrSetOptions);
    };
  }

  /**
   * The host-wide part: become the loader, or wait for the one there is. A `refresh` (the
   * value is stale) loads only while the value is still stale and nobody else is loading it.
   */
  private async fly<T>(
    key: string | Uint8Array,
    keyBytes: Uint8Array,
    loader: (key: string | Uint8Array) => T | Promise<T>,
    life: Lifetime,
    refresh: boolean,
  ): Promise<T> {
    const dict = this.dict;
    const marker = withPrefix(keyBytes, MARKER, 0);
    for (;;) {
      const seen = this.word.read(); // before the checks: a load ending after them changes it
      const hit = dict.get(key);
      if (hit !== undefined && !(refresh && this.isStale(key, life))) return hit as T;
      const self = this.owner.selfId;
      if (dict.add(marker, self) !== FAILED)
        return this.loadHolding(key, marker, loader, life, refresh);
      if (dict.lastStatus !== DictStatus.EXISTS) {
        // No room even for the marker: load unprotected rather than wait for nobody.
        return this.load(key, marker, loader, life.storeTtl, false);
      }
      if (refresh && hit !== undefined) return hit as T; // another caller is reloading it
      const holder = dict.get(marker);
      if (typeof holder === 'number' && holder !== self && this.owner.isOwnerDead(holder)) {
        if (this.takeOver(keyBytes, marker, holder))
          return this.loadHolding(key, marker, loader, life, refresh);
        continue;
      }
      await this.word.changed(seen, LIVENESS_CHECK_MS);
    }
  }

  /**
   * This thread holds the marker: load, unless a load elsewhere stored the value since this
   * thread's get missed. That load stores, then deletes its marker, both under the lock, so
   * it can end between the miss and the add that won the marker
   * (test/dict/95.get-or-set.test.ts, "ends between the miss").
   */
  private loadHolding<T>(
    key: string | Uint8Array,
    marker: Uint8Array,
    loader: (key: string | Uint8Array) => T | Promise<T>,
    life: Lifetime,
    refresh: boolean,
  ): Promise<T> {
    const stored = this.dict.get(key);
    if (stored === undefined || (refresh && this.isStale(key, life)))
      return this.load(key, marker, loader, life.storeTtl, true);
    this.release(marker);
    return Promise.resolve(stored as T);
  }

  /** Of all the waiters that found `dead` holding the marker, true for exactly one. */
  private takeOver(keyBytes: Uint8Array, marker: Uint8Array, dead: number): boolean {
    const claim = withPrefix(keyBytes, TAKEOVER, dead);
    if (this.dict.add(claim, this.owner.selfId, TAKEOVER_TTL_MS) === FAILED) return false;
    if (this.dict.get(marker) !== dead) return false; // ended or taken over since we looked
    return this.dict.set(marker, this.owner.selfId) !== FAILED;
  }

  private async load<T>(
    key: string | Uint8Array,
    marker: Uint8Array,
    loader: (key: string | Uint8Array) => T | Promise<T>,
    ttl: number,
    holdsMarker: boolean,
  ): Promise<T> {
    try {
      const value = await loader(key);
      if (value === undefined || value === null) {
        throw new DictError(
          'ERR_DICT_LOADER_VALUE',
          `getOrSet: the loader of dict "${this.dict.name}" returned ${String(value)}; nothing was stored`,
        );
      }
      this.dict.set(key, value, ttl); // a full dict keeps nothing: waiters then load again
      return value;
    } finally {
      if (holdsMarker) this.release(marker);
      else this.word.bump();
    }
  }

  /** Ends this thread's flight: drops the marker if it is still ours, wakes the waiters. */
  private release(marker: Uint8Array): void {
    if (this.dict.get(marker) === this.owner.selfId) this.dict.delete(marker);
    this.word.bump();
  }
}

function readLifetime(options: unknown): Lifetime {
  if (options === null || typeof options !== 'object') {
    throw new DictError('ERR_DICT_OPTION', 'getOrSet/wrap: options must be an object');
  }
  const o = options as { ttl?: unknown; staleTtl?: unknown };
  const ttl = checkTtl(o.ttl ?? 0);
  const staleTtl = checkTtl(o.staleTtl ?? 0, 'staleTtl');
  if (staleTtl > 0 && ttl === 0) {
    throw new DictError('ERR_DICT_OPTION', 'getOrSet/wrap: "staleTtl" needs a "ttl"');
  }
  return { storeTtl: checkTtl(ttl + staleTtl, 'ttl + staleTtl'), staleTtl };
}

/** A background reload's failure: the stale value stays until it expires (see staleTtl). */
function ignore(): void {}

/** The key's bytes, checked like the dict's (codes ERR_DICT_KEY_*), minus the flight prefix. */
function flightKeyBytes(key: unknown): Uint8Array {
  let bytes: Uint8Array;
  if (typeof key === 'string') bytes = encoder.encode(key);
  else if (key instanceof Uint8Array) bytes = key;
  else
    throw new DictError('ERR_DICT_KEY_TYPE', 'getOrSet: the key must be a string or a Uint8Array');
  if (bytes.length === 0) throw new DictError('ERR_DICT_KEY_EMPTY', 'getOrSet: the key is empty');
  if (bytes.length > MAX_KEY_BYTES - FLIGHT_KEY_OVERHEAD) {
    throw new DictError(
      'ERR_DICT_KEY_TOO_LONG',
      `getOrSet: the key is ${bytes.length} bytes; getOrSet keys are at most ` +
        `${MAX_KEY_BYTES - FLIGHT_KEY_OVERHEAD} (the flight marker adds ${FLIGHT_KEY_OVERHEAD})`,
    );
  }
  if (bytes[0] === RESERVED) {
    throw new DictError(
      'ERR_DICT_KEY_RESERVED',
      'getOrSet: keys starting with byte 0xFF are reserved',
    );
  }
  return bytes;
}

/** `0xFF kind [id, 4 bytes, takeover claims only] key`. */
function withPrefix(keyBytes: Uint8Array, kind: number, id: number): Uint8Array {
  const head = kind === TAKEOVER ? 6 : 2;
  const out = new Uint8Array(head + keyBytes.length);
  out[0] = RESERVED;
  out[1] = kind;
  if (kind === TAKEOVER) new DataView(out.buffer).setUint32(2, id);
  out.set(keyBytes, head);
  return out;
}

/** Map key of this thread's loads: strings and byte keys never collide. */
function localKey(key: string | Uint8Array): string {
  return typeof key === 'string' ? `s${key}` : `b${Buffer.from(key).toString('latin1')}`;
}
