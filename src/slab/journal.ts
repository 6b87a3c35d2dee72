/**
 * The crash journal: an undo log of (word index, old value) pairs in the pool header.
 *
 * Every write to shared metadata made under the lock goes through `journalWrite`, which
 * appends the entry, then bumps the count, then stores the new value. `commit` (and unlock)
 * empties the log with one store; a thread that takes the lock over from a dead owner replays
 * the log backwards (`rollback`) and so returns every journaled word to its value at the last
 * commit.
 *
 * What is NOT journaled, on purpose:
 * - payload bytes. A caller that frees and then allocates in one uncommitted section may get
 *   the freed block back, and after a rollback the old block holds the new owner's bytes:
 *   commit in between. (The slab's own in-page bitmaps are metadata and journaled, so a new
 *   slab carved where an emptied one was rolls back intact.)
 * - derived counters (free pages, per-class total/used): recomputed from the descriptors after
 *   a takeover (`recount` in verify.ts);
 * - pure statistics (reqs, fails, lock counters): may be off by the one operation that died.
 *
 * Memory-ordering assumption (why plain typed-array stores are enough):
 * 1. Inside the lock only one thread writes metadata; it needs no atomics for its own reads.
 * 2. The only reader that matters is a thread that later acquires the lock, with
 *    `Atomics.compareExchange` (x86 `lock cmpxchg`, a full barrier); the releasing owner
 *    published with its release store (on x86 a plain store, which TSO keeps after every
 *    older store; elsewhere `Atomics.store`; lock.ts). So everything written before unlock
 *    is visible after the next lock, as for any mutex.
 * 3. A crash: SIGKILL (or worker.terminate()) stops the thread between two instructions. Every
 *    store that executed is in the CPU's store buffer or cache and reaches the shared pages
 *    anyway (the store buffer drains regardless of the process dying; the pages belong to the
 *    shared mapping, not to the process). On x86-TSO stores become visible in program order,
 *    so the survivor sees a prefix of the dead thread's stores.
 * 4. V8 emits typed-array element stores in program order: TurboFan keeps stores on its effect
 *    chain and does not sink or merge element stores to memory that may alias (and stores to
 *    a SharedArrayBuffer may always alias). We rely on this; it holds for V8 in Node 20.
 * Hence for every journaled write the survivor sees one of: nothing (entry not counted: the
 * word is unchanged), the entry counted but the word unchanged (undo writes the same value),
 * or both (undo restores). Ports to weakly ordered CPUs (arm64) would need a release fence
 * between the entry, the count and the store (e.g. `Atomics.store` for the count).
 */
import { ShmzoneError, SlabCorruptionError } from '../errors.js';
import { L } from './layout.js';
import { crashTick } from './crashpoint.js';
import type { PoolState } from './state.js';

/** Journaled store of `value` into word `w` of the zone buffer, with a capacity check. */
export function journalWrite(s: PoolState, w: number, value: number): void {
  if (s.u32[s.journalCountWord] >= L.JOURNAL_CAPACITY) journalOverflow(s);
  jw(s, w, value);
}

/**
 * The unchecked journaled store used inside the allocator: allocLocked/freeLocked check once
 * that MAX_OP_WRITES entries are free before their first write. A store of the value the word
 * already holds is skipped (no entry, no write): undoing it would change nothing.
 */
export function jw(s: PoolState, w: number, value: number): void {
  const u32 = s.u32;
  const old = u32[w];
  // Same bits already there (value may come as int32 or uint32): no store, so nothing to undo.
  if ((old ^ value) === 0) return;
  const cw = s.journalCountWord;
  const n = u32[cw];
  const e = s.journalWord + n * 2;
  u32[e] = w;
  u32[e + 1] = old;
  u32[cw] = n + 1; // count after the entry: a counted entry is always complete
  u32[w] = value; // the store itself last
  if (s.crashHook) crashTick(s); // test-only crash point (crashpoint.ts); false in production
}

/**
 * Two journaled stores with one count store: both entries, then the count (+2), then the two
 * stores, in that order. A survivor sees the same cases as for two jw() calls. No same-value
 * skip (an entry whose value did not change is undone harmlessly). For the list updates that
 * always write both words; words may coincide (each entry keeps the value before the pair, and
 * undo runs newest first, so the older entry's value wins).
 */
export function jw2(s: PoolState, w0: number, v0: number, w1: number, v1: number): void {
  const u32 = s.u32;
  const cw = s.journalCountWord;
  const n = u32[cw];
  const e = s.journalWord + n * 2;
  u32[e] = w0;
  u32[e + 1] = u32[w0];
  u32[e + 2] = w1;
  u32[e + 3] = u32[w1];
  u32[cw] = n + 2;
  u32[w0] = v0;
  if (s.crashHook) crashTick(s);
  u32[w1] = v1;
  if (s.crashHook) crashTick(s);
}

/** Four journaled stores with one count store; as jw2. */
export function jw4(
  s: PoolState,
  w0: number,
  v0: number,
  w1: number,
  v1: number,
  w2: number,
  v2: number,
  w3: number,
  v3: number,
): void {
  const u32 = s.u32;
  const cw = s.journalCountWord;
  const n = u32[cw];
  const e = s.journalWord + n * 2;
  u32[e] = w0;
  u32[e + 1] = u32[w0];
  u32[e + 2] = w1;
  u32[e + 3] = u32[w1];
  u32[e + 4] = w2;
  u32[e + 5] = u32[w2];
  u32[e + 6] = w3;
  u32[e + 7] = u32[w3];
  u32[cw] = n + 4;
  u32[w0] = v0;
  if (s.crashHook) crashTick(s);
  u32[w1] = v1;
  if (s.crashHook) crashTick(s);
  u32[w2] = v2;
  if (s.crashHook) crashTick(s);
  u32[w3] = v3;
  if (s.crashHook) crashTick(s);
}

/** Forgets the entries: the state at this point is consistent. One store. */
export function journalCommit(s: PoolState): void {
  s.u32[s.journalCountWord] = 0;
}

/**
 * Undoes every entry newest first and empties the journal. Returns the number undone.
 * Throws SlabCorruptionError when the count or an entry is out of range (the caller then
 * resets the pool).
 */
export function journalRollback(s: PoolState): number {
  const u32 = s.u32;
  const n = u32[s.journalCountWord];
  if (n > L.JOURNAL_CAPACITY)
    throw new SlabCorruptionError(`journal count ${n} exceeds capacity ${L.JOURNAL_CAPACITY}`);
  const words = u32.length;
  for (let i = n - 1; i >= 0; i--) {
    const e = s.journalWord + i * 2;
    const w = u32[e];
    if (w >= words)
      throw new SlabCorruptionError(`journal entry ${i} names word ${w}, outside the zone`);
    u32[w] = u32[e + 1];
  }
  u32[s.journalCountWord] = 0;
  // The frees being undone did not happen: their memory must not be poisoned.
  s.pendingPoison.length = 0;
  return n;
}

/** Entries still free in the journal. */
export function journalRoom(s: PoolState): number {
  return L.JOURNAL_CAPACITY - s.u32[s.journalCountWord];
}

/**
 * The journal is full: undo back to the last commit (so shared memory is consistent again)
 * and throw. Callers holding the lock for long sequences must `commit()` at consistent points.
 */
export function journalOverflow(s: PoolState): never {
  let undone: number;
  try {
    undone = journalRollback(s);
  } catch (err) {
    s.damaged((err as Error).message); // a count or entry out of range: not ours to undo
  }
  throw new ShmzoneError(
    'ERR_SLAB_JOURNAL_FULL',
    `slab journal full (${L.JOURNAL_CAPACITY} entries): the operation was rolled back (${undone} ` +
      `writes undone). Call commit() at consistent points when holding the lock for long.`,
  );
}
