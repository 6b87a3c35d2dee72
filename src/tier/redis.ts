/**
 * The tier's Redis connection (node-redis, the client @keyv/redis is built on). Commands
 * fail at once while the connection is down (no offline queue), so a read during an outage
 * costs an error counted, not a wait; the client reconnects on its own, backing off to
 * RECONNECT_MAX_MS.
 */
import { createClient } from '@keyv/redis';

const RECONNECT_MAX_MS = 500;
const CONNECT_TIMEOUT_MS = 1000;

export type TierRedis = ReturnType<typeof createTierRedis>;

export function createTierRedis(url: string) {
  return createClient({
    url,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: CONNECT_TIMEOUT_MS,
      reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, RECONNECT_MAX_MS),
    },
  });
}
