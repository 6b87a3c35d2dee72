/**
 * The pool's lock and what keeps it safe across crashes: acquisition (the fast path here, the
 * contended path in lock.ts), release, takeover from a dead owner with rollback and repair,
 * resets of damaged memory, and the recovery listeners. SlabPool (pool.ts) extends this with
 * allocation; both are one object per process or thread and pool.
 */
import {
  LockError,
  ShmzoneArgumentError,
  ShmzoneError,
  SlabCorruptionError,
  describeValue,
} from '../errors.js';
import type { OwnerIdentity, RecoveryReport } from './api.js';
import { formatPool } from './format.js';
import { journalCommit, journalRollback } from './journal.js';
import { L, type Geometry } from './layout.js';
import {
  contendedResult,
  lockContended,
  plainReleaseForNewPools,
  sleeperBit,
  sleeperWord,
  sleepersNow,
  wakeOne,
  IDLE_WAKES_BEFORE_SWEEP,
  clearVacantSleepers,
} from './lock.js';
import { flushPoison, repoisonFree } from './poison.js';
import type { SizeClassTable } from './sizeclass.js';
import { PoolState } from './state.js';
import { recount, verifyPool } from './verify.js';

/** An owner id passed in by a caller: a positive 32-bit integer, or ERR_SLAB_OWNER. */
function checkOwnerId(method: string, id: unknown): asserts id is number {
  if (typeof id !== 'number' || id >>> 0 !== id || id === 0) {
    throw new ShmzoneArgumentError(
      'ERR_SLAB_OWNER',
      `slab ${method}: owner id must be a positive integer, got ${describeValue(id)}`,
    );
  }
}

export class LockingPool extends PoolState {
  readonly owner: OwnerIdentity;
  private readonly listeners: Array<(report: RecoveryReport) => void> = [];
  /** A recovery made before onRecovery() was first called, for that first listener. */
  private unreported: RecoveryReport | undefined;
  /** Bound once: the contended path calls it with the owner it saw. */
  private readonly tryTakeOver: (ownerId: number) => boolean;
  /** Unlock with a plain store (x86 with the waiters' barrier; lock.ts, "Plain release"). */
  protected readonly plainRelease = plainReleaseForNewPools();
  /** Wakes in a row that woke nobody (see wakeSleeper). */
  private idleWakes = 0;

  protected constructor(
    buffer: SharedArrayBuffer,
    g: Geometry,
    classes: SizeClassTable,
    owner: OwnerIdentity,
  ) {
    super(buffer, g, classes);
    this.owner = owner;
    this.tryTakeOver = (ownerId: number): boolean => {
      if (ownerId === this.owner.selfId || !this.owner.isOwnerDead(ownerId)) return false;
      return this.takeOver(ownerId);
    };
  }

  /** Bumped each time the pool was re-initialised empty after a failed repair. */
  get generation(): number {
    return this.u32[this.base + L.H_GENERATION];
  }

  /** Marks the current state consistent: forgets the journal (one store). */
  commit(): void {
    journalCommit(this);
    // Debug mode: what was freed since the last commit is free for good only now.
    if (this.pendingPoison.length !== 0) flushPoison(this);
  }

  /**
   * unlock()'s commit in debug mode or in a poisoned pool: verify, then commit(). Out of line:
   * unlock() is written out in alloc() and free(), and every bytecode there counts.
   */
  protected checkedCommit(): void {
    if (this.debug) {
      try {
        verifyPool(this);
      } catch (err) {
        this.failedCommitCheck(err);
      }
    }
    this.commit();
  }

  /**
   * Debug mode's verify found the pool broken as a section ends: handled as damage found on
   * the way (reset EMPTY, reported), and, since the callers' release code is skipped by the
   * throw, the lock is released here, so no process waits on a lock nobody will free
   * (test/fuzz/20.damaged-pool.test.ts runs in debug mode too).
   */
  private failedCommitCheck(err: unknown): never {
    const what = err instanceof Error ? err.message : String(err);
    const message = this.resetAfterDamage(`verify at commit: ${what}`);
    this.pendingPoison.length = 0;
    this.commit();
    Atomics.store(this.i32, this.lockWord, 0);
    this.wakeSleeper();
    throw new SlabCorruptionError(message, { cause: err });
  }

  lock(): void {
    const self = this.owner.selfId;
    // Acquire: lock cmpxchg is a full barrier; plain reads/writes below cannot move above it.
    // (alloc() and free() repeat this fast path: see the note above alloc().)
    if (Atomics.compareExchange(this.i32, this.lockWord, 0, self) !== 0) this.lockSlow(self);
    else {
      this.u32[this.base + L.H_LOCK_ACQUISITIONS]++;
      // A non-empty journal under a free lock means someone force-unlocked a dead owner
      // without repairing: repair now.
      if (this.u32[this.journalCountWord] !== 0) this.recoverLocked(0);
    }
  }

  /** lock() when the compare-exchange failed: held by us (an error), by another, or by the dead. */
  protected lockSlow(self: number): void {
    if (Atomics.load(this.i32, this.lockWord) === self) {
      throw new LockError(
        'ERR_LOCK_REENTRANT',
        `slab lock: owner ${self} already holds this lock (it is not reentrant)`,
      );
    }
    lockContended(this.buffer, this.i32, this.lockWord, this.sleepersWord, self, this.tryTakeOver);
    const u32 = this.u32;
    const b = this.base;
    u32[b + L.H_LOCK_ACQUISITIONS]++;
    u32[b + L.H_LOCK_CONTENDED]++;
    u32[b + L.H_LOCK_SPINS] += contendedResult.spins;
    u32[b + L.H_LOCK_SLEEPS] += contendedResult.sleeps;
    if (u32[this.journalCountWord] !== 0) this.recoverLocked(0);
  }

  /** Commits and releases the lock. (alloc() and free() repeat it: see the note above alloc().) */
  unlock(): void {
    const i32 = this.i32;
    const lw = this.lockWord;
    // A plain read is enough: if we hold the lock the word is ours and stable; if we do not,
    // whatever value a racy read returns, it cannot be our id (only we store it).
    if (i32[lw] !== this.owner.selfId) this.notHeld();
    if (this.debug || this.poison) this.checkedCommit();
    else this.u32[this.journalCountWord] = 0; // commit
    // Release: every store above is visible before the lock reads free. On x86 a plain store
    // does that (TSO keeps stores in order, and TurboFan keeps typed-array stores in program
    // order); elsewhere, or without the waiters' barrier, an xchg (lock.ts, "Plain release").
    if (this.plainRelease) i32[lw] = 0;
    else Atomics.store(i32, lw, 0);
    // Read after the release store. After a plain release these loads may be satisfied before
    // the store is visible; waiters make up for it with their barrier (lock.ts explains why no
    // wake-up is lost either way). Plain reads: Atomics.* are builtin calls in Node 20. The
    // four words are SLEEPER_WORDS, written out (a loop here costs the hot path).
    const sw = this.sleepersWord;
    if ((i32[sw] | i32[sw + 1] | i32[sw + 2] | i32[sw + 3]) !== 0) this.wakeSleeper();
  }

  /**
   * unlock() saw a sleeper bit: wake one sleeper. After IDLE_WAKES_BEFORE_SWEEP wakes in a row
   * that woke nobody, clear the bits of vacant slots: a thread killed in its sleep whose slot
   * nobody reaps would otherwise cost every unlock a system call for good (lock.ts, "Sleepers").
   */
  protected wakeSleeper(): void {
    if (wakeOne(this.buffer, this.i32, this.lockWord) !== 0) {
      this.idleWakes = 0;
      return;
    }
    if (++this.idleWakes < IDLE_WAKES_BEFORE_SWEEP) return;
    this.idleWakes = 0;
    if (this.owner.isSlotVacant !== undefined) {
      clearVacantSleepers(this.i32, this.sleepersWord, this.owner);
    }
  }

  /**
   * Clears the sleeper bit of `deadOwnerId`, an owner that died (possibly asleep on the lock,
   * where it could not clear its bit itself; without this every unlock would make a futex
   * call for nobody). Returns whether the bit was set. The caller must know that no live
   * thread has that owner's slot: the zone's peer table calls it while it holds the dead
   * slot's token, before the slot is reused.
   */
  forgetSleeper(deadOwnerId: number): boolean {
    checkOwnerId('forgetSleeper', deadOwnerId);
    const bit = sleeperBit(deadOwnerId);
    return (Atomics.and(this.i32, sleeperWord(this.sleepersWord, deadOwnerId), ~bit) & bit) !== 0;
  }

  /** Owner slots flagged as sleeping (or about to sleep) on the lock now. */
  sleepers(): number {
    return sleepersNow(this.i32, this.sleepersWord);
  }

  /**
   * unlock() without holding the lock. Out of line: V8 counts a function's whole bytecode
   * against its callers' inlining budget, cold message building included.
   */
  private notHeld(): never {
    throw new LockError(
      'ERR_LOCK_NOT_HELD',
      `slab unlock: owner ${this.owner.selfId} does not hold the lock (held by ${Atomics.load(this.i32, this.lockWord)})`,
    );
  }

  /** How this pool object releases the lock: 'plain' store or 'atomic' xchg (lock.ts). */
  get lockRelease(): 'plain' | 'atomic' {
    return this.plainRelease ? 'plain' : 'atomic';
  }

  holdsLock(): boolean {
    return Atomics.load(this.i32, this.lockWord) === this.owner.selfId;
  }

  /** Owner id in the lock word (0 = free). */
  lockOwner(): number {
    return Atomics.load(this.i32, this.lockWord);
  }

  /**
   * Called under the lock after every takeover from a dead owner and every reset of damaged
   * memory; the first listener also hears of one made before it was added.
   */
  onRecovery(listener: (report: RecoveryReport) => void): void {
    this.listeners.push(listener);
    const pending = this.unreported;
    if (pending === undefined) return;
    this.unreported = undefined;
    this.report(pending);
  }

  /**
   * For a caller that knows `deadOwnerId` is dead (cluster primary on worker exit, a thread
   * inheriting a dead peer's slot): if the lock word holds that id, take the lock over, roll
   * back, verify, unlock. Returns true if it did. The caller must not itself be inside a
   * locked section with the same id.
   */
  recoverFrom(deadOwnerId: number): boolean {
    checkOwnerId('recoverFrom', deadOwnerId);
    const self = this.owner.selfId;
    if (Atomics.compareExchange(this.i32, this.lockWord, deadOwnerId, self) !== deadOwnerId)
      return false;
    try {
      this.recoverLocked(deadOwnerId);
    } finally {
      this.unlock();
    }
    return true;
  }

  /** CAS dead -> self; on success repair. Only after isOwnerDead(dead) said so. */
  private takeOver(dead: number): boolean {
    // LMDB's double check: the CAS only succeeds if the word still holds the dead id.
    if (Atomics.compareExchange(this.i32, this.lockWord, dead, this.owner.selfId) !== dead)
      return false;
    this.recoverLocked(dead);
    return true;
  }

  /** Under the lock: undo the journal, rebuild derived counters, verify; reset if that fails. */
  protected recoverLocked(deadOwnerId: number): void {
    // Counted first, not last: if this thread dies in the middle of the repair, the takeover
    // it started still shows, and whoever takes over from it counts its own (the rollback is
    // idempotent, the journal is only emptied once it is complete).
    this.u32[this.base + L.H_LOCK_RECOVERIES]++;
    let undone = 0;
    let reason: string | undefined;
    try {
      undone = journalRollback(this);
      recount(this);
      verifyPool(this);
    } catch (err) {
      reason = (err as Error).message;
    }
    const reset = reason !== undefined;
    if (!reset && this.poison) repoisonFree(this);
    if (reset) formatPool(this, this.generation + 1);
    this.report(
      reason === undefined
        ? { deadOwnerId, undone, reset }
        : { deadOwnerId, undone, reset, reason },
    );
  }

  /**
   * Tells the recovery listeners (the registry logs through its `log` option). A repair made
   * before anyone listened (while the zone was being opened) is kept for the first listener.
   */
  private report(report: RecoveryReport): void {
    if (this.listeners.length === 0) {
      this.unreported = report;
      return;
    }
    for (const listener of this.listeners) {
      try {
        listener(report);
      } catch {
        // A listener's failure must not break the locked path that is repairing the pool.
      }
    }
  }

  /**
   * Under the lock: a user of the pool found its own structures in it damaged (a stray or
   * hostile write; the dict's checks, src/dict/damage.ts). Re-initialises the pool EMPTY
   * under a new generation, as a failed repair does, and tells the recovery listeners (the
   * registry logs it) with `deadOwnerId` 0. Whatever was pending in the journal is dropped.
   */
  resetDamaged(reason: string): void {
    if (!this.holdsLock()) this.notHeld();
    this.u32[this.base + L.H_LOCK_RECOVERIES]++;
    formatPool(this, this.generation + 1);
    this.report({ deadOwnerId: 0, undone: 0, reset: true, reason });
  }

  /**
   * @internal An allocation path found damaged metadata (state.ts): under the lock, undo what this
   * section wrote and reset the pool EMPTY as resetDamaged() does (logged through the recovery
   * listeners), then throw SlabCorruptionError; the next call finds an empty, working pool.
   */
  override damaged(what: string): never {
    throw new SlabCorruptionError(this.resetAfterDamage(what));
  }

  /**
   * An error that is not a ShmzoneError leaving an allocator call (a RangeError from a garbage
   * index no check caught): damage, handled as damaged() does. Others pass unchanged.
   */
  protected foreign(err: unknown): unknown {
    if (err instanceof ShmzoneError) return err;
    const what = err instanceof Error ? err.message : String(err);
    return new SlabCorruptionError(this.resetAfterDamage(what), { cause: err });
  }

  /** damaged()'s repair; returns the error message. */
  private resetAfterDamage(what: string): string {
    const reason = `slab pool at byte ${this.byteOffset}: damaged shared memory: ${what}`;
    if (!this.holdsLock()) return reason;
    try {
      journalRollback(this);
    } catch {
      // A count or entry out of range: the reset below rewrites the journal as well.
    }
    this.resetDamaged(reason);
    return `${reason}; the pool was re-initialised EMPTY, generation ${this.generation}`;
  }
}
