/**
 * The one way a thread opens a zone: segment memory -> validated header -> peer table -> slab
 * pool -> a claimed peer slot -> {@link OpenedZone}. Start-up (startup.ts), worker threads
 * (threads.ts) and the inspector (inspect.ts) all go through here.
 *
 * Where the memory comes from is a {@link SegmentSource}: today POSIX shared memory through
 * the addon ({@link posixShm}); other sources (files, SysV, memfd, plain SharedArrayBuffers
 * for threads only) plug in by implementing the same five calls. Everything above a source
 * sees only a zero-filled `SharedArrayBuffer` and a name.
 */
import { SlabPool } from '../slab/pool.js';
import {
  HeaderView,
  publishHeader,
  readHeader,
  writeHeader,
  type HeaderExpectation,
  type HeaderInfo,
  type HeaderRead,
} from './header.js';
import { PeerState, TOKEN_SIZE, ZoneState, zoneGeometry, type ZoneGeometry } from './layout.js';
import { nativeLiveness } from './liveness.js';
import { segmentName } from './names.js';
import { PeerTable } from './peers.js';
import { createSegment, openSegment, releasePages, statSegment, unlinkSegment } from './segment.js';

/**
 * Where a zone's memory lives. Every call throws SegmentError (errno names or `ERR_SEGMENT_*`).
 * `segment` is the zone's segment name (`/shmzone.<namespace>.<zone>`); a source maps it to
 * its own kind of name.
 */
export interface SegmentSource {
  /** Short name for messages and `shmzone ls` (`posix`, ...). */
  readonly kind: string;
  /**
   * Creates the segment exclusively (SegmentError `EEXIST` when taken), `size` bytes, zero
   * filled, fully backed (`ENOSPC` now rather than SIGBUS later), permission bits `mode`.
   * On failure nothing is left behind.
   */
  create(segment: string, size: number, mode: number): SharedArrayBuffer;
  /**
   * Maps an existing segment after checking owner (`ERR_SEGMENT_OWNER`), mode bits within
   * `maxMode` (`ERR_SEGMENT_MODE`) and size >= `minSize` (`ERR_SEGMENT_SIZE`); `ENOENT`.
   */
  open(segment: string, maxMode: number, minSize: number): SharedArrayBuffer;
  /** The segment's current size in bytes (`ENOENT` when it is gone). */
  size(segment: string): number;
  /** Removes the name; false when it was already gone. Existing mappings stay valid. */
  remove(segment: string): boolean;
  /** Frees the pages of a removed segment's last mapping now; false when nothing was freed. */
  release(buffer: SharedArrayBuffer): boolean;
  /**
   * True for memory of this process only (`mode: 'threads'`, memory-source.ts): zones get
   * threads-only peer tokens (liveness.ts) and never touch the addon.
   */
  readonly threadsOnly?: boolean;
  /**
   * Only for durable sources, whose memory outlives a reboot (files): writes the first `bytes`
   * of the mapping (0: all) back to storage before returning. Its presence makes zones of
   * this source persistent, marked clean at a clean stop and verified by their first user.
   */
  flush?(buffer: SharedArrayBuffer, bytes: number): void;
}

/** POSIX shared memory (`shm_open`, /dev/shm on Linux): the default source. */
export const posixShm: SegmentSource = {
  kind: 'posix',
  create: (segment, size, mode) => createSegment(segment, size, mode).buffer,
  open: (segment, maxMode, minSize) => openSegment(segment, maxMode, minSize).buffer,
  size: (segment) => statSegment(segment).size,
  remove: unlinkSegment,
  release: releasePages,
};

/** Everything creating or starting one zone needs to know. */
export interface ZoneSpec {
  name: string;
  namespace: string;
  /** `/shmzone.<namespace>.<name>`. */
  segment: string;
  /** Where the memory lives. */
  source: SegmentSource;
  /** Bytes, whole pages. */
  size: number;
  tag: string;
  persist: boolean;
  /** Mode bits to create with, and the loosest mode accepted on attach. */
  segmentMode: number;
  readyTimeoutMs: number;
  onMismatch: 'error' | 'recreate';
  /** Passed to `SlabPool.create`. */
  poolOptions?: Parameters<typeof SlabPool.create>[4];
  /** Peer tokens in a lock file rather than robust mutexes (`liveness: 'lockfile'`). */
  lockFileLiveness?: boolean;
  /** The registry's log, for notices (a durable zone found damaged and re-created). */
  log?: (line: string) => void;
}

/** A zone this thread has mapped, registered in and holds a peer slot of. */
export interface OpenedZone {
  buffer: SharedArrayBuffer;
  header: HeaderView;
  peers: PeerTable;
  pool: SlabPool;
  geometry: ZoneGeometry;
  /** `/shmzone.<namespace>.<name>`. */
  segment: string;
  /**
   * The source this thread mapped the memory from; undefined for a zone received through
   * `Zone.fromTransfer`, whose memory belongs to the thread that mapped it (it never removes).
   */
  source: SegmentSource | undefined;
  /** True when this process created the memory (init must build the structures). */
  created: boolean;
  /** The zone's persist flag as recorded in its header. */
  persist: boolean;
  /**
   * Durable sources only: this thread is the first user of memory that was already there
   * (`clean` tells whether its last user had stopped cleanly); undefined otherwise.
   */
  adopted?: { clean: boolean };
}

/** This build's geometry (depends on the addon's token size). */
export function currentGeometry(): ZoneGeometry {
  return zoneGeometry(TOKEN_SIZE);
}

/** What a valid header of zone `name` in `namespace` must say, for this build. */
export function expectedHeader(namespace: string, name: string): HeaderExpectation {
  return {
    name,
    namespace,
    geometry: currentGeometry(),
    tokenSize: TOKEN_SIZE,
    segment: segmentName(namespace, name),
  };
}

/**
 * Validates the header of zone `name` in `namespace` in `buffer`. Throws ZoneError
 * `ERR_ZONE_HEADER`, `ERR_ZONE_VERSION` (see readHeader).
 */
export function readZoneHeader(
  buffer: SharedArrayBuffer,
  namespace: string,
  name: string,
): HeaderRead {
  return readHeader(buffer, expectedHeader(namespace, name));
}

/** The slab pool of a validated zone, opened without registering (lock-free reads only). */
export function openPool(
  buffer: SharedArrayBuffer,
  header: HeaderInfo,
  peers: PeerTable,
  threadCache = false,
): SlabPool {
  return SlabPool.open(buffer, header.geometry.poolOffset, peers, { threadCache });
}

/** Zones cache chunks per thread unless declared with `pool: { threadCache: false }`. */
export function threadCacheOf(spec: ZoneSpec): boolean {
  return spec.poolOptions?.threadCache !== false;
}

/**
 * Opens the pool of a zone whose header was validated and claims a peer slot for the calling
 * thread (`state`: see PeerTable.claim; `threadCache`: the pool's option for this thread).
 * Throws ZoneError `ERR_ZONE_PEERS_FULL`, SlabCorruptionError.
 */
export function joinZone(
  buffer: SharedArrayBuffer,
  header: HeaderInfo,
  segment: string,
  source: SegmentSource | undefined,
  state: PeerState.Live | PeerState.Joining = PeerState.Live,
  threadCache = true,
): OpenedZone {
  const peers = new PeerTable(buffer, header.geometry);
  const pool = openPool(buffer, header, peers, threadCache);
  peers.claim(pool, undefined, state);
  return {
    buffer,
    header: new HeaderView(buffer),
    peers,
    pool,
    geometry: header.geometry,
    segment,
    source,
    created: false,
    persist: header.persist,
  };
}

/**
 * Creates the segment and publishes a CREATING header with the calling thread in slot 0.
 * Throws SegmentError `EEXIST` when the name is taken. The caller runs `init` and then calls
 * {@link markReady}, or {@link abandonCreated} on failure.
 */
export function createZone(spec: ZoneSpec): OpenedZone {
  const buffer = spec.source.create(spec.segment, spec.size, spec.segmentMode);
  const geometry = currentGeometry();
  const threadsOnly = spec.source.threadsOnly === true;
  let peers: PeerTable | undefined;
  try {
    writeHeader(buffer, {
      size: spec.size,
      tag: spec.tag,
      name: spec.name,
      namespace: spec.namespace,
      persist: spec.persist,
      creatorPid: process.pid,
      creatorStart: threadsOnly ? 0 : nativeLiveness.startTime(process.pid),
      geometry,
      tokenSize: TOKEN_SIZE,
      threadsOnly,
      lockFileLiveness: !threadsOnly && spec.lockFileLiveness === true,
    });
    // The header (not yet published) now says which tokens the zone has; the lock file's
    // name comes from it (lock-files.ts).
    peers = new PeerTable(buffer, geometry);
    peers.initTokens();
    // Slot 0 is taken BEFORE the header is published: whoever sees MAGIC and finds slot 0's
    // token not alive knows for certain that the creator is gone.
    peers.claim(undefined, 0);
    publishHeader(buffer);
    const pool = SlabPool.create(
      buffer,
      geometry.poolOffset,
      spec.size - geometry.poolOffset,
      peers,
      { ...spec.poolOptions, threadCache: threadCacheOf(spec) },
    );
    return {
      buffer,
      header: new HeaderView(buffer),
      peers,
      pool,
      geometry,
      segment: spec.segment,
      source: spec.source,
      created: true,
      persist: spec.persist,
    };
  } catch (err) {
    new HeaderView(buffer).state = ZoneState.Corrupt;
    if (peers !== undefined && peers.selfId !== 0) peers.release();
    spec.source.remove(spec.segment);
    throw err;
  }
}

/** Publishes READY: attachers waiting on the state word proceed. */
export function markReady(zone: OpenedZone): void {
  zone.header.state = ZoneState.Ready;
}

/** Backs out a zone whose `init` failed: CORRUPT, slot released, name removed. */
export function abandonCreated(zone: OpenedZone): void {
  zone.header.state = ZoneState.Corrupt;
  zone.peers.release();
  zone.source?.remove(zone.segment);
}
