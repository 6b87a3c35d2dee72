/** The zone layer's public surface (re-exported by src/index.ts). */
export { zones, ZoneRegistry, type ProcessRecovery } from './registry.js';
export type { ZoneMode, ZoneRegistryOptions } from './registry-options.js';
export { Zone, type ZoneInit, type ZoneDeclaration } from './zone.js';
export type { ZoneHandle } from './threads.js';
export type { PeerInfo } from './peers.js';
export { parseSize, PAGE_SIZE, MIN_ZONE_SIZE, MAX_ZONE_SIZE } from './size.js';
export {
  validateZoneName,
  validateNamespace,
  segmentName,
  parseSegmentName,
  SEGMENT_PREFIX,
} from './names.js';
export { NAMESPACE_ENV } from './cluster.js';
