/**
 * Inspecting zone segments from outside the registry: what the `shmzone` command sees.
 *
 * An inspector opens an existing segment by name (never creates one), validates its header
 * with the zone layer's own `readHeader` before using any offset in it, and reads the peer
 * table and the slab pool. Reading is lock-free and changes nothing, except that probing a
 * dead peer's liveness token makes the token consistent (the native probe does that).
 *
 * Operations that need the pool lock (`verify`, dict statistics, removal) register the
 * inspector in a peer slot for their duration ({@link InspectedZone.withLock}), as any other
 * user of the zone would, and give the slot back at once. While it holds the slot a
 * last-one-out process sees one live peer more and keeps the zone; `shmzone rm --stale`
 * removes such a leftover later.
 */
import { ZoneError, type ShmzoneErrorCode } from '../errors.js';
import { TokenAcquire, TokenState, type SegmentListing, type SegmentStat } from '../native.js';
import type { SlabPool } from '../slab/pool.js';
import { HeaderView, type HeaderInfo } from './header.js';
import { HEADER_SIZE, PEER_SLOTS, ZoneState } from './layout.js';
import { segmentName } from './names.js';
import { findSegments } from './discover.js';
import { openPool, posixShm, readZoneHeader, type SegmentSource } from './open.js';
import { PeerTable, processAlive, type PeerInfo } from './peers.js';
import { listSegments, statSegment } from './segment.js';

/** A header state as text: `creating`, `ready`, `corrupt`, `closing`; `blank` before MAGIC. */
export type ZoneStateName = 'blank' | 'creating' | 'ready' | 'corrupt' | 'closing';

const STATE_NAMES: Record<number, ZoneStateName> = {
  [ZoneState.Creating]: 'creating',
  [ZoneState.Ready]: 'ready',
  [ZoneState.Corrupt]: 'corrupt',
  [ZoneState.Closing]: 'closing',
};

/** One occupied peer slot and whether its thread is alive. */
export interface PeerStatus extends PeerInfo {
  alive: boolean;
}

/** What an inspector learnt from a segment's header and peer table. */
export interface ZoneSummary {
  /** `/shmzone.<namespace>.<zone>`. */
  segment: string;
  namespace: string;
  zone: string;
  /** Where the segment lives: `posix`, `file`, `hugetlbfs` or `sysv` (docs/backends.md). */
  backend: string;
  /** Segment size in bytes (fstat). */
  size: number;
  /** Permission bits of the segment. */
  mode: number;
  uid: number;
  /** ms since the epoch (fstat). */
  mtimeMs: number;
  /**
   * `ok`: a valid header; `blank`: the creator has not published the header (yet, or it died
   * first); `empty`: the segment is smaller than a header (a creator between shm_open and
   * ftruncate, or one that died there); `invalid`: not a shmzone header of this version, or
   * not accessible (see `error`).
   */
  health: 'ok' | 'blank' | 'empty' | 'invalid';
  /** Why `health` is `invalid`. */
  error?: { code: string; message: string };
  /** Header fields (undefined unless `health` is `ok`). */
  tag?: string;
  state?: ZoneStateName;
  persist?: boolean;
  generation?: number;
  /** Seconds since the epoch. */
  createdAt?: number;
  creatorPid: number;
  creatorAlive: boolean;
  /** Occupied peer slots, dead ones included. */
  peers: PeerStatus[];
  livePeers: number;
  /** True when nothing alive uses the segment: its creator and every registered peer are dead. */
  stale: boolean;
}

/** Segments younger than this with no header yet may still be in their creator's hands. */
export const EMPTY_GRACE_MS = 10_000;

/** Lock wait of {@link InspectedZone.withLock} before giving up on a live holder, ms. */
export const DEFAULT_LOCK_TIMEOUT_MS = 5_000;

function inspectionError(code: ShmzoneErrorCode, message: string, cause?: unknown): ZoneError {
  return new ZoneError(code, message, cause === undefined ? undefined : { cause });
}

/** An opened segment: summary, plus the pool when the header is valid and READY or CREATING. */
export class InspectedZone {
  readonly summary: ZoneSummary;
  /** The backend the segment was found on; removal goes through it. */
  readonly source: SegmentSource;
  /** The validated header, when `summary.health` is `ok`. */
  readonly header: HeaderInfo | undefined;
  private readonly buffer: SharedArrayBuffer | undefined;
  private readonly peerTable: PeerTable | undefined;
  private poolCache: SlabPool | undefined;

  /** @internal use {@link inspectZone}. */
  constructor(
    summary: ZoneSummary,
    source: SegmentSource,
    header?: HeaderInfo,
    buffer?: SharedArrayBuffer,
    peers?: PeerTable,
  ) {
    this.summary = summary;
    this.source = source;
    this.header = header;
    this.buffer = buffer;
    this.peerTable = peers;
  }

  /**
   * The zone's slab pool, opened without registering (lock-free reads only: `stats()`,
   * `freeSpace()`). Throws ZoneError `ERR_ZONE_HEADER` when the segment has no valid header,
   * SlabCorruptionError when the pool header is damaged.
   */
  get pool(): SlabPool {
    if (this.poolCache !== undefined) return this.poolCache;
    if (this.header === undefined || this.buffer === undefined || this.peerTable === undefined) {
      throw inspectionError(
        'ERR_ZONE_HEADER',
        `${this.summary.segment} has no valid zone header (${this.summary.health}); its pool cannot be read`,
      );
    }
    this.poolCache = openPool(this.buffer, this.header, this.peerTable);
    return this.poolCache;
  }

  /** The zone's ROOT word (nginx's `shpool->data`): offset of the user's structure, 0 = none. */
  get root(): number {
    return this.buffer === undefined ? 0 : new HeaderView(this.buffer).root;
  }

  /**
   * Registers in a peer slot, takes the pool lock, runs `fn`, unlocks and gives the slot back.
   * A lock held by a dead thread is taken over and repaired (journal rollback), as any user
   * would. Throws ZoneError `ERR_ZONE_LOCK_BUSY` when a live thread holds the lock for longer
   * than `timeoutMs`, `ERR_ZONE_PEERS_FULL` when no slot is free.
   */
  withLock<T>(fn: (pool: SlabPool) => T, timeoutMs = DEFAULT_LOCK_TIMEOUT_MS): T {
    return this.withPeer((pool) => {
      this.waitForLock(timeoutMs, true);
      try {
        return fn(pool);
      } finally {
        pool.unlock();
      }
    });
  }

  /**
   * Registers in a peer slot (so that the pool's `lock()` works in this thread), runs `fn`
   * and gives the slot back. `fn` takes the lock itself; see {@link waitForLock}.
   */
  withPeer<T>(fn: (pool: SlabPool) => T): T {
    const pool = this.pool;
    const peers = this.peerTable as PeerTable;
    peers.claim(pool);
    try {
      return fn(pool);
    } finally {
      peers.release();
    }
  }

  /**
   * Inside {@link withPeer}: waits, at most `timeoutMs`, until the lock is free or held by a
   * dead thread; with `take`, takes it (repairing a dead owner's work). Without `take` a
   * following `lock()` is then very likely not to block for long. Throws ZoneError
   * `ERR_ZONE_LOCK_BUSY`.
   */
  waitForLock(timeoutMs = DEFAULT_LOCK_TIMEOUT_MS, take = false): void {
    lockBounded(this.pool, this.peerTable as PeerTable, timeoutMs, this.summary.segment, take);
  }

  /**
   * Removes the segment's name, following the zone layer's rule that only whoever holds the
   * lock (READY) or the creator's token (CREATING) may unlink, after marking the header
   * CLOSING / CORRUPT so that anyone who opened it by name retries. With `onlyIfUnused`, a
   * segment that a live thread uses (checked again under the lock) is kept and `false`
   * returned. A blank, empty or invalid segment is simply unlinked. Returns true when the
   * name was removed by this call.
   */
  remove(onlyIfUnused: boolean, timeoutMs = DEFAULT_LOCK_TIMEOUT_MS): boolean {
    const segment = this.summary.segment;
    const h = this.header;
    if (h === undefined || this.buffer === undefined || this.peerTable === undefined) {
      if (onlyIfUnused && !this.summary.stale) return false;
      return this.source.remove(segment);
    }
    const view = new HeaderView(this.buffer);
    const peers = this.peerTable;
    if (view.state === ZoneState.Creating) {
      // The creator holds slot 0's token until READY: free or dead means it is gone.
      const got = peers.acquireCreatorToken();
      if (got === TokenAcquire.Busy && onlyIfUnused) return false;
      try {
        view.state = ZoneState.Corrupt;
        return this.source.remove(segment);
      } finally {
        if (got !== TokenAcquire.Busy) peers.releaseCreatorToken();
      }
    }
    if (view.state !== ZoneState.Ready) {
      if (onlyIfUnused && livePeerCount(peers) > 0) return false;
      return this.source.remove(segment);
    }
    let unused = false;
    this.withLock(() => {
      unused = peers.liveOthers() === 0;
      if (unused || !onlyIfUnused) view.state = ZoneState.Closing;
    }, timeoutMs);
    if (!unused && onlyIfUnused) return false;
    return this.source.remove(segment);
  }
}

function lockBounded(
  pool: SlabPool,
  peers: PeerTable,
  timeoutMs: number,
  segment: string,
  take: boolean,
): void {
  const deadline = Date.now() + timeoutMs;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    const owner = pool.lockOwner();
    // Free, or held by a dead thread (lock() then takes it over and repairs): lock() returns
    // promptly. Held by a live thread: wait here, bounded, rather than inside lock().
    if (owner === 0 || peers.isOwnerDead(owner)) {
      if (take) pool.lock();
      return;
    }
    if (Date.now() >= deadline) {
      throw inspectionError(
        'ERR_ZONE_LOCK_BUSY',
        `The pool lock of ${segment} has been held by live owner ${owner} for over ${timeoutMs} ms`,
      );
    }
    Atomics.wait(pause, 0, 0, 2);
  }
}

function livePeerCount(peers: PeerTable): number {
  let n = 0;
  for (let slot = 0; slot < PEER_SLOTS; slot++) {
    if (peers.occupied(slot) && peers.probe(slot) === TokenState.Alive) n++;
  }
  return n;
}

function peerStatuses(peers: PeerTable): PeerStatus[] {
  const out: PeerStatus[] = [];
  for (let slot = 0; slot < PEER_SLOTS; slot++) {
    if (!peers.occupied(slot)) continue;
    out.push({ ...peers.info(slot), alive: peers.probe(slot) === TokenState.Alive });
  }
  return out;
}

function baseSummary(
  namespace: string,
  zone: string,
  backend: string,
  stat: SegmentStat & { mtimeMs?: number },
): ZoneSummary {
  return {
    segment: segmentName(namespace, zone),
    namespace,
    zone,
    backend,
    size: stat.size,
    mode: stat.mode,
    uid: stat.uid,
    mtimeMs: stat.mtimeMs ?? 0,
    health: 'invalid',
    creatorPid: 0,
    creatorAlive: false,
    peers: [],
    livePeers: 0,
    stale: false,
  };
}

function errorInfo(err: unknown): { code: string; message: string } {
  const e = err as { code?: unknown; message?: unknown };
  return {
    code: typeof e.code === 'string' ? e.code : 'ERR_UNKNOWN',
    message: typeof e.message === 'string' ? e.message : String(err),
  };
}

/**
 * Opens the segment of zone `zone` in `namespace` and validates it: the POSIX one, or the one
 * `found` on another backend (discover.ts). Throws SegmentError `ENOENT` when it does not
 * exist; every other problem (not ours, damaged, another version, too small) is reported in
 * the summary's `health` and `error`, not thrown.
 */
export function inspectZone(
  namespace: string,
  zone: string,
  found?: { listing: SegmentListing; source: SegmentSource },
): InspectedZone {
  const segment = segmentName(namespace, zone);
  const source = found?.source ?? posixShm;
  const stat: SegmentStat & { mtimeMs?: number } =
    found?.listing ??
    listSegments(segment.slice(1)).find((l) => l.name === segment.slice(1)) ??
    statSegment(segment);
  const summary = baseSummary(namespace, zone, source.kind, stat);
  const type = (stat as Partial<SegmentListing>).type;
  if (type !== undefined && type !== 'file') {
    // Planted at a segment name (shm_open refuses symlinks with ELOOP): never opened, shown.
    summary.error = {
      code: type === 'symlink' ? 'ELOOP' : 'ERR_SEGMENT_NOT_FILE',
      message:
        `${segment} is ${type === 'symlink' ? 'a symbolic link' : 'not a regular file'} ` +
        `owned by uid ${stat.uid}, not a segment: only that user (or root) can remove it`,
    };
    return new InspectedZone(summary, source);
  }
  let buffer: SharedArrayBuffer;
  try {
    // Any mode is accepted for reading (the owner check stays): the CLI trusts nothing in it
    // before readHeader has validated every field against the mapping's length.
    buffer = source.open(segment, 0o777, HEADER_SIZE);
  } catch (err) {
    const info = errorInfo(err);
    if (info.code === 'ENOENT') throw err;
    if (info.code === 'ERR_SEGMENT_SIZE') {
      summary.health = 'empty';
      summary.stale = Date.now() - summary.mtimeMs > EMPTY_GRACE_MS;
      return new InspectedZone(summary, source);
    }
    summary.error = info;
    return new InspectedZone(summary, source);
  }
  let read: ReturnType<typeof readZoneHeader>;
  try {
    read = readZoneHeader(buffer, namespace, zone);
  } catch (err) {
    summary.error = errorInfo(err);
    return new InspectedZone(summary, source);
  }
  if (read.kind === 'blank') {
    summary.health = 'blank';
    summary.state = 'blank';
    summary.creatorPid = read.creatorPid;
    summary.creatorAlive = processAlive(read.creatorPid, read.creatorStart);
    // A blank header with no known creator may be one between ftruncate and its first write.
    summary.stale =
      !summary.creatorAlive &&
      (read.creatorPid !== 0 || Date.now() - summary.mtimeMs > EMPTY_GRACE_MS);
    return new InspectedZone(summary, source);
  }
  const h = read.header;
  const peers = new PeerTable(buffer, h.geometry);
  summary.health = 'ok';
  summary.tag = h.tag;
  summary.state = STATE_NAMES[h.state];
  summary.persist = h.persist;
  summary.createdAt = h.createdAt;
  summary.creatorPid = h.creatorPid;
  summary.creatorAlive = processAlive(h.creatorPid, h.creatorStart);
  summary.peers = peerStatuses(peers);
  summary.livePeers = summary.peers.filter((p) => p.alive).length;
  // A ready persistent zone with nobody attached is a warm cache waiting for the next start
  // (that is what persist asks for), not debris: only `rm <zone>` removes it.
  summary.stale =
    !summary.creatorAlive &&
    summary.livePeers === 0 &&
    !(summary.persist && summary.state === 'ready');
  const inspected = new InspectedZone(summary, source, h, buffer, peers);
  try {
    summary.generation = 1 + inspected.pool.generation; // as zone.generation derives it
  } catch {
    // a pool that cannot be opened (damaged, closing) has no generation to report
  }
  return inspected;
}

/**
 * Summaries of every zone segment of this library (optionally of one namespace) on every
 * backend (discover.ts; `directories`: where file-backed zones live). A segment that
 * vanishes while being listed is left out.
 */
export function inspectAll(namespace?: string, directories: string[] = []): InspectedZone[] {
  const out: InspectedZone[] = [];
  for (const found of findSegments(namespace, directories)) {
    try {
      out.push(inspectZone(found.namespace, found.zone, found));
    } catch (err) {
      if (errorInfo(err).code !== 'ENOENT') throw err;
    }
  }
  return out;
}
