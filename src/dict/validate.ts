/**
 * Argument checks of the dict's public calls. They run before the lock is taken and before
 * anything shared is touched, and throw DictError with a stable `code`.
 */
import { DictError, describeValue } from '../errors.js';

const MAX_TTL = 2 ** 52; // ms; keeps now + ttl an exact integer

/** A TTL in ms: undefined = 0 (never expires); else a finite number >= 0. ERR_DICT_TTL. */
export function checkTtl(ttl: unknown, name = 'ttl'): number {
  if (ttl === undefined) return 0;
  if (typeof ttl !== 'number' || !(ttl >= 0) || ttl > MAX_TTL) {
    throw new DictError(
      'ERR_DICT_TTL',
      `The "${name}" argument must be a number of milliseconds >= 0 (0 = never expires), got ${describeValue(ttl)}`,
    );
  }
  return ttl;
}

/** User flags: undefined = 0; else an integer 0..2^32-1. ERR_DICT_FLAGS. */
export function checkFlags(flags: unknown): number {
  if (flags === undefined) return 0;
  if (typeof flags !== 'number' || !Number.isInteger(flags) || flags < 0 || flags > 0xffffffff) {
    throw new DictError(
      'ERR_DICT_FLAGS',
      `The "flags" argument must be an integer from 0 to 4294967295, got ${describeValue(flags)}`,
    );
  }
  return flags;
}

/** A finite number (increments, init values). ERR_DICT_NOT_NUMBER. */
export function checkNumber(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new DictError(
      'ERR_DICT_NOT_NUMBER',
      `The "${name}" argument must be a finite number, got ${describeValue(value)}`,
    );
  }
  return value;
}

/** A count limit: undefined = `dflt`; else an integer >= 0 (0 = no limit). ERR_DICT_LIMIT. */
export function checkLimit(limit: unknown, name: string, dflt: number): number {
  if (limit === undefined) return dflt;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 0) {
    throw new DictError(
      'ERR_DICT_LIMIT',
      `The "${name}" argument must be an integer >= 0 (0 = no limit), got ${describeValue(limit)}`,
    );
  }
  return limit;
}

/**
 * Absolute expiry for a TTL: 0 stays 0 (never), else rounded up so it lives >= ttl ms, and
 * past `now` even when `now + ttl` rounds back to `now` (a TTL of 1e-9 ms next to a clock of
 * 1.7e12 ms: test/dict/30.ttl.test.ts "tiny TTLs").
 */
export function expiryAt(now: number, ttl: number): number {
  if (ttl === 0) return 0;
  const at = Math.ceil(now + ttl);
  return at > now ? at : Math.floor(now) + 1;
}
