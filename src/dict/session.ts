/**
 * One SharedDict object's view of its dict: the cached header words, the current key, the
 * last call's status, and the way in under the lock. Every module of the dict (reads.ts,
 * store.ts, list-ops.ts, admin.ts) works on a DictSession; SharedDict (dict.ts) is the facade.
 *
 * Attach and recovery sync: the session re-reads the header whenever ROOT moved or the
 * pool's shared takeover count changed since it last synced (`stale`), so recoveries done
 * anywhere — another process, another pool object, before this attach — are noticed from
 * shared words alone (seqlock.ts, "Recovery").
 */
import { DictError } from '../errors.js';
import { threadId } from 'node:worker_threads';
import { ValueInfo } from './codec.js';
import { DictCore } from './core.js';
import { afterLockedError, corrupt } from './damage.js';
import { reapGraveyard } from './entries.js';
import { expireStep } from './expiry.js';
import { KeyScratch } from './hash.js';
import { LocalCache } from './local-cache.js';
import { dictCreateLocked, dictCurrent } from './init.js';
import {
  D_GRAVE,
  D_LRU_TAIL,
  D_REFBITS,
  D_REF_MASK,
  D_REPAIRED,
  D_SEQ,
  D_STATS,
  D_VERSIONS,
  D_VER_MASK,
  LINE_WORDS,
  STAT_LINES,
} from './layout.js';
import { notStartedHost, PLACEHOLDER_CORE } from './not-started.js';
import type { OverwriteScratch } from './overwrite.js';
import type { DictHost, DictPool } from './pool.js';
import { RECHECK_PLAIN, seqAfterRecovery, seqEnter, seqLeave, stripeWord } from './seqlock.js';
import { DictStatus } from './status.js';
import { slotRef, tableFind } from './table.js';
import type { ValueCodecs } from './values.js';
import { checkHeaderAreas } from './verify-dict.js';
import { bumpKeyVersion } from './versions.js';

const NO_TARGET = new Uint8Array(0);

/** Settings fixed at construction (validated by the SharedDict constructor). */
export interface SessionSettings {
  readonly now: () => number;
  readonly lockedReads: boolean;
  readonly tries: number;
  readonly codecs: ValueCodecs;
  /** The `localCache` option: keys kept in this session's local cache, 0 = none. */
  readonly localCache: number;
}

export class DictSession {
  /** Outcome of the last call (see SharedDict.lastStatus). */
  lastStatus: number = DictStatus.OK;
  lastFlags = 0;
  lastStale = false;

  readonly key = new KeyScratch();
  readonly vi = new ValueInfo();
  readonly now: () => number;
  readonly lockedReads: boolean;
  readonly tries: number;
  readonly codecs: ValueCodecs;
  /** Values a get decoded, kept while their key's version holds (local-cache.ts); null = off. */
  readonly local: LocalCache | null;
  /** The string key of the get in progress when `local` is on, else null: readShared keeps its value. */
  localKey: string | null = null;
  /** seqlock.ts's RECHECK_PLAIN as a field: the lock-free read loads it from `s` it has at hand. */
  readonly recheckPlain = RECHECK_PLAIN;

  /** Until `attach`: the not-started placeholder (not-started.ts), whose every way in throws. */
  host: DictHost;
  pool: DictPool;
  core: DictCore = PLACEHOLDER_CORE;
  /** Slot of the entry the last `lookup` found, -1 when it found none. */
  slot = -1;
  /** Set by store.ts's `reserve`: whether it evicted. */
  forcible = false;
  /** Where warm.ts's loads end up, so that they are not optimized away. Meaningless. */
  warmSink = 0;
  /**
   * The clock as read once for the current locked write, just before `locked` takes the lock:
   * the expire step, set and incr use it rather than reading it under the lock (Date.now
   * costs ~40 ns, which every other writer would wait for).
   */
  writeNow = 0;
  /** Byte offset of the entry store() built before the lock in a held chunk (held-entry.ts). */
  heldEntry = 0;
  // Derived from the header, refreshed when the zone's ROOT changes (`syncLocked`).
  seqW = 0;
  refOff = 0;
  refMask = 0;
  verW = 0;
  verMask = 0;
  statF64 = 0;
  private statLine = 0;
  /** Word index of the pool's shared takeover count (`pool.recoveriesWord`). */
  recWord = 0;
  /**
   * The takeover count this session last synced at, under the lock, after the dict's repair
   * for it was done (by anyone). -1: never. A lock-free read is accepted only while the count
   * still equals it (reads.ts; test/crash/30.dict-crash.test.ts).
   */
  repairedAt = -1;
  /** getInto's target, and an Int32Array over it when it is 4-aligned (made once per target). */
  target: Uint8Array = NO_TARGET;
  targetView: Uint8Array = NO_TARGET;
  targetI32: Int32Array | null = null;
  /** The in-place overwrite's value buffer, made on first use (overwrite.ts). */
  overwriteScratch: OverwriteScratch | undefined;
  /** Where the one line about a dict rebuilt after a pool reset goes (the registry's `log`). */
  private log: (line: string) => void = warn;

  constructor(
    readonly name: string,
    settings: SessionSettings,
  ) {
    this.now = settings.now;
    this.lockedReads = settings.lockedReads;
    this.tries = settings.tries;
    this.codecs = settings.codecs;
    this.local = settings.localCache > 0 ? new LocalCache(settings.localCache) : null;
    this.vi.codecs = settings.codecs;
    this.host = notStartedHost(name);
    this.pool = this.host.pool;
  }

  get attached(): boolean {
    return this.core !== PLACEHOLDER_CORE;
  }

  /** Attach to the dict of `host`, building it under the lock when ROOT is 0. */
  attach(host: DictHost, log: ((line: string) => void) | undefined): void {
    if (log !== undefined) this.log = log;
    this.host = host;
    this.pool = host.pool;
    this.core = new DictCore(host.pool);
    const self = host.pool.owner?.selfId ?? process.pid * 31 + threadId * 7919;
    this.statLine = (self >>> 0) % STAT_LINES;
    this.recWord = host.pool.recoveriesWord;
    locked(this, false, syncedAlready, 0, 0, 0, 0);
  }

  /** Does this session need `syncLocked`: ROOT moved, or a recovery it has not synced after? */
  stale(): boolean {
    return this.host.root !== this.core.root || this.core.u32[this.recWord] !== this.repairedAt;
  }

  /** Take the lock and sync when `stale`. On a failed sync the lock is released and it throws. */
  lockSync(): void {
    this.pool.lock();
    if (this.stale()) {
      const generation = this.pool.generation;
      try {
        this.syncLocked();
      } catch (err) {
        const thrown = afterLockedError(this.pool, this.name, err, generation);
        this.pool.unlock();
        throw thrown;
      }
    }
  }

  /** Sync outside any call that takes the lock anyway (`size`). */
  syncIfMoved(): void {
    if (this.stale()) locked(this, false, syncedAlready, 0, 0, 0, 0);
  }

  /** The entry of the current key (lock held), 0 when absent; its slot goes to `this.slot`. */
  lookup(): number {
    const slot = tableFind(this.core, this.key.bytes, this.key.length, this.key.hash);
    this.slot = slot;
    return slot >= 0 ? slotRef(this.core, slot) : 0;
  }

  /**
   * Enter the current key's seqlock stripe section and move its version on (versions.ts);
   * returns the word for `leave`.
   */
  enter(): number {
    const sw = stripeWord(this.seqW, this.key.hash);
    seqEnter(this.core.i32, sw);
    bumpKeyVersion(this.core, this.key.hash);
    return sw;
  }

  leave(sw: number): void {
    seqLeave(this.core.i32, sw);
  }

  /** Lua's expire(1) before a write: finish any graveyard, then one expire step. */
  expireLocked(): void {
    const c = this.core;
    if (c.u32[c.hw + D_GRAVE] !== 0) reapGraveyard(c);
    if (c.u32[c.hw + D_LRU_TAIL] !== 0) {
      expireStep(c, this.writeNow, false, 0);
      c.pool.commit();
    }
  }

  /**
   * Under the lock: attach to the dict in ROOT (building it when there is none, or when the
   * pool was reset since it was built), and do the dict's share of any recovery of the pool
   * that it has not done yet (the pool's takeover count against the header's D_REPAIRED).
   */
  private syncLocked(): void {
    const pool = this.pool;
    const u32 = pool.u32;
    const count = u32[this.recWord];
    let root = this.host.root;
    if (!dictCurrent(pool, root)) {
      if (root !== 0) {
        // Not a dict of this pool generation. After a reset the old header is free memory
        // (maybe reused): never read it. Without a reset ever, ROOT must hold a dict.
        if (pool.generation === 0) {
          throw new DictError(
            'ERR_DICT_CORRUPT',
            `zone "${this.name}": ROOT ${root} does not hold a dict header`,
          );
        }
        this.log(
          `shmzone: dict "${this.name}": the pool was reset (generation ${pool.generation}); ` +
            'the dict was rebuilt EMPTY',
        );
        // First forget the old header: a crash before the new ROOT is stored then leaves "no
        // dict" (the next locker builds one), never ROOT pointing at chunks a rollback freed.
        this.host.root = 0;
      }
      // Whoever rebuilds stores ROOT under the lock; the next locker finds a current header
      // there and adopts it, so two processes that both notice do not both rebuild.
      root = dictCreateLocked(pool);
      pool.commit();
      this.host.root = root;
    }
    this.adopt(root);
    const hw = root / 4;
    if (u32[hw + D_REPAIRED] !== count) {
      // A recovery since the dict last repaired: the rollback may have returned words a
      // reader already copied, and a dead writer may have left its stripe odd. Move every
      // word forward to an even value (unjournaled, forward only), then record the count.
      // A crash in here is itself a takeover: it bumps the count, so the next locker repairs
      // again (a second bump is harmless).
      seqAfterRecovery(this.core.i32, this.seqW);
      pool.write32(hw + D_REPAIRED, count);
      pool.commit();
      const c = this.core;
      if (c.u32[c.hw + D_GRAVE] !== 0) reapGraveyard(c);
    }
    this.repairedAt = count;
    // Kept values may predate a rollback, or belong to a dict that is gone (local-cache.ts).
    if (this.local !== null) this.local.clear();
  }

  private adopt(root: number): void {
    const c = this.core;
    // The areas' refs are cached below and used lock-free: check them once, here.
    checkHeaderAreas(this.pool, root / 4, corrupt);
    c.root = root;
    c.hw = root / 4;
    const u32 = c.u32;
    this.seqW = u32[c.hw + D_SEQ] * 2;
    this.refOff = u32[c.hw + D_REFBITS] * 8;
    this.refMask = u32[c.hw + D_REF_MASK];
    this.verW = u32[c.hw + D_VERSIONS] * 2;
    this.verMask = u32[c.hw + D_VER_MASK];
    this.statF64 = u32[c.hw + D_STATS] + this.statLine * (LINE_WORDS / 2);
  }
}

/** A locked body: the session and up to four plain arguments (no closure per call). */
export type LockedBody<A, B, C, D, R> = (s: DictSession, a: A, b: B, c: C, d: D) => R;

/**
 * The one lock-and-commit skeleton: lock (syncing when stale), for a `write` run Lua's
 * expire(1) first, run `body`, unlock. Anything thrown with the lock held goes through
 * `afterLockedError` (damage: the zone is reset and ERR_DICT_CORRUPT thrown). `body` is a
 * module-level function, so a call allocates nothing.
 */
export function locked<A, B, C, D, R>(
  s: DictSession,
  write: boolean,
  body: LockedBody<A, B, C, D, R>,
  a: A,
  b: B,
  c: C,
  d: D,
): R {
  if (write) s.writeNow = s.now();
  s.lockSync();
  const generation = s.pool.generation;
  try {
    if (write) s.expireLocked();
    return body(s, a, b, c, d);
  } catch (err) {
    throw afterLockedError(s.pool, s.name, err, generation);
  } finally {
    s.pool.unlock();
    // A chunk a store built its entry in and did not link, or the entry it replaced
    // (src/dict/held-entry.ts): back to the thread cache, after the lock.
    s.pool.releaseHeld?.();
  }
}

function warn(line: string): void {
  console.warn(line);
}

/** `locked`'s body when taking the lock (and syncing) is the whole point. */
function syncedAlready(): void {}
