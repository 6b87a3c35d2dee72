/** Shared helpers of the slab tests: real pools over plain SharedArrayBuffers. */
import type { OwnerIdentity, SizeClassMode } from '../../src/slab/api.js';
import { SlabPool } from '../../src/slab/pool.js';

export const KiB = 1024;
export const MiB = 1024 * 1024;

/** An in-process identity: nobody is ever dead unless the test says so. */
export function owner(selfId = 1, dead: (id: number) => boolean = () => false): OwnerIdentity {
  return { selfId, isOwnerDead: dead };
}

/**
 * A pool over a fresh buffer. Thread caches off unless asked for: these tests pin what the
 * allocator itself does (which chunk, which page, which counter); test/slab/thread-cache.test.ts
 * and the crash and multi-process tests run with them.
 */
export function makePool(
  bytes = 1 * MiB,
  mode: SizeClassMode = 'fine',
  byteOffset = 0,
  threadCache = false,
): SlabPool {
  const sab = new SharedArrayBuffer(byteOffset + bytes);
  return SlabPool.create(sab, byteOffset, bytes, owner(), { sizeClasses: mode, threadCache });
}

/**
 * Two pools over one buffer, for takeover tests: `survivor` (owner 1, which sees owner 2 as
 * dead) creates the pool at offset 0, `victim` (owner 2) opens it. Thread caches only when
 * asked for (test/slab/thread-cache.test.ts).
 */
export function survivorAndVictim(
  poolBytes: number,
  bufferBytes = poolBytes,
  threadCache = false,
): { sab: SharedArrayBuffer; survivor: SlabPool; victim: SlabPool } {
  const sab = new SharedArrayBuffer(bufferBytes);
  const survivor = SlabPool.create(
    sab,
    0,
    poolBytes,
    owner(1, (id) => id === 2),
    {
      threadCache,
    },
  );
  const victim = SlabPool.open(sab, 0, owner(2), { threadCache });
  return { sab, survivor, victim };
}

/** A byte copy of the whole zone buffer. */
export function snapshot(pool: SlabPool): Uint8Array {
  return pool.u8.slice();
}

/** Index of the first differing byte, or -1. */
export function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

/** Calls fn and returns what it threw (fails if it did not throw). */
export function thrown(fn: () => unknown): { code?: string; name?: string; message: string } {
  try {
    fn();
  } catch (err) {
    return err as { code?: string; message: string };
  }
  throw new Error('expected an exception');
}

/** xorshift32 as in docs/specs/bench-workloads.md. */
export function xorshift32(seed = 0x9e3779b9): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}
