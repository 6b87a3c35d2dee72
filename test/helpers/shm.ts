/**
 * Test helpers for segments: every test namespace starts with this run's prefix, so the
 * global hook can prove that the suite left nothing behind in /dev/shm.
 */
import fs from 'node:fs';

/** Prefix of every namespace this test run creates; inherited by child processes. */
export const RUN_PREFIX: string = (process.env.SHMZONE_TEST_RUN ??= `t${process.pid.toString(36)}`);

let counter = 0;

/** A namespace no other test (or concurrent run) uses. Characters: [a-z0-9]. */
export function uniqueNamespace(label = 'x'): string {
  counter += 1;
  return `${RUN_PREFIX}${label.replace(/[^a-z0-9]/gi, '').toLowerCase()}${counter}`;
}

/** Names (without '/') of segments in /dev/shm that start with `shmzone.<prefix>`. */
export function segmentsWithPrefix(prefix: string): string[] {
  let entries: string[];
  try {
    entries = fs.readdirSync('/dev/shm');
  } catch {
    return [];
  }
  return entries.filter((e) => e.startsWith(`shmzone.${prefix}`)).sort();
}
