/**
 * SysV shared memory zones (`backend: 'sysv'`): each zone is the segment whose key is
 * derived from its segment name (`sysvKey`), created IPC_CREAT|IPC_EXCL with the registry's
 * mode and checked with IPC_STAT (owner, creator, mode, size) before attaching: a segment
 * planted at the key is refused like a planted POSIX name. `ipcs -m` lists them. Removal is
 * IPC_RMID, by whoever would unlink a POSIX name (the owner, or the last one out): the key is
 * free at once and the kernel frees the memory when the last process detaches.
 */
import fs from 'node:fs';
import { SegmentError } from '../errors.js';
import { native } from '../native.js';
import type { SegmentSource } from './open.js';
import { toSegmentError } from './segment.js';

/**
 * The SysV key of a segment name: FNV-1a of its bytes, in 1..2^31-1 (0 is IPC_PRIVATE).
 * Another user's segment that happens to have the key is refused by the owner check; one of
 * ours that is not this zone, by the header's name check.
 */
export function sysvKey(segment: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < segment.length; i++) {
    h ^= segment.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h & 0x7fffffff || 1;
}

function call<T>(segment: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw toSegmentError(err, segment);
  }
}

/** Owner uid of the segment of `key` from /proc/sysvipc/shm (readable by anyone), or undefined. */
function ownerFromProc(key: number): number | undefined {
  let text: string;
  try {
    text = fs.readFileSync('/proc/sysvipc/shm', 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (Number(f[0]) === key) return Number(f[7]);
  }
  return undefined;
}

function open(segment: string, maxMode: number, minSize: number): SharedArrayBuffer {
  const key = sysvKey(segment);
  try {
    return native.openSysvSegment(key, maxMode, minSize).buffer;
  } catch (err) {
    const e = toSegmentError(err, segment);
    // Another user's segment with no read permission for us fails IPC_STAT with EACCES:
    // name its owner, as the POSIX path does for a planted name.
    const uid = e.code === 'EACCES' ? ownerFromProc(key) : undefined;
    if (uid === undefined || uid === process.geteuid?.()) throw e;
    throw new SegmentError(
      'ERR_SEGMENT_OWNER',
      `SysV segment of ${segment} (key 0x${key.toString(16)}) belongs to uid ${uid}, not to ` +
        `this process's uid ${process.geteuid?.()}; refusing to attach`,
      { syscall: 'shmctl', path: segment, cause: err },
    );
  }
}

/** SysV shared memory, keyed by zone. */
export const sysvShm: SegmentSource = {
  kind: 'sysv',
  create: (segment, size, mode) =>
    call(segment, () => native.createSysvSegment(sysvKey(segment), size, mode)).buffer,
  open,
  size: (segment) => call(segment, () => native.statSysvSegment(sysvKey(segment)).size),
  remove: (segment) => {
    try {
      native.removeSysvSegment(sysvKey(segment));
      return true;
    } catch (err) {
      const e = toSegmentError(err, segment);
      if (e.code === 'ENOENT' || e.code === 'EIDRM') return false;
      throw e;
    }
  },
  release: (buffer) => native.releasePages(buffer),
};
