/**
 * The median the dict and tier benches print: the middle of the sorted values, the upper of
 * the two middles for an even count (no averaging, so it is always a measured value).
 * bench/slab/run.ts averages the two middles instead, as its reports always have.
 */
export function median(xs: readonly number[]): number {
  return [...xs].sort((a, b) => a - b)[xs.length >> 1];
}
