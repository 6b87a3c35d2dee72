/**
 * Seqlock words that let readers run without the zone lock.
 *
 * Writers (holding the lock) make a word odd before they change anything a reader of that
 * stripe could look at, and even again afterwards. A reader loads its stripe's word once,
 * copies what it needs, and loads it again: equal and even means nothing it read changed
 * meanwhile. One word per read, not two: every Atomics.load is a builtin call in Node 20
 * (~7 ns, V8 does not inline it), and a get used to make four of them.
 *
 * STRIPE s (line 1 + s) covers the keys whose hash has top bits s: a slot's hash/ref, an
 * entry's fields or value, freeing an entry (its memory may be reused for anything), and a
 * key's slot moving (backward-shift deletion enters the stripe of every key it moves, see
 * table.ts). Changes that affect every key (an index resize) enter all stripes
 * (`seqEnterAll`). Line 0 is used by neither readers nor writers; `seqAfterRecovery` moves
 * it forward with the rest.
 *
 * These words are NOT journaled: a rollback must never move them backwards (a reader that saw
 * value v before a dead writer started could see v again after the rollback and accept a torn
 * copy). Instead, after any recovery every word is moved forward to the next even value
 * (`seqAfterRecovery`), which also closes a word a dead writer left odd.
 *
 * Recovery (who does that, and when). A takeover can happen in any process or pool object,
 * with or without a dict attached (a newcomer's peer claim, Zone.fromTransfer, the cluster
 * primary's recoverProcess, the CLI). So the dict does not listen for it: it reads shared
 * words. The pool bumps its takeover count (`pool.recoveriesWord`) under the lock at the
 * START of every recovery, before the first rollback store; the dict header's D_REPAIRED holds
 * the count the dict last repaired after. Every locked dict operation (writers, the readers'
 * locked fallback) compares the two first (`SharedDict.syncLocked`): on a mismatch it moves
 * every word forward, reaps the graveyard and stores the count in D_REPAIRED; if the pool
 * generation differs from the header's D_POOL_GEN (a reset: ROOT points at free memory) it
 * builds a new dict and stores it in ROOT instead. A crash inside that repair is itself a
 * takeover that bumps the count again, so the next locker repairs again (bumping twice is
 * harmless). Each SharedDict remembers the count it last synced at under the lock
 * (`repairedAt`).
 *
 * Lock-free readers between a recovery and that repair: a rollback rewrites data without
 * touching the stripe words, so a reader could see a stripe even and unchanged around a copy
 * that straddles the rollback. The reader therefore also loads the takeover count once, after
 * its copy and stripe check, and accepts only if it still equals `repairedAt`; otherwise it
 * goes to the lock. Why that is enough: `repairedAt` = r was set under the lock after every
 * rollback of takeovers 1..r had finished, so all their stores are visible to this thread
 * before its data loads. A store of a later rollback k > r that a data load observed was
 * preceded by the count store of takeover k (program order, x86-TSO, and V8 keeps stores to a
 * SharedArrayBuffer in order, see slab/journal.ts), so the count load that follows reads >= k
 * != r. The same check keeps a reader away from a reset pool's freed dict.
 *
 * Ordering: `Atomics.add` is a full barrier (x86 `lock xadd`): the odd value is visible before
 * any of the writer's following plain stores, and all of them before the even value. On the
 * reader side the first check is an `Atomics.load`: V8 does not move the copying loads above
 * a builtin call. The second check only has to come after those loads, which a plain load
 * does on x86-64 (TSO: loads are not reordered with older loads; V8 emits typed-array loads
 * in program order and never merges a load of a SharedArrayBuffer element with an earlier
 * one, LoadTypedElement is not subject to load elimination). That saves a builtin call
 * (~5 ns, 5% of an in-cache get, measured with bench/dict/micro.js --keys=1000). On a weakly
 * ordered CPU (arm64) a plain load could be satisfied before the copy's loads, so there the
 * second check stays an `Atomics.load` (`RECHECK_PLAIN` below).
 */
import { LINE_WORDS, SEQ_STRIPES, SEQ_STRIPE_SHIFT } from './layout.js';

/** May a reader's closing check be a plain load (see "Ordering" above)? Only on x86 (TSO). */
export const RECHECK_PLAIN = process.arch === 'x64' || process.arch === 'ia32';

/** Word index of the seq word of stripe `hash` in a SEQ area starting at word `sw`. */
export function stripeWord(sw: number, hash: number): number {
  return sw + (1 + (hash >>> SEQ_STRIPE_SHIFT)) * LINE_WORDS;
}

/** Writer: enter (make odd) the word at `word`. Caller holds the lock. */
export function seqEnter(i32: Int32Array, word: number): void {
  // Full barrier: readers see "odd" before any store that follows.
  Atomics.add(i32, word, 1);
}

/** Writer: leave (make even) the word at `word`. Caller holds the lock. */
export function seqLeave(i32: Int32Array, word: number): void {
  // Full barrier: every store of the critical section is visible before "even".
  Atomics.add(i32, word, 1);
}

/** Writer: enter every stripe (a change every reader must retry after). Caller holds the lock. */
export function seqEnterAll(i32: Int32Array, sw: number): void {
  for (let s = 1; s <= SEQ_STRIPES; s++) Atomics.add(i32, sw + s * LINE_WORDS, 1);
}

/** Writer: leave every stripe entered by `seqEnterAll`. */
export function seqLeaveAll(i32: Int32Array, sw: number): void {
  for (let s = 1; s <= SEQ_STRIPES; s++) Atomics.add(i32, sw + s * LINE_WORDS, 1);
}

/**
 * After a recovery (under the lock; `SharedDict.syncLocked`): move every word of the area
 * forward to an even value that no reader can have seen, so no read that overlapped the dead
 * writer validates, and a word a dead writer left odd is closed.
 */
export function seqAfterRecovery(i32: Int32Array, sw: number): void {
  for (let s = 0; s <= SEQ_STRIPES; s++) {
    const word = sw + s * LINE_WORDS;
    // Atomics.load/store: readers may be spinning on the word right now.
    const v = Atomics.load(i32, word);
    Atomics.store(i32, word, (v & 1) === 1 ? v + 1 : v + 2);
  }
}
