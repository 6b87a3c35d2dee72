/** 'shmzone/tier': the host-wide shared L1 over a Redis L2 (needs cacheable, keyv, @keyv/redis). */
export {
  SharedTier,
  sharedTier,
  type SharedTierDeclaration,
  type TierConnectOptions,
  type TierMetrics,
} from './tier.js';
export { TIER_TAG, TIER_ZONE_SIZE } from './lease.js';
