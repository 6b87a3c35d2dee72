/**
 * What a SlabPool is created or opened with: its options, and the checks of the region
 * (buffer and byte offset) it is placed in, which throw ShmzoneArgumentError before anything
 * is written.
 */
import { ShmzoneArgumentError, describeValue } from '../errors.js';
import type { SizeClassMode } from './api.js';

export interface SlabPoolOptions {
  /** Size-class scheme; default `fine` (see sizeclass.ts for the measurement). */
  sizeClasses?: SizeClassMode;
  /**
   * Per-thread caches of free chunks and short runs for `alloc()` and `free()`
   * (cache-layout.ts): most calls then take no lock. Default false for a bare pool (its
   * owner must reclaim dead threads' caches, as the zone's reaper does); zones turn it on
   * unless declared with `pool: { threadCache: false }`. Ignored in debug mode
   * (SHMZONE_DEBUG=1) and in poisoned pools. A thread that leaves the pool calls
   * `releaseThreadCache()`; a dead thread's cache is given back by `reclaimCache(slot)`.
   */
  threadCache?: boolean;
}

export const FOUR_GIB = 2 ** 32;

export function checkRegion(
  buffer: unknown,
  byteOffset: unknown,
): asserts buffer is SharedArrayBuffer {
  if (!(buffer instanceof SharedArrayBuffer)) {
    throw new ShmzoneArgumentError(
      'ERR_SLAB_BUFFER',
      `slab pool: buffer must be a SharedArrayBuffer, got ${describeValue(buffer)}`,
    );
  }
  if (
    typeof byteOffset !== 'number' ||
    !Number.isInteger(byteOffset) ||
    byteOffset < 0 ||
    byteOffset % 8 !== 0
  ) {
    throw new ShmzoneArgumentError(
      'ERR_SLAB_OFFSET',
      `slab pool: byteOffset must be a non-negative multiple of 8, got ${describeValue(byteOffset)}`,
    );
  }
  if (byteOffset >= buffer.byteLength) {
    throw new ShmzoneArgumentError(
      'ERR_SLAB_OFFSET',
      `slab pool: byteOffset ${byteOffset} is not inside the ${buffer.byteLength}-byte buffer`,
    );
  }
}
