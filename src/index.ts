/**
 * shmzone: nginx-style shared memory zones, slab allocator and shared dict for Node.js
 * processes and worker threads on one host. Re-exports only.
 */
export * from './errors.js';
export * from './zone/index.js';
export { SlabPool, type SlabPoolOptions } from './slab/pool.js';
export type {
  OwnerIdentity,
  PoolStats,
  SlotStats,
  LockStats,
  RecoveryReport,
  SizeClassMode,
} from './slab/api.js';
export * from './dict/index.js';
export * from './metrics/index.js';
