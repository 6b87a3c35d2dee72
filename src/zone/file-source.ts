/**
 * File-backed zones (`backend: 'file'`): each zone is the file `<directory>/shmzone.<ns>.<zone>`,
 * created O_EXCL 0600 and fully preallocated, mapped MAP_SHARED by every process that uses it.
 * The file outlives every process and a reboot: a clean stop of the last user writes it back
 * (msync) and marks the header clean (H_CLEAN); the first user of a later start checks the
 * structures before adopting them (registry.ts, `verifyDurable`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { native } from '../native.js';
import type { SegmentSource } from './open.js';
import { toSegmentError } from './segment.js';

function call<T>(where: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw toSegmentError(err, where);
  }
}

/** The file of `segment` (`/shmzone.<ns>.<zone>`) in `directory`. */
export function segmentFile(directory: string, segment: string): string {
  return path.join(directory, segment.slice(1));
}

/**
 * A source of zones kept as files in `directory` (an absolute path the caller checked).
 * `durable` false: the files are removed like POSIX names (a hugetlbfs directory).
 */
export function fileSource(directory: string, durable = true): SegmentSource {
  const file = (segment: string): string => segmentFile(directory, segment);
  const source: SegmentSource = {
    kind: durable ? 'file' : 'hugetlbfs',
    create: (segment, size, mode) =>
      call(file(segment), () => native.createFileSegment(file(segment), size, mode)).buffer,
    open: (segment, maxMode, minSize) =>
      call(file(segment), () => native.openFileSegment(file(segment), maxMode, minSize)).buffer,
    size: (segment) => call(file(segment), () => fs.lstatSync(file(segment)).size),
    remove: (segment) => {
      try {
        fs.unlinkSync(file(segment));
        return true;
      } catch (err) {
        const e = toSegmentError(err, file(segment));
        if (e.code === 'ENOENT') return false;
        throw e;
      }
    },
    // A file's pages are its data: never punched out.
    release: () => false,
  };
  if (durable) source.flush = (buffer, bytes) => native.syncMapping(buffer, bytes);
  return source;
}
