/**
 * The zone layer's only door to the addon's segment calls. Every addon error is rethrown as
 * a {@link SegmentError} with the errno name (or the addon's `ERR_SEGMENT_*` code) as `code`,
 * plus `errno`, `syscall` and `path` (the segment name), like Node's `fs` errors.
 */
import { SegmentError, isErrorCode, type ShmzoneErrorCode } from '../errors.js';
import { native, type Mapping, type SegmentListing, type SegmentStat } from '../native.js';
import { shmObjectName } from './names.js';

interface AddonError {
  code?: unknown;
  errno?: unknown;
  syscall?: unknown;
  path?: unknown;
  message?: unknown;
}

/** The addon's code if it is an errno name or a documented code, else `ERR_SEGMENT`. */
function addonCode(code: unknown): ShmzoneErrorCode | `E${string}` {
  if (typeof code !== 'string') return 'ERR_SEGMENT';
  if (/^E[A-Z0-9]+$/.test(code)) return code as `E${string}`;
  return isErrorCode(code) ? code : 'ERR_SEGMENT';
}

/** Converts anything the addon threw into a SegmentError (kept as is if it already is one). */
export function toSegmentError(err: unknown, name: string): SegmentError {
  if (err instanceof SegmentError) return err;
  const e = (typeof err === 'object' && err !== null ? err : {}) as AddonError;
  const code = addonCode(e.code);
  const message = typeof e.message === 'string' ? e.message : String(err);
  return new SegmentError(code, message, {
    errno: typeof e.errno === 'number' ? e.errno : undefined,
    syscall: typeof e.syscall === 'string' ? e.syscall : undefined,
    path: typeof e.path === 'string' && e.path !== '' ? e.path : name,
    cause: err,
  });
}

function call<T>(name: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw toSegmentError(err, name);
  }
}

/**
 * Creates a segment with O_EXCL (zero-filled, fully allocated, mapped). Throws SegmentError
 * `EEXIST` when the name is taken, `ENOSPC` when /dev/shm is full, other errno names otherwise;
 * on failure nothing is left behind.
 */
export function createSegment(name: string, size: number, mode: number): Mapping {
  return call(name, () => native.createSegment(shmObjectName(name), size, mode));
}

/**
 * Opens and maps an existing segment after checking it on the descriptor. Throws SegmentError
 * `ENOENT`, `ERR_SEGMENT_OWNER` (another uid), `ERR_SEGMENT_MODE` (permission bits outside
 * `maxMode`), `ERR_SEGMENT_SIZE` (smaller than `minSize`).
 */
export function openSegment(name: string, maxMode: number, minSize: number): Mapping {
  return call(name, () => native.openSegment(shmObjectName(name), maxMode, minSize));
}

/** `fstat` by name; throws SegmentError (`ENOENT`, ...). */
export function statSegment(name: string): SegmentStat {
  return call(name, () => native.statSegment(shmObjectName(name)));
}

/** Removes a name. Returns false when it was already gone; throws SegmentError otherwise. */
export function unlinkSegment(name: string): boolean {
  try {
    native.unlinkSegment(shmObjectName(name));
    return true;
  } catch (err) {
    const e = toSegmentError(err, name);
    if (e.code === 'ENOENT') return false;
    throw e;
  }
}

/** The library's segments whose names (without `/`) start with `prefix`. */
export function listSegments(prefix: string): SegmentListing[] {
  return call(prefix, () => native.listSegments(prefix));
}

/**
 * Gives the zone's memory back to the system now rather than when `buffer` is collected: only
 * for the last user of a segment already unlinked (leaveZone). False when nothing was freed.
 */
export function releasePages(buffer: SharedArrayBuffer): boolean {
  return native.releasePages(buffer);
}
