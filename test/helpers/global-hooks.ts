/**
 * Root hooks for the whole suite. After everything ran, /dev/shm must hold none of the
 * segments this run created: every test cleans up after itself, and this asserts it.
 */
import fs from 'node:fs';
import { RUN_PREFIX, segmentsWithPrefix } from './shm.js';

export const mochaHooks = {
  afterAll(): void {
    const left = segmentsWithPrefix(RUN_PREFIX);
    for (const name of left) fs.rmSync(`/dev/shm/${name}`, { force: true });
    if (left.length > 0) {
      throw new Error(
        `the test run left ${left.length} segment(s) in /dev/shm: ${left.join(', ')}`,
      );
    }
  },
};
