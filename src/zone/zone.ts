/**
 * A `Zone`: one named block of shared memory with a slab pool, as seen by one thread.
 *
 * Zones are declared with `registry.add()` (or received in a worker with
 * `Zone.fromTransfer()`); their memory exists only after `registry.start()`. Accessing
 * `buffer`, `pool`, `root` or `owner` before that throws ZoneError `ERR_ZONE_NOT_STARTED`,
 * after `registry.stop()` / `zone.close()` `ERR_ZONE_CLOSED`.
 */
import { ZoneError, describeValue } from '../errors.js';
import type { OwnerIdentity } from '../slab/api.js';
import type { SlabPool } from '../slab/pool.js';
import { segmentName } from './names.js';
import type { PeerInfo } from './peers.js';
import type { OpenedZone, ZoneSpec } from './open.js';
import { leaveZone } from './startup.js';
import { HANDLE_KIND, checkHandle, openTransferred, type ZoneHandle } from './threads.js';
import { onExit } from './cleanup.js';

/**
 * Zone objects this thread opened with `Zone.fromTransfer` and has not closed, per segment:
 * each holds its own peer slot, so without a cap one thread could take all PEER_SLOTS of a
 * zone (test/zone/40.threads.test.ts, "fromTransfer cap").
 */
const transferredHere = new Map<string, number>();
export const MAX_TRANSFERRED_PER_THREAD = 8;

/**
 * Called once per process (and registry) when the zone is up, before `start()` resolves.
 * `reused` is false only in the process that just created the memory: it must build its
 * structures (typically `zone.root = zone.pool.calloc(n)`). Everywhere else (cluster workers,
 * later standalone processes, a warm restart of a persistent zone) `reused` is true and the
 * structures already exist: find them from `zone.root`, and do not write without the lock.
 * May return a promise. nginx calls `init(zone, old_data)` in the same two situations.
 */
export type ZoneInit = (zone: Zone, reused: boolean) => void | Promise<void>;

/** Per-zone declaration passed to `registry.add()`. */
export interface ZoneDeclaration {
  /**
   * Identity of the zone's user (nginx's tag): a string of at most 64 UTF-8 bytes, default `''`.
   * Two declarations of one name with different tags are an error (`ERR_ZONE_TAG`), and an
   * existing segment with another tag is refused on attach (`ERR_ZONE_MISMATCH`).
   */
  tag?: string;
  /** See {@link ZoneInit}. */
  init?: ZoneInit;
  /**
   * Options for `SlabPool.create` (size-class mode, ...), used by the creating process;
   * `threadCache` (default true) applies to every process that declares the zone: whether
   * its threads keep caches of free chunks for `zone.pool.alloc()`/`free()`
   * (src/slab/cache-layout.ts).
   */
  pool?: ZoneSpec['poolOptions'];
  /**
   * Durable backends (`backend: 'file'`): checks the zone's structures when its first user
   * adopts memory that outlived its processes, with the pool lock held; throw to have the
   * zone reset empty (a warning goes to the registry's log).
   */
  verify?: (zone: Zone) => void;
}

type Phase = 'declared' | 'starting' | 'started' | 'closed';

/** One shared memory zone. See the module comment. */
export class Zone {
  /** Zone name, `[A-Za-z0-9_-]{1,64}`. */
  readonly name: string;
  /** The tag it was declared with. */
  readonly tag: string;
  private _size: number;
  private _namespace = '';
  private _phase: Phase = 'declared';
  private _opened: OpenedZone | undefined;
  private _leaveMode: 'owner' | 'last-out' | 'keep' = 'keep';
  private _unregisterExit: (() => void) | undefined;
  /** Set by fromTransfer: gives back this thread's count for the segment on close. */
  private _releaseTransfer: (() => void) | undefined;
  /** @internal the init callbacks declared for this zone, in order. */
  readonly _inits: ZoneInit[] = [];
  /** @internal the verify callbacks declared for this zone. */
  readonly _verifiers: Array<(zone: Zone) => void> = [];
  /** @internal */
  _poolOptions: ZoneSpec['poolOptions'];

  /** @internal Created by `ZoneRegistry.add()` or `Zone.fromTransfer()`. */
  constructor(name: string, size: number, tag: string) {
    this.name = name;
    this._size = size;
    this.tag = tag;
  }

  /** Size in bytes (whole pages); 0 while only referenced. */
  get size(): number {
    return this._size;
  }

  /** @internal adopts a size declared after a size-0 reference. */
  _setSize(size: number): void {
    this._size = size;
  }

  /** The namespace (known once started). */
  get namespace(): string {
    return this._namespace;
  }

  /** `/shmzone.<namespace>.<name>` (known once started). */
  get segmentName(): string {
    return this._namespace === '' ? '' : segmentName(this._namespace, this.name);
  }

  /** True between a successful start and `stop()`/`close()`. */
  get started(): boolean {
    return this._phase === 'started';
  }

  private opened(): OpenedZone {
    if (this._opened !== undefined && this._phase === 'started') return this._opened;
    if (this._phase === 'closed') {
      throw new ZoneError(
        'ERR_ZONE_CLOSED',
        `Zone "${this.name}" was closed; its memory is no longer in use here`,
      );
    }
    throw new ZoneError(
      'ERR_ZONE_NOT_STARTED',
      `Zone "${this.name}" has no memory yet: await zones.start() (or registry.start()) first`,
    );
  }

  /** The whole segment. Byte 0 is the zone header; the pool's offsets index into it. */
  get buffer(): SharedArrayBuffer {
    return this.opened().buffer;
  }

  /** The zone's slab allocator. */
  get pool(): SlabPool {
    return this.opened().pool;
  }

  /** This thread's lock-owner identity in the zone (its peer slot). */
  get owner(): OwnerIdentity {
    return this.opened().peers;
  }

  /** True when this process created the memory (its `init` got `reused = false`). */
  get created(): boolean {
    return this.opened().created;
  }

  /** True when the zone outlives its processes (`persist`, as recorded in its header). */
  get persist(): boolean {
    return this.opened().persist;
  }

  /**
   * Offset (bytes into `buffer`) of the user's root structure, 0 = unset: nginx's
   * `shpool->data`. Set it in `init` after building the structure; attachers read it.
   * Reads and writes are atomic.
   */
  get root(): number {
    return this.opened().header.root;
  }

  set root(offset: number) {
    const z = this.opened();
    if (
      !Number.isSafeInteger(offset) ||
      offset < 0 ||
      (offset !== 0 && (offset < z.geometry.poolOffset || offset >= this._size))
    ) {
      throw new ZoneError(
        'ERR_ZONE_ROOT',
        `zone.root must be 0 or an offset inside the pool of zone "${this.name}" ` +
          `(${z.geometry.poolOffset}..${this._size - 1}), got ${describeValue(offset)}`,
      );
    }
    z.header.root = offset;
  }

  /**
   * 1 at creation, +1 each time the pool had to be re-initialised empty after a failed repair.
   * Derived from the pool's own shared counter, so it is right whichever process (or the CLI)
   * did the reset.
   */
  get generation(): number {
    return 1 + this.opened().pool.generation;
  }

  /** Threads (of any process) registered in the zone whose liveness token says alive. */
  livePeers(): PeerInfo[] {
    return this.opened().peers.livePeers();
  }

  /** Frees the slots of dead threads (recovering the pool lock if one held it). */
  reapDeadPeers(): PeerInfo[] {
    const z = this.opened();
    return z.peers.reapDeadPeers(z.pool).reaped;
  }

  /** @internal reaps dead slots, of process `pid` only when given. */
  _reap(pid?: number): { reaped: PeerInfo[]; recovered: number[] } {
    const z = this.opened();
    return z.peers.reapDeadPeers(z.pool, pid);
  }

  /**
   * A structured-cloneable handle for a worker thread: pass it in `workerData` or
   * `postMessage`, then call `Zone.fromTransfer(handle)` there.
   */
  transfer(): ZoneHandle {
    const z = this.opened();
    return {
      kind: HANDLE_KIND,
      buffer: z.buffer,
      name: this.name,
      namespace: this._namespace,
      size: this._size,
      tag: this.tag,
    };
  }

  /**
   * Re-opens a transferred zone in the calling (worker) thread over the same memory, and
   * registers the thread in its peer table. The thread's slot is released by `close()` or
   * when the thread exits. Throws ShmzoneArgumentError `ERR_ZONE_HANDLE`, ZoneError
   * `ERR_ZONE_HEADER`, `ERR_ZONE_PEERS_FULL`.
   */
  static fromTransfer(handle: ZoneHandle): Zone {
    const h = checkHandle(handle);
    const segment = segmentName(h.namespace, h.name);
    const held = transferredHere.get(segment) ?? 0;
    if (held >= MAX_TRANSFERRED_PER_THREAD) {
      throw new ZoneError(
        'ERR_ZONE_THREAD_SLOTS',
        `This thread already holds ${held} peer slots of zone "${h.name}" through Zone.fromTransfer ` +
          `(at most ${MAX_TRANSFERRED_PER_THREAD}, so one thread cannot fill the peer table); close() one first`,
      );
    }
    const zone = new Zone(h.name, h.size, h.tag);
    zone._namespace = h.namespace;
    zone._open(openTransferred(h), 'keep');
    transferredHere.set(segment, held + 1);
    zone._releaseTransfer = () => {
      const n = (transferredHere.get(segment) ?? 1) - 1;
      if (n === 0) transferredHere.delete(segment);
      else transferredHere.set(segment, n);
    };
    return zone;
  }

  /** @internal */
  _beginStart(namespace: string): void {
    this._namespace = namespace;
    this._phase = 'starting';
  }

  /** @internal makes the opened zone this object's memory. */
  _open(opened: OpenedZone, leaveMode: 'owner' | 'last-out' | 'keep'): void {
    this._opened = opened;
    this._leaveMode = leaveMode;
    this._phase = 'started';
    this._unregisterExit = onExit(() => this.close());
  }

  /** @internal a failed start: back to unusable. */
  _failStart(): void {
    this._phase = 'closed';
  }

  /**
   * Leaves the zone in this thread: releases the peer slot and, if this process owns the
   * zone (or is its last user and it is not persistent), removes the segment. Idempotent.
   * Memory stays mapped until garbage collected, but when the segment was removed and no
   * other thread or process is attached its pages are freed now and read zeros (leaveZone);
   * do not use the zone afterwards. Throws
   * ZoneError ERR_ZONE_HEADER, after closing (and removing, if it was ours to remove), when
   * this thread's peer token in the header was overwritten.
   */
  close(): void {
    if (this._phase !== 'started' || this._opened === undefined) {
      this._phase = 'closed';
      return;
    }
    this._phase = 'closed';
    this._unregisterExit?.();
    this._releaseTransfer?.();
    this._releaseTransfer = undefined;
    leaveZone(this._opened, this._leaveMode);
  }
}

/**
 * `Zone.fromTransfer` for layers above that hold a handle of unknown shape (the dict's
 * transfer): they need a zone opened, not the Zone class.
 */
export function openZoneHandle(handle: unknown): Zone {
  return Zone.fromTransfer(handle as ZoneHandle);
}
