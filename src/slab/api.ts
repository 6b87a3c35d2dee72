/**
 * Public contracts of the slab layer: what the zone layer gives a pool, and what the pool
 * gives the dict and the user. The implementation is `pool.ts`; this file is the reference.
 */

/**
 * Who the calling thread is, and whether another lock owner is still alive. The zone layer
 * implements this with its peer table (one slot per attached thread, each backed by a robust
 * mutex that the kernel marks owner-dead when the thread or process dies).
 */
export interface OwnerIdentity {
  /**
   * The calling thread's owner id: a positive integer below 2^31, never 0, and never the id
   * of an earlier owner that may still be named in the lock word (the zone's ids carry a
   * generation, see src/zone/peers.ts). Read on every lock; must be a plain field read.
   */
  readonly selfId: number;
  /**
   * Slow path only (after spinning): true when `ownerId`'s thread or process is gone for
   * certain. Must never answer true for a live owner. May call the addon.
   */
  isOwnerDead(ownerId: number): boolean;
  /**
   * Optional, slow path only: true when no live thread holds owner slot `slot` (0-based; owner
   * id `id` has slot `(id - 1) mod 128`): the slot is vacant, or its holder is dead. Lets
   * unlock clear a sleeper bit left by a thread killed in its sleep when nobody reaps its
   * slot (see lock.ts, "Sleepers"). A true for a slot that a live thread claims at that very
   * moment costs that thread, if it then sleeps on the lock, its wake-up: it sleeps out its
   * bound (SLEEP_MS) instead. Slower, never stuck.
   */
  isSlotVacant?(slot: number): boolean;
}

/** Per size class, the same meaning as nginx's `ngx_slab_stat_t`. */
export interface SlotStats {
  /** Chunk size in bytes. */
  size: number;
  /** Usable chunks in pages currently owned by this class. */
  total: number;
  /** Chunks allocated now (to callers: not those parked in thread caches). */
  used: number;
  /** Free chunks parked in the threads' caches (allocated as far as the pages go). */
  cached: number;
  /** Allocation requests routed to this class, failed ones included. */
  reqs: number;
  /** Requests that failed because no page could be had. */
  fails: number;
}

export interface LockStats {
  /** Successful acquisitions. */
  acquisitions: number;
  /** Acquisitions that found the lock held at first try. */
  contended: number;
  /** Spin iterations spent waiting. */
  spins: number;
  /** Times a waiter went to sleep on the futex. */
  sleeps: number;
  /** Locks taken over from a dead owner (journal rolled back). */
  recoveries: number;
  /**
   * Threads sleeping on the lock now, or about to (a gauge). A thread killed in its sleep
   * counts here until its peer slot is reaped or claimed again, or unlock finds the slot
   * vacant (after 64 wakes in a row that woke nobody).
   */
  sleepers: number;
}

export interface PoolStats {
  pageSize: number;
  pagesTotal: number;
  pagesFree: number;
  /**
   * Requests larger than the largest class, served as runs of whole pages; `cachedPages`:
   * pages of free runs parked in the threads' caches.
   */
  pageAllocs: { reqs: number; fails: number; cachedPages: number };
  slots: SlotStats[];
  lock: LockStats;
  /** Incremented each time the pool was re-initialised empty after a failed repair. */
  generation: number;
}

/** What happened when a lock was taken over from a dead owner. Passed to recovery listeners. */
export interface RecoveryReport {
  deadOwnerId: number;
  /** Journal entries undone. */
  undone: number;
  /** True when rollback + verify() failed and the pool was re-initialised empty. */
  reset: boolean;
  /** The verify() failure that forced a reset, if any. */
  reason?: string;
}

/** Size-class schemes (see `sizeclass.ts`). */
export type SizeClassMode = 'pow2' | 'fine';
