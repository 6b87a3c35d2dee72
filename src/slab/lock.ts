/**
 * The pool lock (nginx's ngx_shmtx, improved): a word holding the owner id, 0 = free.
 *
 * - Fast path (in pool.ts): one `Atomics.compareExchange(0 -> self)`; no native call.
 * - Contended (`lockContended` here): spin with doubling backoff (1, 2, 4 ... SPIN_LIMIT reads),
 *   then ask whether the owner is dead (take over if so), then set our bit in the sleeper
 *   bitmap and sleep on the native futex for at most SLEEP_MS, then start again. A waiter that
 *   wakes competes like anyone else (no hand-off), as in nginx.
 * - Unlock (pool.ts) stores 0 and calls `futexWake` only when a sleeper bit is set.
 *
 * Sleepers are a bitmap, one bit per owner slot, not a count (layout.ts, H_SLEEPERS). A
 * waiter killed in its sleep (the likeliest place to die while waiting) never clears its
 * bit, and every unlock would then pay a futex system call for nobody, for good. With a
 * count nobody could tell which share was the dead thread's; with a bit, whoever reaps the
 * dead owner's slot clears that bit (`SlabPool.forgetSleeper`, called by the zone's peer
 * table: src/zone/peers.ts). Where nobody does (a standalone deployment whose dead process is
 * not restarted), unlock notices: a wake that wakes nobody is normal now and then (a waiter
 * between setting its bit and its futex call, or one just woken by its timeout), but after
 * IDLE_WAKES_BEFORE_SWEEP of them in a row it clears the bits of slots that no live thread
 * holds (`clearVacantSleepers`, asking OwnerIdentity.isSlotVacant). So a dead sleeper costs
 * at most that many spare wake calls per process.
 *
 * Lost-wake-up freedom. An unlocker stores 0, then reads the sleeper words; a waiter sets its
 * bit, then re-tries the CAS and sleeps with `futexWait(expected = owner it saw)` (the kernel
 * compares the word atomically). A wake-up is lost only if the unlocker's read misses the
 * bit AND the waiter's CAS and compare miss the 0, i.e. if the unlocker's load passes its
 * own older store. Either side may forbid that:
 * - Atomic release (`Atomics.store`, an `xchg`, a full fence): the load cannot pass the store.
 *   Used on CPUs other than x86 and wherever the barrier below is unavailable.
 * - Plain release, on x86 (PLAIN_RELEASE): `i32[w] = 0` is a release store under x86-TSO (no
 *   older load or store is reordered after it), but the load that follows may pass it. So the
 *   waiter, after setting its bit and before its CAS, runs the heavy half of an asymmetric fence,
 *   `barrier()` (Linux membarrier, native/barrier.cc): every running thread of every process
 *   registered for it executes a full barrier before the call returns. The unlocker was then
 *   either past its load (its store, older, is drained and the CAS sees 0) or before it (the
 *   load comes after the barrier and sees the bit). A preempted unlocker is covered by
 *   its context switch, which is a full barrier too. A plain release saves one builtin call
 *   and one locked instruction per unlock (Atomics.* are not inlined in Node 20), and the
 *   barrier (a few microseconds of IPIs) is paid only by a thread that is about to sleep.
 *   Every process that releases plainly has registered, so any waiter's barrier reaches it;
 *   a waiter whose own barrier call fails sleeps at most UNFENCED_SLEEP_MS instead.
 * Two owners whose ids share a slot (possible only with a custom OwnerIdentity; the zone's ids
 * never do while both are alive) share a bit: when one clears it the other may sleep out its
 * SLEEP_MS bound instead of being woken. Slower, never stuck.
 *
 * Without the addon only threads of one process share a pool (threads-only zones), so the
 * sleep is the engine's Atomics.wait on the lock word and the wake its Atomics.notify; release
 * is atomic.
 */
import type { NativeAddon } from '../native.js';
import type { OwnerIdentity } from './api.js';
import { tryNativeAddon } from '../native-loader.js';
import { L } from './layout.js';

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

/**
 * Null without the addon. Then every sharer of a pool is a thread of this process (a
 * threads-only zone, src/zone/memory-source.ts, or a test's in-process buffer), so sleeping
 * and waking use the engine's Atomics.wait/notify on the lock word itself.
 */
const nativeAddon: NativeAddon | null = tryNativeAddon();

/**
 * Whether this process releases the lock with a plain store (see "Plain release" above): on
 * x86 only, and only once the process is registered for the waiters' barrier.
 */
export const PLAIN_RELEASE =
  (process.arch === 'x64' || process.arch === 'ia32') &&
  nativeAddon !== null &&
  nativeAddon.barrierRegister();

let atomicReleaseForced = false;

/** Test knob: pools created while set release atomically even where PLAIN_RELEASE holds. */
export function forceAtomicRelease(on: boolean): void {
  atomicReleaseForced = on;
}

/** Whether a pool object created now releases with a plain store. */
export function plainReleaseForNewPools(): boolean {
  return PLAIN_RELEASE && !atomicReleaseForced;
}

/** Sleep bound of a waiter whose barrier call failed: a lost wake-up costs at most this. */
export const UNFENCED_SLEEP_MS = 1;

/** The addon if it loaded, for tests that want to know. */
export function lockNative(): NativeAddon | null {
  return nativeAddon;
}

/** Sleeps while i32[word] === expected, at most `ms` (the sleep bound: SLEEP_MS by default). */
export function sleepOnWord(
  buffer: SharedArrayBuffer,
  i32: Int32Array,
  word: number,
  expected: number,
  ms = sleepMs,
): void {
  if (nativeAddon !== null) nativeAddon.futexWait(buffer, word * 4, expected, ms);
  else Atomics.wait(i32, word, expected, ms);
}

/** Wakes one sleeper on the word (any process). Returns how many woke (0 or 1). */
export function wakeOne(buffer: SharedArrayBuffer, i32: Int32Array, word: number): number {
  return nativeAddon !== null
    ? nativeAddon.futexWake(buffer, word * 4, 1)
    : Atomics.notify(i32, word, 1);
}

/** Wakes in a row that found nobody before unlock looks for bits of vacant slots. */
export const IDLE_WAKES_BEFORE_SWEEP = 64;

/**
 * Clears the sleeper bit of every slot that `identity.isSlotVacant` says no live thread holds
 * (none without that method). Returns how many it cleared.
 */
export function clearVacantSleepers(
  i32: Int32Array,
  sleepersWord: number,
  identity: OwnerIdentity,
): number {
  let cleared = 0;
  for (let k = 0; k < L.SLEEPER_WORDS; k++) {
    let bits = Atomics.load(i32, sleepersWord + k);
    while (bits !== 0) {
      const bit = bits & -bits;
      bits ^= bit;
      const slot = k * 32 + 31 - Math.clz32(bit);
      // Bit k*32+b is slot k*32+b (owner ids (id - 1) mod 128); counted only if still set.
      const vacant = identity.isSlotVacant?.(slot) === true;
      if (vacant && (Atomics.and(i32, sleepersWord + k, ~bit) & bit) !== 0) cleared++;
    }
  }
  return cleared;
}

/** Word index of owner `id`'s sleeper bit (ids are positive; slot = (id - 1) mod L.SLEEPER_SLOTS). */
export function sleeperWord(sleepersWord: number, id: number): number {
  return sleepersWord + (((id - 1) & (L.SLEEPER_SLOTS - 1)) >>> 5);
}

/** Owner `id`'s sleeper bit within its word. */
export function sleeperBit(id: number): number {
  return 1 << ((id - 1) & 31);
}

/** Owner slots whose sleeper bit is set now (a snapshot: bits come and go without the lock). */
export function sleepersNow(i32: Int32Array, sleepersWord: number): number {
  let n = 0;
  for (let k = 0; k < L.SLEEPER_WORDS; k++) {
    let w = Atomics.load(i32, sleepersWord + k);
    while (w !== 0) {
      w &= w - 1;
      n++;
    }
  }
  return n;
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
  sleepersWord: number,
  self: number,
  tryTakeOver: (owner: number) => boolean,
): void {
  let spins = 0;
  let sleeps = 0;
  const bitWord = sleeperWord(sleepersWord, self);
  const bit = sleeperBit(self);
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
    Atomics.or(i32, bitWord, bit);
    // ...then make every plain release already made visible before that try (the heavy half
    // of the asymmetric fence, see "Plain release" above).
    // Without the addon every release is an Atomics.store (PLAIN_RELEASE is off): fenced.
    const fenced = nativeAddon === null || nativeAddon.barrier();
    const seen = Atomics.compareExchange(i32, lockWord, 0, self);
    if (seen === 0) {
      Atomics.and(i32, bitWord, ~bit);
      contendedResult.spins = spins;
      contendedResult.sleeps = sleeps;
      return;
    }
    sleepOnWord(buffer, i32, lockWord, seen, fenced ? sleepMs : UNFENCED_SLEEP_MS);
    Atomics.and(i32, bitWord, ~bit);
    sleeps++;
  }
}
