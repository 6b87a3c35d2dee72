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
 * (`seqEnterAll`). Line 0 (the GLOBAL word of dict version 1) is no longer used by readers or
 * writers; it is still moved forward by `seqAfterRecovery`.
 *
 * These words are NOT journaled: a rollback must never move them backwards (a reader that saw
 * value v before a dead writer started could see v again after the rollback and accept a torn
 * copy). Instead, after any recovery every word is moved forward to the next even value
 * (`seqAfterRecovery`), which also closes a word a dead writer left odd.
 *
 * Ordering: `Atomics.add` is a full barrier (x86 `lock xadd`): the odd value is visible before
 * any of the writer's following plain stores, and all of them before the even value. On the
 * reader side `Atomics.load` keeps V8 from moving the copying loads across the two checks;
 * x86-TSO keeps loads in order in hardware.
 */
import { LINE_WORDS, SEQ_STRIPES, SEQ_STRIPE_SHIFT } from './layout.js';

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
 * After a recovery (under the lock): move every word of the area forward to an even value
 * that no reader can have seen, so no read that overlapped the dead writer validates.
 */
export function seqAfterRecovery(i32: Int32Array, sw: number): void {
  for (let s = 0; s <= SEQ_STRIPES; s++) {
    const word = sw + s * LINE_WORDS;
    // Atomics.load/store: readers may be spinning on the word right now.
    const v = Atomics.load(i32, word);
    Atomics.store(i32, word, (v & 1) === 1 ? v + 1 : v + 2);
  }
}
