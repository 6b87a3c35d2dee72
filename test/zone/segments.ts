/** Segment files of the zone tests: whether one exists, removing one, listing /dev/shm. */
import fs from 'node:fs';

/** Whether `/dev/shm/<segment without slash>` exists. */
export function segmentExists(segment: string): boolean {
  return fs.existsSync(`/dev/shm/${segment.replace(/^\//, '')}`);
}

/** Removes a segment file if present (after hooks). */
export function removeSegment(segment: string): void {
  fs.rmSync(`/dev/shm/${segment.replace(/^\//, '')}`, { force: true });
}

/** Names in /dev/shm, for "unchanged" assertions. */
export function shmListing(): string[] {
  return fs.readdirSync('/dev/shm').sort();
}
