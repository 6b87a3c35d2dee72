/**
 * Damage in a dict's shared memory found on a locked path. Every walk over shared structures
 * is bounded and every ref is range-checked before use (table.ts, expiry.ts, lists.ts,
 * entries.ts); what they find is `corrupt()`: DictError ERR_DICT_CORRUPT. An error that
 * escapes a locked section of SharedDict goes through {@link afterLockedError} before the
 * lock is released: damage (that code, any slab error, or any error
 * that is not a ShmzoneError, e.g. a RangeError from a garbage offset) resets the pool EMPTY
 * under a new generation (`pool.resetDamaged`, logged through the registry's `log`), so the
 * next call of any process rebuilds an empty dict and works; the caller gets DictError
 * ERR_DICT_CORRUPT (cause: the original error). test/fuzz/10.damaged-zone.test.ts.
 */
import { DictError, ShmzoneError } from '../errors.js';
import type { DictCore } from './core.js';
import { ENTRY_HEADER_WORDS } from './layout.js';
import type { DictPool } from './pool.js';

/**
 * Inside a dict's locked section every slab call gets offsets and sizes the dict computed
 * from shared words, after the caller's arguments were checked: a slab error there (bad
 * offset, double free, full journal, bad size) means those words were damaged.
 */
function isDamage(code: unknown): boolean {
  return code === 'ERR_DICT_CORRUPT' || (typeof code === 'string' && code.startsWith('ERR_SLAB_'));
}

/** Throws DictError ERR_DICT_CORRUPT for damage found at `what`. */
export function corrupt(what: string): never {
  throw new DictError('ERR_DICT_CORRUPT', `dict: damaged shared memory: ${what}`);
}

/** `e`, a ref read from shared memory, names an entry header inside the zone (else corrupt). */
export function checkEntryRef(c: DictCore, e: number, what: string): number {
  if (e * 2 + ENTRY_HEADER_WORDS > c.u32.length)
    corrupt(`${what}: entry ref ${e} outside the zone`);
  return e;
}

/**
 * Called with the error that is leaving a locked section (the lock still held) that began
 * in pool generation `generationAtLock`. Returns the error to throw: unchanged for ordinary
 * errors; for damage, the pool is reset first, unless the pool already reset itself in this
 * section (it does when it finds its own structures damaged): one reset, one report
 * (test/dict/89.damage-reset-once.test.ts).
 */
export function afterLockedError(
  pool: DictPool,
  name: string,
  err: unknown,
  generationAtLock: number,
): unknown {
  const code = (err as { code?: unknown }).code;
  if (err instanceof ShmzoneError && !isDamage(code)) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (pool.holdsLock() && pool.generation === generationAtLock) {
    pool.resetDamaged(`dict "${name}": ${message}`);
  }
  return new DictError(
    'ERR_DICT_CORRUPT',
    `dict "${name}": damaged shared memory (${message}); the zone was reset EMPTY`,
    { cause: err },
  );
}
