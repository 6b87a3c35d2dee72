/**
 * memfd zones (`backend: 'memfd'`, Linux, cluster mode): the primary creates each zone as a
 * sealed memfd (native/memfd.cc) and keeps its descriptor open; nothing has a name, so nothing
 * can be squatted and nothing is left once every process holding it is gone, by any signal.
 *
 * Workers (forked or respawned later) find the memory through the primary's descriptor:
 * the primary exports `SHMZONE_MEMFD` = {pid, zones: {segment: fd}} in its environment (which
 * `cluster.fork()` copies), and a worker opens `/proc/<pid>/fd/<fd>`, the kernel's link to
 * the primary's open file; the header check then makes sure it is the zone it wants. That
 * needs /proc and a primary of the same uid that is dumpable (the default). The CLI finds
 * these zones the same way, in every /proc/<pid>/fd (discover.ts). test/zone/94.memfd.test.ts.
 */
import fs from 'node:fs';
import { SegmentError } from '../errors.js';
import { native } from '../native.js';
import type { SegmentSource } from './open.js';
import { toSegmentError } from './segment.js';

/** The environment variable a primary exports to its workers (see above). */
export const MEMFD_ENV = 'SHMZONE_MEMFD';

/** This process's memfd descriptors, per segment name. */
const held = new Map<string, number>();

function exportDescriptors(): void {
  process.env[MEMFD_ENV] = JSON.stringify({ pid: process.pid, zones: Object.fromEntries(held) });
}

/** Where `segment`'s memfd can be opened: this process's own descriptor, or the primary's. */
function linkOf(segment: string): string {
  const own = held.get(segment);
  if (own !== undefined) return `/proc/self/fd/${own}`;
  let exported: { pid?: unknown; zones?: Record<string, unknown> } | undefined;
  try {
    exported = JSON.parse(process.env[MEMFD_ENV] ?? 'null') as typeof exported;
  } catch {
    exported = undefined;
  }
  const fd = exported?.zones?.[segment];
  if (typeof exported?.pid !== 'number' || typeof fd !== 'number') {
    throw new SegmentError(
      'ENOENT',
      `${segment}: no memfd for it in ${MEMFD_ENV}: memfd zones are created by a cluster ` +
        `primary (owner mode) and found by the workers it forks`,
      { path: segment },
    );
  }
  return `/proc/${exported.pid}/fd/${fd}`;
}

function call<T>(segment: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw toSegmentError(err, segment);
  }
}

export const memfdSource: SegmentSource = {
  kind: 'memfd',
  create: (segment, size, mode) => {
    const m = call(segment, () => native.createMemfd(segment.slice(1), size, mode));
    held.set(segment, m.fd);
    exportDescriptors();
    return m.buffer;
  },
  open: (segment, maxMode, minSize) =>
    call(segment, () => native.openMemfd(linkOf(segment), maxMode, minSize)).buffer,
  size: (segment) => call(segment, () => fs.statSync(linkOf(segment)).size),
  // No name to unlink: the creator closing its descriptor is what removing means (workers
  // forked later can no longer open it; mapped users keep the memory).
  remove: (segment) => {
    const fd = held.get(segment);
    if (fd === undefined) return false;
    held.delete(segment);
    fs.closeSync(fd);
    exportDescriptors();
    return true;
  },
  release: (buffer) => native.releasePages(buffer),
};

/** A memfd that another process holds, found at `/proc/<pid>/fd/<fd>` (the CLI's view). */
export function memfdAt(link: string): SegmentSource {
  return {
    kind: 'memfd',
    create: (segment) => {
      throw new SegmentError('EEXIST', `${segment}: found in ${link}, not created here`);
    },
    open: (segment, maxMode, minSize) =>
      call(segment, () => native.openMemfd(link, maxMode, minSize)).buffer,
    size: (segment) => call(segment, () => fs.statSync(link).size),
    remove: () => false, // another process's descriptor: it goes when that process lets go
    release: () => false,
  };
}
