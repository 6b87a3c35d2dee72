/** The public option and result shapes of SharedDict (dict.ts re-exports them). */
import type { DictCodecOption } from './values.js';

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
  /**
   * Keep up to this many values in this object's own memory and serve a get of their key
   * from there while the key's shared version says the value has not changed (default 0 =
   * off). Exact: a store, delete, eviction, expiry or flush anywhere is seen by the next get.
   * Only string keys, and only string, number and boolean values up to 64 KiB, read by get;
   * binary values and objects are copied out on every get as without it. When full,
   * a clock picks one that no get used lately. Needs `reads: 'seqlock'`.
   */
  localCache?: number;
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
