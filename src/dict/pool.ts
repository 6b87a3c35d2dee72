import type { OwnerIdentity } from '../slab/api.js';

/**
 * What the dict needs from the slab layer: the subset of `SlabPool` (src/slab/pool.ts) it
 * calls. Stated structurally so the dict's unit tests can run over any pool with this shape.
 */
export interface DictPool {
  /** Views over the whole zone buffer; offsets from `alloc` index `u8` directly. */
  readonly u8: Uint8Array;
  readonly u32: Uint32Array;
  readonly i32: Int32Array;
  /** Zone size in bytes. */
  readonly capacity: number;
  /** Bytes in completely free pages. */
  freeSpace(): number;
  lock(): void;
  unlock(): void;
  holdsLock(): boolean;
  /** Caller holds the lock. 0 = no memory. */
  allocLocked(size: number): number;
  callocLocked(size: number): number;
  freeLocked(offset: number): void;
  /** Journaled store of a metadata word (caller holds the lock). */
  write32(wordIndex: number, value: number): void;
  /** Checkpoint: everything written so far survives a crash of this thread. */
  commit(): void;
  /**
   * Word index of the pool's shared takeover count, bumped (under the lock) at the START of
   * every recovery of a dead owner, whichever process or pool object does it. The dict
   * notices recoveries from it (seqlock.ts, "Recovery"); a plain u32 load.
   */
  readonly recoveriesWord: number;
  /** Reset generation: bumped each time a failed repair re-initialised the pool EMPTY. */
  readonly generation: number;
  /** Throws SlabCorruptionError on a broken invariant. */
  verify(): unknown;
  /** Usable bytes of a live chunk; throws on an offset that is not one. */
  usableSize(offset: number): number;
  /** Caller holds the lock: re-initialise the pool EMPTY (new generation) after damage. */
  resetDamaged(reason: string): void;
  /**
   * Held chunks (src/slab/holding-pool.ts): a store builds its entry in one before the lock
   * and gives the entry it replaced back after it. Absent in pools without them: every
   * allocation and free then happens under the lock.
   */
  takeHeld?(size: number): number;
  heldLocked?(offset: number): number;
  keepHeld?(): void;
  holdForFree?(offset: number): boolean;
  allocRefilling?(size: number): number;
  releaseHeld?(): void;
  /** Who takes the lock in this thread; absent in bare test pools (getOrSet needs it). */
  readonly owner?: OwnerIdentity;
}

/**
 * Where the dict finds its header: the zone's ROOT word (nginx's `shpool->data`). Read on
 * every operation so that every process notices a rebuilt dict after a reset recovery.
 */
export interface DictHost {
  readonly pool: DictPool;
  /** Byte offset of the dict header, 0 = none yet. */
  root: number;
  /**
   * The members below are a zone's (src/zone/zone.ts); a bare `{ pool, root }` host of the
   * tests has none of them.
   * `started`: false before start and once closed; the lock-free read checks it before it
   * touches memory (absent: always open).
   */
  readonly started?: boolean;
  /** The declared size in bytes (`capacity()`); absent: the pool's capacity. */
  readonly size?: number;
  /** The whole zone buffer, whose header holds the getOrSet flight word; absent: no getOrSet. */
  readonly buffer?: SharedArrayBuffer;
}
