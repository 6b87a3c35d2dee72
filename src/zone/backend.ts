/**
 * Choosing where a registry's zones live (`backend`, `directory`) and what a durable backend
 * adds at start-up: the first user of a zone that outlived its processes checks it before use.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SegmentError, ShmzoneArgumentError, describeValue } from '../errors.js';
import { fileSource } from './file-source.js';
import { sysvShm } from './sysv-source.js';
import { memfdSource } from './memfd-source.js';
import { posixShm, type OpenedZone, type SegmentSource } from './open.js';
import type { Zone } from './zone.js';

/** Size of the huge pages `hugePages: true` uses; zone sizes are rounded up to it. */
export const HUGE_PAGE_SIZE = 2 * 1024 * 1024;

/** The hugetlbfs mounts of 2 MiB pages in /proc/mounts, in its order. */
export function hugetlbfsMounts(): string[] {
  let text: string;
  try {
    text = fs.readFileSync('/proc/mounts', 'utf8');
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const [, dir, type, opts = ''] = line.split(' ');
    const size = /pagesize=(\w+)/.exec(opts)?.[1];
    if (type === 'hugetlbfs' && (size === undefined || size === '2M')) out.push(dir);
  }
  return out;
}

/**
 * `hugePages: true`: zones are files of a hugetlbfs mount (`directory`, else the first one in
 * /proc/mounts), removed like POSIX names. hugetlbfs reserves the pages at posix_fallocate, so
 * a shortage fails the start (ENOSPC naming vm.nr_hugepages), never a SIGBUS later.
 */
function hugePageSource(directory: unknown): SegmentSource {
  const dir = directory ?? hugetlbfsMounts()[0];
  if (typeof dir !== 'string' || !path.isAbsolute(dir)) {
    throw new ShmzoneArgumentError(
      'ERR_ZONE_OPTIONS',
      dir === undefined
        ? `hugePages: true needs a hugetlbfs mount (mount -t hugetlbfs none /dev/hugepages), or its path in the directory option`
        : `The directory option must be an absolute path, got ${describeValue(dir)}`,
    );
  }
  const files = fileSource(dir, false);
  return {
    ...files,
    create: (segment, size, mode) => {
      try {
        return files.create(segment, size, mode);
      } catch (err) {
        if (!(err instanceof SegmentError && err.code === 'ENOSPC')) throw err;
        throw new SegmentError(
          'ENOSPC',
          `${segment}: not enough free 2 MiB huge pages for ${size} bytes in ${dir}: reserve ` +
            `them with sysctl vm.nr_hugepages=<pages> (see HugePages_Free in /proc/meminfo)`,
          { errno: err.errno, syscall: err.syscall, path: err.path, cause: err },
        );
      }
    },
  };
}

/**
 * The source for the `backend`, `directory` and `hugePages` options. Throws
 * ShmzoneArgumentError `ERR_ZONE_OPTIONS`.
 */
export function checkBackend(
  backend: unknown,
  directory: unknown,
  hugePages: unknown = false,
): SegmentSource {
  if (typeof hugePages !== 'boolean') {
    throw new ShmzoneArgumentError(
      'ERR_ZONE_OPTIONS',
      `The hugePages option must be a boolean, got ${describeValue(hugePages)}`,
    );
  }
  if (hugePages) {
    if (backend !== undefined && backend !== 'posix') {
      throw new ShmzoneArgumentError(
        'ERR_ZONE_OPTIONS',
        `hugePages: true goes with the default backend, not ${describeValue(backend)}`,
      );
    }
    return hugePageSource(directory);
  }
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
  if (backend === 'memfd' && directory === undefined) return memfdSource;
  if (backend !== 'file') {
    throw new ShmzoneArgumentError(
      'ERR_ZONE_OPTIONS',
      backend === 'sysv' || backend === 'memfd'
        ? `The directory option is only for backend: 'file' (backend is '${backend}')`
        : `The backend option must be 'posix', 'file', 'sysv' or 'memfd', got ${describeValue(backend)}`,
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
