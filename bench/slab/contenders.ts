/**
 * The contenders: the slab pool (pow2 and fine classes; a lock per call, or the Locked variants
 * under one held lock with a commit() per call, which is what a dict operation pays; and fine
 * with thread caches, `-tcache`: a lock only to refill or flush a cache) and
 * @thi.ng/malloc over an ArrayBuffer (first fit, no lock) as the in-run peer.
 */
import { MemPool } from '@thi.ng/malloc';
import { SlabPool } from '../../src/slab/pool.js';
import type { SizeClassMode } from '../../src/slab/api.js';
import type { Allocator } from './workloads.js';

export const CONTENDERS = [
  'slab-pow2',
  'slab-pow2-locked',
  'slab-fine',
  'slab-fine-locked',
  'slab-fine-tcache',
  'thi.ng-malloc',
] as const;
export type ContenderName = (typeof CONTENDERS)[number];

const IDENTITY = { selfId: 1, isOwnerDead: (): boolean => false };

class PerCall implements Allocator {
  constructor(private readonly pool: SlabPool) {}
  alloc(size: number): number {
    return this.pool.alloc(size);
  }
  free(offset: number): void {
    this.pool.free(offset);
  }
}

/** Caller holds the lock for the whole run; commit() after each call keeps the journal short. */
class UnderOneLock implements Allocator {
  constructor(private readonly pool: SlabPool) {
    pool.lock();
  }
  alloc(size: number): number {
    const off = this.pool.allocLocked(size);
    this.pool.commit();
    return off;
  }
  free(offset: number): void {
    this.pool.freeLocked(offset);
    this.pool.commit();
  }
}

class Peer implements Allocator {
  constructor(private readonly pool: MemPool) {}
  alloc(size: number): number {
    return this.pool.malloc(size);
  }
  free(offset: number): void {
    this.pool.free(offset);
  }
}

/** A fresh allocator over a fresh zone of `bytes`. */
export function makeContender(name: ContenderName, bytes: number): Allocator {
  if (name === 'thi.ng-malloc') return new Peer(new MemPool({ buf: new ArrayBuffer(bytes) }));
  const mode: SizeClassMode = name.startsWith('slab-pow2') ? 'pow2' : 'fine';
  const pool = SlabPool.create(new SharedArrayBuffer(bytes), 0, bytes, IDENTITY, {
    sizeClasses: mode,
    threadCache: name.endsWith('-tcache'),
  });
  return name.endsWith('-locked') ? new UnderOneLock(pool) : new PerCall(pool);
}
