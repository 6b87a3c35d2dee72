/**
 * Loop budgets, small statistics and the survivor's check of the crash and multi-process
 * tests (their fixture processes are started with test/helpers/processes.ts).
 */
import type { SlabPool } from '../../src/slab/pool.js';

/** Loop budgets: ~60 s / 150 kills in CI; `SHMZONE_TORTURE=long` for a much longer run. */
export const LONG = process.env.SHMZONE_TORTURE === 'long';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor(s.length / 2)];
}
export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor(s.length * p))];
}

/**
 * The survivor's step after a child ran: takes the lock (over from a dead child, or finds it
 * free), runs verify() under it and returns its message, undefined when it passed.
 */
export function takeOverAndVerify(pool: SlabPool): string | undefined {
  pool.lock();
  try {
    pool.verify();
    return undefined;
  } catch (err) {
    return (err as Error).message;
  } finally {
    pool.unlock();
  }
}
