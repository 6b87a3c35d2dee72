/**
 * The dict's one door into the zone layer: `SharedDict.fromTransfer` opens the zone of a
 * transferred handle here, through the zone layer's openZoneHandle (never the Zone class).
 * Everything else the dict needs of a zone is stated in its
 * DictHost seam (pool.ts), which a Zone satisfies structurally.
 */
import { openZoneHandle } from '../zone/zone.js';
import type { DictHost } from './pool.js';

/** A zone opened from a handle: a DictHost that can be sent on and closed. */
export interface TransferredZone extends DictHost {
  transfer(): unknown;
  close(): void;
}

/** Open the zone of `handle` in this thread (ZoneError ERR_ZONE_* on a bad one). */
export function openTransferredZone(handle: unknown): TransferredZone {
  return openZoneHandle(handle);
}
