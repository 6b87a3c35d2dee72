/**
 * Choosing where a registry's zones live (`backend`, `directory`) and what a durable backend
 * adds at start-up: the first user of a zone that outlived its processes checks it before use.
 */
import path from 'node:path';
import { ShmzoneArgumentError, describeValue } from '../errors.js';
import { fileSource } from './file-source.js';
import { sysvShm } from './sysv-source.js';
import { posixShm, type OpenedZone, type SegmentSource } from './open.js';
import type { Zone } from './zone.js';

/** The source for the `backend` and `directory` options. Throws ShmzoneArgumentError `ERR_ZONE_OPTIONS`. */
export function checkBackend(backend: unknown, directory: unknown): SegmentSource {
  if (backend === undefined || backend === 'posix') {
    if (directory !== undefined) {
      throw new ShmzoneArgumentError(
        'ERR_ZONE_OPTIONS',
        `The directory option is only for backend: 'file' (backend is ${describeValue(backend ?? 'posix')})`,
      );
    }
    return posixShm;
  }
  if (backend === 'sysv' && directory === undefined) return sysvShm;
  if (backend !== 'file') {
    throw new ShmzoneArgumentError(
      'ERR_ZONE_OPTIONS',
      backend === 'sysv'
        ? `The directory option is only for backend: 'file' (backend is 'sysv')`
        : `The backend option must be 'posix', 'file' or 'sysv', got ${describeValue(backend)}`,
    );
  }
  if (typeof directory !== 'string' || !path.isAbsolute(directory) || directory.includes('\0')) {
    throw new ShmzoneArgumentError(
      'ERR_ZONE_OPTIONS',
      `backend: 'file' needs the directory option, an absolute path, got ${describeValue(directory)}`,
    );
  }
  return fileSource(directory);
}

/**
 * The first user of a durable zone found in place (opened.adopted): under the pool lock, checks
 * the slab pool and each declaration's `verify` (the dict's structures); anything broken
 * resets the pool EMPTY under a new generation, which the registry's recovery listener logs.
 * So an adopted zone is either verified or empty (test/zone/96.file-backend.test.ts).
 */
export function verifyAdopted(zone: Zone, opened: OpenedZone, log: (line: string) => void): void {
  if (opened.adopted?.clean === false) {
    log(
      `shmzone: zone "${zone.name}": its last user did not stop cleanly (crash or power loss); ` +
        `verifying it before use`,
    );
  }
  const pool = opened.pool;
  pool.lock();
  try {
    try {
      pool.verify();
      for (const verify of zone._verifiers) verify(zone);
    } catch (err) {
      pool.resetDamaged(`verify at adoption: ${(err as Error).message}`);
    }
  } finally {
    pool.unlock();
  }
}
