/**
 * worker_threads hand-over. A zone travels to a worker as a plain, structured-cloneable handle
 * that carries its `SharedArrayBuffer` (the same memory, not a copy). The one call in the
 * worker is `Zone.fromTransfer(handle)`: it re-validates the header, opens the slab pool over
 * the same memory and claims a peer slot for that thread (its own owner id and liveness
 * token, so a `worker.terminate()` in the middle of an operation is detected and repaired).
 *
 * ```ts
 * // main thread
 * new Worker(url, { workerData: { zone: zone.transfer() } });
 * // worker
 * const zone = Zone.fromTransfer(workerData.zone);
 * ```
 */
import { ShmzoneArgumentError, describeValue } from '../errors.js';
import { validateNamespace, validateZoneName, segmentName } from './names.js';
import { joinZone, readZoneHeader, type OpenedZone } from './open.js';

/** Marks a handle as ours (and its format version). */
export const HANDLE_KIND = 'shmzone.zone/1';

/** What `zone.transfer()` returns: plain data plus the zone's SharedArrayBuffer. */
export interface ZoneHandle {
  readonly kind: typeof HANDLE_KIND;
  readonly buffer: SharedArrayBuffer;
  readonly name: string;
  readonly namespace: string;
  readonly size: number;
  readonly tag: string;
}

/** Checks that `value` looks like a handle. Throws ShmzoneArgumentError `ERR_ZONE_HANDLE`. */
export function checkHandle(value: unknown): ZoneHandle {
  const h = value as Partial<ZoneHandle> | null;
  if (
    typeof h !== 'object' ||
    h === null ||
    h.kind !== HANDLE_KIND ||
    !(h.buffer instanceof SharedArrayBuffer) ||
    typeof h.size !== 'number' ||
    typeof h.tag !== 'string'
  ) {
    throw new ShmzoneArgumentError(
      'ERR_ZONE_HANDLE',
      `Zone.fromTransfer() expects the value returned by zone.transfer(), got ${describeValue(value)}`,
    );
  }
  validateZoneName(h.name);
  validateNamespace(h.namespace);
  return h as ZoneHandle;
}

/** Opens a transferred zone in the calling thread and claims its peer slot. */
export function openTransferred(handle: ZoneHandle): OpenedZone {
  const read = readZoneHeader(handle.buffer, handle.namespace, handle.name);
  if (read.kind !== 'valid') {
    throw new ShmzoneArgumentError(
      'ERR_ZONE_HANDLE',
      `Zone "${handle.name}" was transferred before it was started`,
    );
  }
  return joinZone(
    handle.buffer,
    read.header,
    segmentName(handle.namespace, handle.name),
    undefined,
  );
}
