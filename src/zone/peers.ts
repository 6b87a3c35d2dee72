/**
 * The peer table: one slot per thread (in any process) that uses the zone. A slot's liveness
 * token (a robust process-shared mutex the thread holds for life, docs/specs/reliability.md 5) is how
 * anyone learns, without pid-reuse races, that the thread or its process has died.
 *
 * Holding a slot's token IS owning the slot: claiming, releasing and reaping all go through
 * `tokenAcquire`, so two threads can never believe they own one slot.
 *
 * Owner ids (what the slab pool's lock word holds) are `1 + slot + PEER_SLOTS * generation`.
 * The slot's generation moves on whenever the slot is vacated (released, reaped, or claimed
 * over a dead holder), so consecutive holders of one slot never share an id. That closes an
 * ABA on takeovers: a waiter that found "owner X is dead" and was then descheduled must not,
 * when it resumes, CAS X -> self over the lock of X's slot successor. With generations the
 * successor's id differs and the CAS fails; and an id whose generation is no longer its
 * slot's belongs to a holder that is gone (`isOwnerDead`).
 */
import { threadId } from 'node:worker_threads';
import { ZoneError } from '../errors.js';
import { native, TokenAcquire, TokenState } from '../native.js';
import { lockFileLiveness, nativeLiveness, threadsLiveness, type Liveness } from './liveness.js';
import { isThreadsOnlyZone, lockFileIdentity } from './header.js';
import { lockFilePath } from './lock-files.js';
import type { OwnerIdentity } from '../slab/api.js';
import {
  OWNER_GENERATIONS,
  P_ATTACHED_AT,
  P_GEN,
  P_PID,
  P_START_HI,
  P_START_LO,
  P_STATE,
  P_THREAD_ID,
  P_TID,
  PEER_FIELDS_SIZE,
  PEER_SLOTS,
  PeerState,
  slotOffset,
  type ZoneGeometry,
} from './layout.js';

const TWO_32 = 2 ** 32;

/** Slot of an owner id (any positive integer gives some slot; callers range-check ids). */
export function slotOfOwner(id: number): number {
  return (id - 1) % PEER_SLOTS;
}

/** What the peer table needs from the slab pool to repair a lock left by a dead slot owner. */
export interface LockRecovery {
  /** Owner id in the pool's lock word, 0 = free. */
  lockOwner(): number;
  /** Takes the lock over from dead owner `id`, rolls its journal back, releases it. */
  recoverFrom(id: number): boolean;
  /** Clears dead owner `id`'s sleeper bit (it may have died asleep on the lock). */
  forgetSleeper(id: number): boolean;
  /** Gives a dead slot's thread cache back to the pool (slab/cache-layout.ts). Takes the lock. */
  reclaimCache(slot: number): void;
}

/** One occupied slot, as `livePeers()` and the CLI report it. */
export interface PeerInfo {
  /** Slot number, 0-based. */
  slot: number;
  /** Owner id in lock words (1 + slot + PEER_SLOTS * generation). */
  id: number;
  pid: number;
  /** `worker_threads.threadId` of the thread (0 = main thread). */
  threadId: number;
  /** Kernel thread id. */
  tid: number;
  /** Process start time, clock ticks since boot. */
  startTime: number;
  /** Seconds since the epoch. */
  attachedAt: number;
}

/** True when `pid` runs and, if `startTime` is known, is the same process as recorded. */
export function processAlive(pid: number, startTime: number): boolean {
  if (pid <= 0) return false;
  const now = native.processStartTime(pid);
  return now !== 0 && (startTime === 0 || now === startTime);
}

let cachedStart = 0;
function ownStartTime(liveness: Liveness): number {
  if (liveness.kind !== 'native') return 0;
  if (cachedStart === 0) cachedStart = liveness.startTime(process.pid);
  return cachedStart;
}

/** The tokens a zone's header says it has: threads-only, lock-file, or the addon's mutexes. */
export function livenessOf(buffer: SharedArrayBuffer): Liveness {
  if (isThreadsOnlyZone(buffer)) return threadsLiveness;
  const id = lockFileIdentity(buffer);
  if (id !== undefined)
    return lockFileLiveness(lockFilePath(id.segment, id.creatorPid, id.createdAt));
  return nativeLiveness;
}

/** A thread's view of one zone's peer table; implements the pool's {@link OwnerIdentity}. */
export class PeerTable implements OwnerIdentity {
  /** This thread's owner id (see the module comment), 0 until `claim()`. */
  selfId = 0;
  private readonly words: Uint32Array;

  /** `liveness`: what the header's flags say, unless the caller knows better. */
  constructor(
    private readonly buffer: SharedArrayBuffer,
    private readonly geometry: ZoneGeometry,
    private readonly liveness: Liveness = livenessOf(buffer),
  ) {
    this.words = new Uint32Array(buffer, 0, geometry.poolOffset / 4);
  }

  private wordAt(slot: number): number {
    return slotOffset(this.geometry, slot) / 4;
  }

  private tokenAt(slot: number): number {
    return slotOffset(this.geometry, slot) + this.geometry.tokenAt;
  }

  /** Owner id of the slot's current (or next) holder: its number and generation. */
  ownerIdOf(slot: number): number {
    return 1 + slot + PEER_SLOTS * this.words[this.wordAt(slot) + P_GEN];
  }

  /** The slot's holder is gone for good: its id will not be handed out again (for 2^24 turns). */
  private nextGeneration(slot: number): void {
    const w = this.wordAt(slot);
    this.words[w + P_GEN] = (this.words[w + P_GEN] + 1) % OWNER_GENERATIONS;
  }

  /** Creator only, on zero-filled memory before the header is published: makes every token. */
  initTokens(): void {
    for (let slot = 0; slot < PEER_SLOTS; slot++)
      this.liveness.init(this.buffer, this.tokenAt(slot), slot);
  }

  /** Reads a slot's fields (whatever their state). */
  info(slot: number): PeerInfo {
    const w = this.wordAt(slot);
    return {
      slot,
      id: this.ownerIdOf(slot),
      pid: this.words[w + P_PID],
      threadId: this.words[w + P_THREAD_ID],
      tid: this.words[w + P_TID],
      startTime: this.words[w + P_START_LO] + this.words[w + P_START_HI] * TWO_32,
      attachedAt: this.words[w + P_ATTACHED_AT],
    };
  }

  /** True when the slot's STATE word says someone registered there (alive or not). */
  occupied(slot: number): boolean {
    return Atomics.load(this.words, this.wordAt(slot) + P_STATE) !== PeerState.Free;
  }

  /** True when the slot's holder uses the zone (not a starter still deciding whether to). */
  private joined(slot: number): boolean {
    return Atomics.load(this.words, this.wordAt(slot) + P_STATE) === PeerState.Live;
  }

  /** Asks the slot's token (addon call). A dead holder's token is freed by the probe. */
  probe(slot: number): TokenState {
    return tokenCall(slot, () => this.liveness.probe(this.buffer, this.tokenAt(slot), slot));
  }

  /**
   * Claims a slot for the calling thread and returns its owner id. A slot left by a dead
   * thread is taken over. If that dead thread still owns the pool's lock, the slot is not used
   * as is: its token is kept (so no prober takes the lock meanwhile), another slot is claimed,
   * and with that new id the lock is taken over and rolled back (`recoverFrom`), then the dead
   * slot is cleared and released. (Recovering under the dead id itself would let a waiter's
   * takeover CAS succeed at the same time.) `only` restricts the search to one slot (the
   * creator takes slot 0). `state` Joining: a starter that decides later, under the pool lock,
   * whether it uses the zone ({@link markJoined}). Throws ZoneError `ERR_ZONE_PEERS_FULL` when
   * every slot is held by a live thread.
   */
  claim(
    pool: LockRecovery | undefined,
    only?: number,
    state: PeerState.Live | PeerState.Joining = PeerState.Live,
  ): number {
    if (this.selfId !== 0) return this.selfId;
    const first = only ?? 0;
    const last = only ?? PEER_SLOTS - 1;
    const lockedByDead: number[] = [];
    try {
      for (let slot = first; slot <= last; slot++) {
        const got = tokenCall(slot, () =>
          this.liveness.acquire(this.buffer, this.tokenAt(slot), slot),
        );
        if (got === TokenAcquire.Busy) continue;
        // A prober may have freed a dead holder's token already: a stale STATE word means the
        // same as AcquiredFromDead.
        const stale = got === TokenAcquire.AcquiredFromDead || this.occupied(slot);
        if (stale) this.markReaped(slot);
        if (stale && pool !== undefined && pool.lockOwner() === this.ownerIdOf(slot)) {
          lockedByDead.push(slot);
          continue;
        }
        if (stale) {
          pool?.forgetSleeper(this.ownerIdOf(slot)); // it may have died asleep on the lock
          this.nextGeneration(slot); // the dead holder's id is not ours to reuse
        }
        this.fill(slot, state);
        this.selfId = this.ownerIdOf(slot);
        return this.selfId;
      }
      throw new ZoneError(
        'ERR_ZONE_PEERS_FULL',
        `All ${last - first + 1} peer slot(s) of the zone are held by live threads; ` +
          `at most ${PEER_SLOTS} threads can use one zone at a time`,
      );
    } finally {
      for (const slot of lockedByDead) {
        // With our own id now set, the CAS dead -> self is the only one that can succeed.
        if (this.selfId !== 0) pool?.recoverFrom(this.ownerIdOf(slot));
        this.vacate(slot, pool);
      }
    }
  }

  private fill(slot: number, state: PeerState): void {
    const w = this.wordAt(slot);
    const start = ownStartTime(this.liveness);
    this.words[w + P_PID] = process.pid;
    this.words[w + P_THREAD_ID] = threadId;
    this.words[w + P_TID] = this.liveness.tid();
    this.words[w + P_START_LO] = start % TWO_32;
    this.words[w + P_START_HI] = Math.floor(start / TWO_32);
    this.words[w + P_ATTACHED_AT] = Math.floor(Date.now() / 1000);
    // Published last: readers (livePeers, the CLI) that see it occupied see the fields above.
    Atomics.store(this.words, w + P_STATE, state);
  }

  /**
   * We hold the token of slot's dead holder: it stops counting as a user at once. Clearing the
   * slot waits for the pool lock (vacate: reclaimCache), under which a starter decides whether
   * the zone has users; left Live, our hold would answer Alive and make that starter join a
   * zone nobody uses (test/zone/50, "a whole process group").
   */
  private markReaped(slot: number): void {
    Atomics.store(this.words, this.wordAt(slot) + P_STATE, PeerState.Reaped);
  }

  /** A Joining starter has decided, under the pool lock, to use the zone: it counts from now. */
  markJoined(): void {
    if (this.selfId !== 0)
      Atomics.store(this.words, this.wordAt(slotOfOwner(this.selfId)) + P_STATE, PeerState.Live);
  }

  /**
   * Frees a slot whose token we hold for its next holder: the departed holder's sleeper bit
   * (it may have died asleep on the lock), its fields, a new generation (its id is not handed
   * out again), then the token.
   */
  private vacate(slot: number, pool: LockRecovery | undefined): void {
    pool?.forgetSleeper(this.ownerIdOf(slot));
    if (pool !== undefined && this.selfId !== 0) {
      try {
        pool.reclaimCache(slot);
      } catch {
        // Damage in the dead thread's cache: the pool has reset itself and reported it.
      }
    }
    this.clear(slot);
    this.nextGeneration(slot);
    tokenCall(slot, () => this.liveness.release(this.buffer, this.tokenAt(slot), slot));
  }

  /** STATE free, then the holder's fields zeroed; the generation stays (see nextGeneration). */
  private clear(slot: number): void {
    const w = this.wordAt(slot);
    Atomics.store(this.words, w + P_STATE, PeerState.Free);
    for (let i = 1; i < PEER_FIELDS_SIZE / 4; i++) if (i !== P_GEN) this.words[w + i] = 0;
  }

  /**
   * Marks the calling thread's slot Free while the thread keeps its token (and its owner id,
   * so it can still unlock): other threads' live-peer counts stop counting it at once. A
   * leaver calls it under the pool lock, so that of two last users leaving at the same time
   * the second one sees the first one gone (not still alive) and removes the zone. Follow
   * with {@link release}.
   */
  withdraw(): void {
    if (this.selfId !== 0) this.clear(slotOfOwner(this.selfId));
  }

  /** Gives the calling thread's slot back (idempotent). */
  release(): void {
    if (this.selfId === 0) return;
    const slot = slotOfOwner(this.selfId);
    this.selfId = 0;
    this.vacate(slot, undefined); // a live thread clears its own bit when it wakes
  }

  /**
   * OwnerIdentity: slow path only. The owner is gone for certain when its slot has moved to
   * another generation (vacated since), or when the slot's token is dead or free. A non-zero
   * id that no peer can have (negative in an Int32Array view, past the last generation) was
   * written by damage, not by an owner: nobody alive holds it, so it is dead too, and a lock
   * word holding it is taken over rather than waited on forever
   * (test/zone/92.damaged-lock-word.test.ts).
   */
  isOwnerDead(ownerId: number): boolean {
    if (ownerId === 0 || !Number.isInteger(ownerId)) return false;
    if (ownerId < 1 || ownerId > PEER_SLOTS * OWNER_GENERATIONS) return true;
    if (ownerId === this.selfId) return false;
    const slot = slotOfOwner(ownerId);
    if (this.ownerIdOf(slot) !== ownerId) return true;
    return this.probe(slot) !== TokenState.Alive;
  }

  /**
   * OwnerIdentity, slow path only: no live thread holds `slot` (it is free, or its holder is
   * dead; the probe then frees the dead holder's token, as isOwnerDead's does). The calling
   * thread's own slot is never vacant.
   */
  isSlotVacant(slot: number): boolean {
    if (!Number.isInteger(slot) || slot < 0 || slot >= PEER_SLOTS) return false;
    if (this.selfId !== 0 && slot === slotOfOwner(this.selfId)) return false;
    return !this.occupied(slot) || this.probe(slot) !== TokenState.Alive;
  }

  /** Occupied slots whose token says alive (one addon call per occupied slot). */
  livePeers(): PeerInfo[] {
    const out: PeerInfo[] = [];
    for (let slot = 0; slot < PEER_SLOTS; slot++) {
      if (this.ownerIdOf(slot) === this.selfId) {
        out.push(this.info(slot));
        continue;
      }
      if (this.occupied(slot) && this.probe(slot) === TokenState.Alive) out.push(this.info(slot));
    }
    return out;
  }

  /**
   * Live users other than the calling thread: threads of live processes that joined the zone
   * (starters still deciding do not count; one addon call per joined slot).
   */
  liveOthers(): number {
    let n = 0;
    for (let slot = 0; slot < PEER_SLOTS; slot++) {
      if (this.ownerIdOf(slot) === this.selfId || !this.joined(slot)) continue;
      if (this.probe(slot) === TokenState.Alive) n++;
    }
    return n;
  }

  /**
   * Frees every occupied slot whose thread is dead, recovering the pool's lock first when a
   * dead slot holds it, and clearing the slot's sleeper bit (a thread killed asleep on the
   * lock leaves it set). `pid` restricts it to one process's slots. Returns the reaped slots
   * and whether a lock was recovered.
   */
  reapDeadPeers(
    pool: LockRecovery | undefined,
    pid?: number,
  ): { reaped: PeerInfo[]; recovered: number[] } {
    const reaped: PeerInfo[] = [];
    const recovered: number[] = [];
    for (let slot = 0; slot < PEER_SLOTS; slot++) {
      if (this.ownerIdOf(slot) === this.selfId || !this.occupied(slot)) continue;
      const info = this.info(slot);
      if (pid !== undefined && info.pid !== pid) continue;
      // Taking the token makes the slot ours for the moment: a newcomer cannot claim it while
      // we clear it, and a live holder makes the acquire answer Busy.
      const got = tokenCall(slot, () =>
        this.liveness.acquire(this.buffer, this.tokenAt(slot), slot),
      );
      if (got === TokenAcquire.Busy) continue;
      if (!this.occupied(slot)) {
        tokenCall(slot, () => this.liveness.release(this.buffer, this.tokenAt(slot), slot));
        continue;
      }
      this.markReaped(slot);
      const dead = this.ownerIdOf(slot);
      if (pool !== undefined && pool.lockOwner() === dead) {
        // recoverFrom CASes the lock word from the dead id to ours: we need an id of our own.
        if (this.selfId === 0) {
          tokenCall(slot, () => this.liveness.release(this.buffer, this.tokenAt(slot), slot));
          continue;
        }
        if (pool.recoverFrom(dead)) recovered.push(dead);
      }
      this.vacate(slot, pool);
      reaped.push(info);
    }
    return { reaped, recovered };
  }

  /** The first slot's token (the creator's while the zone is being created). */
  acquireCreatorToken(): TokenAcquire {
    return tokenCall(0, () => this.liveness.acquire(this.buffer, this.tokenAt(0), 0));
  }

  /** Releases the first slot's token taken with {@link acquireCreatorToken}. */
  releaseCreatorToken(): void {
    tokenCall(0, () => this.liveness.release(this.buffer, this.tokenAt(0), 0));
  }
}

/**
 * A native call on slot `slot`'s liveness token. The addon fails (EINVAL from the robust
 * mutex) only when the token's bytes were overwritten: ZoneError ERR_ZONE_HEADER, as for any
 * other damaged header word (test/fuzz/10.damaged-zone.test.ts, peer table cases).
 */
function tokenCall<T>(slot: number, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw new ZoneError(
      'ERR_ZONE_HEADER',
      `peer slot ${slot}: its liveness token is damaged (${(err as Error).message})`,
      { cause: err },
    );
  }
}
