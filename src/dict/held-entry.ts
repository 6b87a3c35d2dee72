/**
 * A store's new entry, built before the lock. store() writes the entry into a chunk its
 * thread holds (src/slab/holding-pool.ts: popped from the thread cache, named in the thread's
 * block so that a crash frees it), and under the lock only links it; the entry it replaces is
 * held the same way and pushed back into the cache after the lock. The section every other
 * writer waits for loses the allocation, the copy of key and value, and the free
 * (docs/performance.md, "SharedDict C1", Writes).
 *
 * Nothing reaches a held entry before it is linked: readers find entries through the index
 * only, and the link is journaled with the release of the hold in one commit. The replaced
 * entry is reused only after the stripe section of its unlink has ended, so a lock-free reader
 * still reading it fails its seqlock check (seqlock.ts). Tests: test/dict/36.held-entry;
 * test/crash/35 kills a store at each of its points, test/crash/30 and 32 kill writer
 * processes and threads at random.
 */
import type { DictValue } from './codec.js';
import { entryFill, entryRetire, entrySize, entryUnits } from './entries.js';
import { D_BYTES8, D_FLUSH_GEN, E_GEN, T_LIST } from './layout.js';
import type { DictSession } from './session.js';
import { tableBelowGrow, tableGrow, tableHasRoom } from './table.js';
import { expiryAt } from './validate.js';

/**
 * Before the lock: builds the entry for a store of the loaded key in a held chunk, when the
 * pool has one for its size, and leaves its offset in `s.heldEntry` (0 when none).
 */
export function buildBeforeLock(
  s: DictSession,
  type: number,
  vlen: number,
  value: DictValue,
  ttlMs: number,
  flags: number,
): void {
  s.heldEntry = 0;
  const pool = s.pool;
  if (pool.takeHeld === undefined || type === T_LIST || s.host.started === false) return;
  const k = s.key;
  const off = pool.takeHeld(entrySize(k.length, type, vlen));
  if (off === 0) return;
  const at = ttlMs === 0 ? 0 : expiryAt(s.now(), ttlMs);
  entryFill(s.core, off, k.hash, k.bytes, k.length, type, vlen, flags, at, value);
  s.heldEntry = off;
}

/**
 * Under the lock, for the store whose entry buildBeforeLock() built: its offset, now owned by
 * the dict (the hold released through the journal), or 0 when it cannot be used (the pool was
 * reset since, or a new key finds no room in the index), and the store allocates as before.
 */
export function claimBuiltEntry(s: DictSession, needSlot: boolean): number {
  const off = s.heldEntry;
  s.heldEntry = 0;
  const pool = s.pool;
  if (off === 0 || pool.heldLocked!(off) === 0) return 0;
  const c = s.core;
  if (needSlot && !roomForOneMore(s)) return 0;
  // A flush_all since the build: the entry belongs to the generation it is linked in.
  c.u32[off / 4 + E_GEN] = c.u32[c.hw + D_FLUSH_GEN];
  pool.keepHeld!();
  s.forcible = false;
  return off;
}

/** Under the lock: grows the index when due (committed), true when it has room for a key. */
export function roomForOneMore(s: DictSession): boolean {
  const c = s.core;
  if (!tableBelowGrow(c) && tableGrow(c)) s.pool.commit();
  return tableHasRoom(c);
}

/**
 * Under the lock, for the entry a store just unlinked (inside its stripe's section): held
 * for the cache after the lock when the pool can, else entryRetire. Journaled.
 */
export function retireReplaced(s: DictSession, e: number): void {
  const c = s.core;
  const pool = s.pool;
  if (pool.holdForFree !== undefined && c.type(e) !== T_LIST) {
    const units = entryUnits(c, e);
    if (pool.holdForFree(e * 8)) {
      c.w(c.hw + D_BYTES8, c.u32[c.hw + D_BYTES8] - units);
      return;
    }
  }
  entryRetire(c, e);
}
