/**
 * The pool lock (nginx's ngx_shmtx, improved): a word holding the owner id, 0 = free.
 *
 * - Fast path (in pool.ts): one `Atomics.compareExchange(0 -> self)`; no native call.
 * - Contended (`lockContended` here): spin with doubling backoff (1, 2, 4 ... SPIN_LIMIT reads),
 *   then ask whether the owner is dead (take over if so), then count ourselves in the waiter
 *   word and sleep on the native futex for at most SLEEP_MS, then start again. A waiter that
 *   wakes competes like anyone else (no hand-off), as in nginx.
 * - Unlock (pool.ts) stores 0 and calls `futexWake` only when the waiter word is non-zero.
 *
 * Lost-wake-up freedom: a waiter increments WAITERS and then re-tries the CAS before sleeping
 * with `futexWait(expected = owner it saw)`; an unlocker stores 0 and then reads WAITERS. All
 * four are sequentially consistent Atomics, so either the unlocker sees the waiter (and wakes
 * it), or the waiter's CAS/futexWait sees the 0 (the kernel compares the word atomically).
 * A waiter killed while asleep leaves WAITERS one too high: unlock then makes a spare wake
 * call, which is harmless (as with nginx's semaphore).
 *
 * Without the addon (not built yet, or unsupported platform) the sleep degrades to a 1 ms
 * timed wait and polling, which still works across processes, just slower.
 */
import type { NativeAddon } from '../native.js';

/** Reads per spin round double from 1 up to this (2047 reads in all, like nginx's 2048). */
export const SPIN_LIMIT = 1024;
/** Longest futex sleep before re-checking the lock and the owner's liveness. */
export const SLEEP_MS = 50;
let sleepMs = SLEEP_MS;

/**
 * Test knob: the sleep bound of this thread's waiters. A test sets it high to prove that a
 * waiter was woken by unlock's futexWake rather than by its own timeout.
 */
export function setLockSleepMs(ms: number): void {
  sleepMs = ms;
}

let nativeAddon: NativeAddon | null = null;
try {
  nativeAddon = (await import('../native.js')).native;
} catch {
  nativeAddon = null; // fall back to timed polling; see above
}

/** The addon if it loaded, for tests that want to know. */
export function lockNative(): NativeAddon | null {
  return nativeAddon;
}

const fallbackCell = new Int32Array(new SharedArrayBuffer(4));

/** Sleeps while i32[word] === expected, at most the sleep bound (SLEEP_MS by default). */
export function sleepOnWord(
  buffer: SharedArrayBuffer,
  i32: Int32Array,
  word: number,
  expected: number,
): void {
  if (nativeAddon !== null) {
    nativeAddon.futexWait(buffer, word * 4, expected, sleepMs);
  } else if (Atomics.load(i32, word) === expected) {
    Atomics.wait(fallbackCell, 0, 0, 1);
  }
}

/** Wakes one sleeper on the word (any process). */
export function wakeOne(buffer: SharedArrayBuffer, word: number): void {
  if (nativeAddon !== null) nativeAddon.futexWake(buffer, word * 4, 1);
}

/** What the contended path reports back, kept in module scope: no allocation per call. */
export const contendedResult = { spins: 0, sleeps: 0 };

/**
 * Loops until the lock word is ours. `tryTakeOver(owner)` is called after each spin budget
 * with the current owner id; it returns true when it took the lock from a dead owner (and
 * repaired the pool). Fills `contendedResult`.
 */
export function lockContended(
  buffer: SharedArrayBuffer,
  i32: Int32Array,
  lockWord: number,
  waitersWord: number,
  self: number,
  tryTakeOver: (owner: number) => boolean,
): void {
  let spins = 0;
  let sleeps = 0;
  for (;;) {
    for (let n = 1; n <= SPIN_LIMIT; n <<= 1) {
      // Atomics.load each round: a plain read could be hoisted out of the loop by the JIT.
      for (let i = 0; i < n; i++) Atomics.load(i32, lockWord);
      spins += n;
      if (
        Atomics.load(i32, lockWord) === 0 &&
        Atomics.compareExchange(i32, lockWord, 0, self) === 0
      ) {
        contendedResult.spins = spins;
        contendedResult.sleeps = sleeps;
        return;
      }
    }
    const owner = Atomics.load(i32, lockWord);
    if (owner !== 0 && tryTakeOver(owner)) {
      contendedResult.spins = spins;
      contendedResult.sleeps = sleeps;
      return;
    }
    // Register as a sleeper first, then try once more (see the lost-wake-up note above).
    Atomics.add(i32, waitersWord, 1);
    const seen = Atomics.compareExchange(i32, lockWord, 0, self);
    if (seen === 0) {
      Atomics.sub(i32, waitersWord, 1);
      contendedResult.spins = spins;
      contendedResult.sleeps = sleeps;
      return;
    }
    sleepOnWord(buffer, i32, lockWord, seen);
    Atomics.sub(i32, waitersWord, 1);
    sleeps++;
  }
}
