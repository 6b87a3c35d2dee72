/**
 * Threads-only zones (`mode: 'threads'`): each zone is an ordinary SharedArrayBuffer of this
 * process, shared with worker threads through `zone.transfer()` / `Zone.fromTransfer`, as
 * every zone is. Nothing has a name, nothing outlives the process, and nothing here needs the
 * addon: zones of this source get Atomics-word peer tokens (liveness.ts, FLAG_THREADS_ONLY).
 * Where the addon cannot load (a refused build script, Windows, Bun, Deno) this is how one
 * process and its threads still share a slab and a dict. test/zone/99.threads-only.test.ts.
 */
import { SegmentError } from '../errors.js';
import type { SegmentSource } from './open.js';

function noName(segment: string): never {
  throw new SegmentError(
    'ENOENT',
    `${segment}: a threads-only zone has no name to open; hand it to a worker thread with zone.transfer()`,
  );
}

export const memorySource: SegmentSource = {
  kind: 'memory',
  threadsOnly: true,
  // Zero-filled by the engine; nothing to reserve (the process's own memory).
  create: (_segment, size) => new SharedArrayBuffer(size),
  open: (segment) => noName(segment),
  size: (segment) => noName(segment),
  remove: () => false,
  release: () => false,
};
