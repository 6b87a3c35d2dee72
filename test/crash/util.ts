/**
 * Loop budgets and small statistics of the crash and multi-process tests (their fixture
 * processes are started with test/helpers/processes.ts).
 */

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
