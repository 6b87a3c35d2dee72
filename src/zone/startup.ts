/**
 * Start-up of one zone in one process: create it, or attach to it, or take over a dead
 * creator's half-made segment, or replace a stale one. The state machine (ngx_init_cycle's
 * "create or reuse", made safe for processes that are not forks of one master):
 *
 * ```
 *          create O_EXCL ──ok──► write header (CREATING, creator holds slot 0) ─► pool ─► init ─► READY
 *               │EEXIST (not in attach mode)
 *               ▼
 *   open + fstat checks (owner, mode) ─ENOENT─► retry (create again, or wait in attach mode)
 *               │
 *      header validated ──garbage──► ZoneError (never touched further)
 *               │
 *   MAGIC 0 ─► wait (creator writing)          CLOSING / CORRUPT ─► wait, then retry by name
 *   CREATING ─ slot-0 token busy ─► wait (bounded)
 *            └ slot-0 token free/dead (creator died) ─► attach mode: ERR_ZONE_CREATOR_DIED
 *                                   otherwise: mark CORRUPT, unlink, create again
 *   READY ─► open pool, claim a peer slot, take the pool lock, decide under it:
 *            attach/reuse | mismatch → error, or (recreate) mark CLOSING + unlink + create again
 * ```
 *
 * Only a holder of the lock (READY) or of the creator's token (CREATING) may unlink a name,
 * after marking the header CLOSING / CORRUPT, so whoever opened the old segment by name sees
 * the mark and retries instead of using or unlinking a newer segment under the same name.
 */
import { SegmentError, ShmzoneError, SlabCorruptionError, ZoneError } from '../errors.js';
import { TokenAcquire } from '../native.js';
import { HeaderView, lockFileIdentity, type HeaderInfo } from './header.js';
import { lockFilePath, removeLockFile } from './lock-files.js';
import { HEADER_SIZE, H_CREATOR_PID, PeerState, ZoneState } from './layout.js';
import {
  createZone,
  joinZone,
  readZoneHeader,
  threadCacheOf,
  type OpenedZone,
  type ZoneSpec,
} from './open.js';
import { PeerTable, processAlive } from './peers.js';
import type { SlabPool } from '../slab/pool.js';

/** How a process takes part in a zone (see `ZoneRegistryOptions.mode`). */
export type StartRole = 'owner' | 'attach' | 'standalone' | 'threads';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

type Step =
  | { kind: 'opened'; zone: OpenedZone }
  | { kind: 'wait'; why: string }
  | { kind: 'retry'; why: string };

function timeoutError(spec: ZoneSpec, why: string): ZoneError {
  return new ZoneError(
    'ERR_ZONE_TIMEOUT',
    `Zone "${spec.name}" (${spec.segment}) was not ready within ${spec.readyTimeoutMs} ms: ${why}`,
  );
}

/**
 * Brings one zone up for the calling thread, per the state machine above, within
 * `spec.readyTimeoutMs`. Throws ZoneError `ERR_ZONE_TIMEOUT`, `ERR_ZONE_HEADER`,
 * `ERR_ZONE_VERSION`, `ERR_ZONE_MISMATCH`, `ERR_ZONE_IN_USE`, `ERR_ZONE_CREATOR_DIED`,
 * `ERR_ZONE_PEERS_FULL`; SegmentError (`ERR_SEGMENT_OWNER`, `ERR_SEGMENT_MODE`, `ENOSPC`, ...).
 */
export async function startZone(spec: ZoneSpec, role: StartRole): Promise<OpenedZone> {
  const deadline = Date.now() + spec.readyTimeoutMs;
  let pause = 2;
  for (;;) {
    if (role !== 'attach') {
      try {
        return createZone(spec);
      } catch (err) {
        if (!(err instanceof SegmentError && err.code === 'EEXIST')) throw err;
      }
    }
    const step = tryExisting(spec, role);
    if (step.kind === 'opened') return step.zone;
    if (Date.now() >= deadline) throw timeoutError(spec, step.why);
    if (step.kind === 'retry') {
      // Something was just removed or replaced: go again at once, but yield to the loop.
      await sleep(0);
      continue;
    }
    await sleep(pause);
    pause = Math.min(pause * 2, 50);
  }
}

function tryExisting(spec: ZoneSpec, role: StartRole): Step {
  let buffer: SharedArrayBuffer;
  try {
    buffer = spec.source.open(spec.segment, spec.segmentMode, HEADER_SIZE);
  } catch (err) {
    if (!(err instanceof SegmentError)) throw err;
    if (err.code === 'ENOENT')
      return { kind: role === 'attach' ? 'wait' : 'retry', why: 'the segment does not exist' };
    if (err.code === 'ERR_SEGMENT_SIZE') {
      let size: number;
      try {
        size = spec.source.size(spec.segment);
      } catch {
        return { kind: 'retry', why: 'the segment vanished' };
      }
      // Size 0 is the instant between its creator's shm_open and ftruncate; any other size
      // smaller than a header is never legitimate.
      if (size === 0) return { kind: 'wait', why: 'its creator is still sizing it' };
      throw new ZoneError(
        'ERR_ZONE_HEADER',
        `The segment ${spec.segment} is ${size} bytes, too small for a zone header: truncated or ` +
          `not a shmzone segment. Refusing to use it.`,
        { cause: err },
      );
    }
    throw err;
  }
  let read: ReturnType<typeof readZoneHeader>;
  try {
    read = readZoneHeader(buffer, spec.namespace, spec.name);
  } catch (err) {
    // A durable zone's file damaged between runs: nothing in it can be trusted, so start it
    // afresh (verified-or-empty, docs/backends.md). Shared memory with a bad header is refused.
    if (!(err instanceof ZoneError && err.code === 'ERR_ZONE_HEADER')) throw err;
    if (spec.source.flush === undefined || role === 'attach') throw err;
    spec.log?.(
      `shmzone: zone "${spec.name}": ${err.message}; removing it and starting the zone empty`,
    );
    spec.source.remove(spec.segment);
    return { kind: 'retry', why: 'its damaged file was removed' };
  }
  if (read.kind === 'blank') {
    if (read.creatorPid === RECLAIMING) return { kind: 'wait', why: 'it is being removed' };
    const dead = read.creatorPid !== 0 && !processAlive(read.creatorPid, read.creatorStart);
    if (dead && role !== 'attach' && claimBlank(buffer, read.creatorPid)) {
      spec.source.remove(spec.segment);
      return { kind: 'retry', why: `its creator, pid ${read.creatorPid}, died before the header` };
    }
    return {
      kind: 'wait',
      why: dead
        ? `its creator (pid ${read.creatorPid}) died before writing the header; remove it with "shmzone rm"`
        : 'its creator has not written the header yet',
    };
  }
  const header = read.header;
  switch (header.state) {
    case ZoneState.Creating:
      return creatorCheck(spec, role, buffer, header);
    case ZoneState.Closing:
    case ZoneState.Corrupt:
      return { kind: 'wait', why: 'the segment under this name is being removed' };
    default:
      return joinReady(spec, role, buffer, header);
  }
}

/** H_CREATOR_PID of a blank segment that one starter has claimed for removal. */
const RECLAIMING = 0xffffffff;

/**
 * A blank segment (no MAGIC) whose creator is dead has no lock and no token anyone can hold, so
 * starters decide who removes it with one CAS of its creator pid word: only the winner unlinks
 * the name, and since a new segment can be created under the name only after that unlink, no
 * loser can remove a newer segment (test/zone/50.standalone.test.ts, "died before its header").
 */
function claimBlank(buffer: SharedArrayBuffer, creatorPid: number): boolean {
  const words = new Int32Array(buffer, 0, H_CREATOR_PID + 1);
  return (
    Atomics.compareExchange(words, H_CREATOR_PID, creatorPid | 0, RECLAIMING | 0) ===
    (creatorPid | 0)
  );
}

function creatorCheck(
  spec: ZoneSpec,
  role: StartRole,
  buffer: SharedArrayBuffer,
  header: HeaderInfo,
): Step {
  const peers = new PeerTable(buffer, header.geometry);
  const got = peers.acquireCreatorToken();
  if (got === TokenAcquire.Busy) {
    return { kind: 'wait', why: `it is still being initialised by pid ${header.creatorPid}` };
  }
  // We hold slot 0's token: the creator (who took it before publishing) is gone.
  const view = new HeaderView(buffer);
  try {
    if (view.state !== ZoneState.Creating) return { kind: 'retry', why: 'its state changed' };
    if (role === 'attach') {
      throw new ZoneError(
        'ERR_ZONE_CREATOR_DIED',
        `Zone "${spec.name}" (${spec.segment}): its creator, pid ${header.creatorPid}, died before the ` +
          `zone was ready`,
      );
    }
    // Take over: mark it so that anyone else holding the old mapping retries by name, then
    // remove the name and create afresh.
    view.state = ZoneState.Corrupt;
    spec.source.remove(spec.segment);
    return {
      kind: 'retry',
      why: `its creator, pid ${header.creatorPid}, died before ready; re-creating`,
    };
  } finally {
    peers.releaseCreatorToken();
  }
}

function mismatchError(spec: ZoneSpec, header: HeaderInfo, others: number): ZoneError {
  const what: string[] = [];
  if (header.size !== spec.size) what.push(`size ${header.size} (declared ${spec.size})`);
  if (header.tag !== spec.tag)
    what.push(`tag ${JSON.stringify(header.tag)} (declared ${JSON.stringify(spec.tag)})`);
  return new ZoneError(
    'ERR_ZONE_MISMATCH',
    `The existing zone "${spec.name}" (${spec.segment}) has ${what.join(' and ')}; ` +
      (spec.onMismatch === 'recreate'
        ? `onMismatch: 'recreate' replaces it only when no other process uses it, and ` +
          `${others} live thread(s) of other processes do: stop them or use the same declaration`
        : `use the same declaration, remove it, or pass onMismatch: 'recreate'`),
  );
}

function joinReady(
  spec: ZoneSpec,
  role: StartRole,
  buffer: SharedArrayBuffer,
  header: HeaderInfo,
): Step {
  const flush = spec.source.flush;
  let zone: OpenedZone;
  try {
    zone = joinZone(
      buffer,
      header,
      spec.segment,
      spec.source,
      PeerState.Joining,
      threadCacheOf(spec),
    );
  } catch (err) {
    // A durable zone whose pool header was damaged between runs, and that nobody uses: as
    // for a damaged zone header (tryExisting), start it afresh.
    if (!(err instanceof SlabCorruptionError) || flush === undefined || role === 'attach')
      throw err;
    if (new PeerTable(buffer, header.geometry).livePeers().length > 0) throw err;
    spec.log?.(
      `shmzone: zone "${spec.name}": ${err.message}; removing it and starting the zone empty`,
    );
    spec.source.remove(spec.segment);
    return { kind: 'retry', why: 'its damaged file was removed' };
  }
  const { peers, pool, header: view } = zone;
  peers.reapDeadPeers(pool);
  let decision: 'join' | 'close' | 'retry' = 'join';
  let failure: ShmzoneError | undefined;
  pool.lock();
  try {
    // Decided under the pool lock: a last user removing the zone marks CLOSING under the
    // same lock, so either it saw us joined (and kept the zone) or we see its mark. Our slot
    // is Joining until we decide, so two starters over a stale zone do not each count the
    // other as its user (test/zone/50, "two racing starts").
    if (view.state !== ZoneState.Ready) {
      decision = 'retry';
    } else {
      const others = peers.liveOthers();
      const mismatch = header.size !== spec.size || header.tag !== spec.tag;
      if (mismatch) {
        if (role !== 'attach' && spec.onMismatch === 'recreate' && others === 0) decision = 'close';
        else failure = mismatchError(spec, header, others);
      } else if (role === 'owner') {
        if (others > 0) {
          failure = new ZoneError(
            'ERR_ZONE_IN_USE',
            `Zone "${spec.name}" (${spec.segment}) already exists and is used by ${others} live ` +
              `thread(s) of other processes; choose another namespace or stop them, or share it ` +
              `with mode: 'standalone' (processes with no primary of ours: PM2, services)`,
          );
        } else if (!(header.persist && spec.persist)) {
          decision = 'close';
        }
      } else if (role === 'standalone' && others === 0 && !header.persist) {
        // Left behind by processes that all died without cleaning up: start afresh.
        decision = 'close';
      }
      if (decision === 'close') view.state = ZoneState.Closing;
      if (decision === 'join' && failure === undefined) peers.markJoined();
      if (decision === 'join' && failure === undefined && flush !== undefined) {
        // The first user of a durable zone adopts what the last one left; every joiner clears
        // the clean mark, so a crash from now on is never taken for a clean stop.
        if (others === 0) zone.adopted = { clean: view.clean };
        view.clean = false;
      }
    }
  } finally {
    unlockLogged(pool, spec);
  }
  if (decision === 'join' && failure === undefined) flush?.(buffer, HEADER_SIZE);
  if (failure !== undefined || decision !== 'join') {
    peers.release();
    if (failure !== undefined) throw failure;
    if (decision === 'close') spec.source.remove(spec.segment);
    if (decision === 'close') return { kind: 'retry', why: 'replacing a stale zone' };
    return { kind: 'wait', why: 'the segment under this name is being removed' };
  }
  return { kind: 'opened', zone };
}

/**
 * Releases the pool lock taken to join. In debug mode (SHMZONE_DEBUG=1) unlock verifies the
 * pool first; damage found there has already been reset (the pool is EMPTY and sound, the
 * lock released) and is thrown as SlabCorruptionError: log it and go on, as the pool's own
 * recovery listener would once started (test/fuzz/20.damaged-pool.test.ts in debug mode).
 */
function unlockLogged(pool: SlabPool, spec: ZoneSpec): void {
  try {
    pool.unlock();
  } catch (err) {
    if (!(err instanceof SlabCorruptionError)) throw err;
    spec.log?.(`shmzone: zone "${spec.name}": ${err.message}`);
  }
}

/**
 * Leaves a zone: the calling thread's slot is released and, when `remove` says so (the
 * owner leaving, or the last live user of a non-persistent zone), the name is unlinked after
 * marking the header CLOSING. Returns true when the segment was removed. Throws ZoneError
 * ERR_ZONE_HEADER, after doing all that, when the slot's token had been overwritten.
 *
 * "last-out" (attach and standalone modes) decides under the pool lock: the zone is removed
 * when no other live thread is registered, whoever created it (a dead creator, e.g. a cluster
 * primary killed with SIGKILL, no longer counts). This is also how the workers of a dead
 * primary remove its zones as they exit.
 */
export function leaveZone(zone: OpenedZone, mode: 'owner' | 'last-out' | 'keep'): boolean {
  const { segment, source } = zone;
  // A transferred zone (no source) is never removed from here: its mapping thread does that.
  if (source === undefined) mode = 'keep';
  let remove = false;
  if (mode !== 'owner' && zone.peers.selfId !== 0) {
    // The thread's cached chunks go back to the pool (slab/cache-layout.ts); a zone that is
    // removed anyway (owner mode) skips the lock.
    try {
      zone.pool.releaseThreadCache();
    } catch {
      // Damage found on the way was reset and reported by the pool; leaving goes on.
    }
  }
  if (mode === 'owner') {
    remove = true;
    // The owner is the authority for its zones; no lock: a dead worker's lock must not
    // delay (or, while exiting, block) the primary's exit.
    zone.header.state = ZoneState.Closing;
  } else if (mode === 'last-out' && zone.peers.selfId !== 0) {
    try {
      zone.pool.lock();
      try {
        if (zone.header.state === ZoneState.Ready && zone.peers.liveOthers() === 0) {
          zone.header.state = ZoneState.Closing;
          remove = true;
        }
        // Leave the count under the lock: a user leaving after us (e.g. the other worker of
        // a primary that died, both exiting at once) must see us gone, or both keep the zone.
        zone.peers.withdraw();
      } finally {
        zone.pool.unlock();
      }
    } catch {
      // The lock could not be taken (e.g. this thread died holding it inside an uncaught
      // exception): keep the zone; the next start or `shmzone rm --stale` removes it.
      remove = false;
    }
  }
  if (!remove && source?.flush !== undefined) markClean(zone, source.flush);
  // Owner mode removes without the lock: give the pages back only if nobody else is attached
  // (a worker still running on its mapping must keep its memory). Last-out removes only then.
  const alone = remove && (mode === 'last-out' || zone.peers.liveOthers() === 0);
  let tokenError: unknown;
  try {
    zone.peers.release();
  } catch (err) {
    // Only when the slot's token bytes were overwritten (a stray write through zone.buffer
    // into the header). The slot is cleared all the same, and the segment still removed
    // when it is ours to remove; the error follows.
    tokenError = err;
  }
  // Read before the pages go: the header names the zone's lock file (lock-file liveness).
  const lockFile = alone ? lockFileIdentity(zone.buffer) : undefined;
  if (remove) source?.remove(segment);
  // After the unlink nobody new can open it by name: the tmpfs pages go now, not at GC.
  if (alone) source?.release(zone.buffer);
  if (lockFile !== undefined) {
    removeLockFile(lockFilePath(lockFile.segment, lockFile.creatorPid, lockFile.createdAt));
  }
  if (tokenError !== undefined) {
    throw new ZoneError(
      'ERR_ZONE_HEADER',
      `${segment}: left, but this thread's peer slot could not be released ` +
        `(${(tokenError as Error).message}); the zone header was overwritten: write only ` +
        `inside memory allocated from zone.pool`,
      { cause: tokenError },
    );
  }
  return remove;
}

/**
 * A durable zone's last user, leaving: under the lock, writes the whole zone back, marks the
 * header clean and writes that back, so a later start adopts it without a warning. A lock that
 * cannot be taken leaves it unmarked: the next first user verifies it.
 */
function markClean(
  zone: OpenedZone,
  flush: (buffer: SharedArrayBuffer, bytes: number) => void,
): void {
  try {
    zone.pool.lock();
  } catch {
    return;
  }
  try {
    if (zone.peers.liveOthers() !== 0) return;
    flush(zone.buffer, 0);
    zone.header.clean = true;
    flush(zone.buffer, HEADER_SIZE);
  } finally {
    zone.pool.unlock();
  }
}
