/**
 * Result signalling of SharedDict: hot paths never throw for an expected outcome and never
 * allocate a result object.
 *
 * - Every store (`set`, `safeSet`, `add`, `safeAdd`, `replace`) returns a {@link StoreResult}:
 *   `STORED` (1) or `STORED_FORCIBLY` (2, Lua's `forcible`: other entries were evicted to make
 *   room) on success, and `FAILED` (0) on every failure. Success is truthy and failure is
 *   falsy, so `if (!dict.add(k, v))` reads as expected.
 * - Why a store failed, and every other call's outcome, is in `dict.lastStatus` (a
 *   {@link DictStatus}), valid until the next call on the same SharedDict object. Each thread
 *   has its own object, so this is race-free.
 * - Calls that return a value (`get`, `incr`, `lpop`, `llen`...) return `undefined` on
 *   failure and set `lastStatus` to say why.
 */

/** What a store returns. */
export type StoreResult = 0 | 1 | 2;
/** The three results as a value too, for JavaScript: `StoreResult.STORED`... */
export const StoreResult = { FAILED: 0, STORED: 1, STORED_FORCIBLY: 2 } as const;

/** The store failed; `dict.lastStatus` says why. Falsy. */
export const FAILED = 0;
/** Stored without evicting anything. */
export const STORED = 1;
/** Stored after evicting other entries (Lua's `forcible` = true). */
export const STORED_FORCIBLY = 2;

/** Outcome of the last call: positive = success, 0 or negative = the reason it failed. */
export const DictStatus = {
  /** Success (also: a get hit, a delete that removed something). */
  OK: 1,
  /** Success, after evicting other entries to make room. */
  FORCIBLE: 2,
  /** The key is missing or expired (get miss, replace, incr without init, ttl, expire, pop). */
  NOT_FOUND: -1,
  /** `add` on a live key. */
  EXISTS: -2,
  /** No room, and nothing was (or could be) evicted: `safe*`, list pushes, or empty LRU. */
  NO_MEMORY: -3,
  /** No room even after evicting entries (Lua: false, "no memory", forcible = true). */
  NO_MEMORY_FORCIBLE: -4,
  /** `incr` on a live key whose value is not a number. */
  NOT_NUMBER: -5,
  /** A list operation on a non-list value, or `get` on a list. */
  NOT_LIST: -6,
  /** `getInto` on a number or boolean value (it copies only string and binary values). */
  NOT_BYTES: -7,
  /** `getInto`: the value is longer than the target; it returned the length, copied nothing. */
  BUFFER_TOO_SMALL: -8,
} as const;
export type DictStatus = (typeof DictStatus)[keyof typeof DictStatus];

/** Short names for messages and logs. */
export function statusName(status: number): string {
  for (const [name, value] of Object.entries(DictStatus)) if (value === status) return name;
  return `UNKNOWN(${status})`;
}
