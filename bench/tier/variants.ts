/**
 * The three cache-aside set-ups the tier benchmark compares, as a worker of a host runs them:
 * - `redis`: Redis only (GET; on a miss the origin, then SET with a TTL).
 * - `process-l1`: cacheable with its per-process in-memory L1 (CacheableMemory, LRU) and
 *   @keyv/redis, `getOrSet` (its stampede protection is per process). No cross-host sync:
 *   a write elsewhere is seen when this process's L1 entry expires (L1_TTL_MS).
 * - `shmzone`: shmzone/tier, one L1 per host, `getOrSet`, invalidation over pub/sub.
 */
import KeyvRedis, { createClient } from '@keyv/redis';
import { Cacheable, KeyvCacheableMemory } from 'cacheable';
import { Keyv } from 'keyv';
import type { SharedTier } from '../../src/tier/index.js';

export type VariantName = 'redis' | 'process-l1' | 'shmzone';
export const VARIANTS: VariantName[] = ['redis', 'process-l1', 'shmzone'];

export const TTL_MS = 60_000;
export const L1_TTL_MS = 5_000;
export const PROCESS_L1_ENTRIES = 100_000;

export interface CacheAside {
  get(key: string, origin: () => Promise<string>): Promise<string>;
  write(key: string, value: string): Promise<void>;
  /** Requests this process answered from its L1 (0 without one). */
  l1Hits(): number;
}

export async function makeVariant(
  name: VariantName,
  url: string,
  tier: SharedTier | undefined,
): Promise<CacheAside> {
  if (name === 'shmzone') {
    await tier!.connect({ url });
    return {
      get: (key, origin) => tier!.getOrSet(key, origin, { ttl: TTL_MS }),
      write: (key, value) => tier!.set(key, value, TTL_MS),
      l1Hits: () => tier!.metrics().l1Hits,
    };
  }
  const client = createClient({ url });
  client.on('error', () => {});
  await client.connect();
  if (name === 'redis') {
    return {
      async get(key, origin) {
        const hit = await client.get(key);
        if (hit !== null) return hit;
        const value = await origin();
        await client.set(key, value, { PX: TTL_MS });
        return value;
      },
      write: async (key, value) => void (await client.set(key, value, { PX: TTL_MS })),
      l1Hits: () => 0,
    };
  }
  const cache = new Cacheable({
    primary: new Keyv({
      store: new KeyvCacheableMemory({ lruSize: PROCESS_L1_ENTRIES }),
      ttl: L1_TTL_MS, // also bounds what a read backfills from Redis
    }),
    secondary: new Keyv({ store: new KeyvRedis(client) }),
  });
  const ttl = { primary: L1_TTL_MS, secondary: TTL_MS };
  let l1Hits = 0;
  cache.on('cache:hit', (e: { store: string }) => void (e.store === 'primary' && l1Hits++));
  return {
    get: async (key, origin) => (await cache.getOrSet(key, origin, { ttl }))!,
    write: async (key, value) => void (await cache.set(key, value, { ttl })),
    l1Hits: () => l1Hits,
  };
}
