/**
 * Metrics of live zones: `zoneMetrics(zone)` for a zone of this process, `dictMetrics(dict)`
 * for a SharedDict declared with `sharedDict(registry, ...)`.
 */
import { ShmzoneArgumentError, describeValue } from '../errors.js';
import type { SharedDict } from '../dict/dict.js';
import { zones, type ZoneRegistry } from '../zone/registry.js';
import { Zone } from '../zone/zone.js';
import { formatMetrics } from './exposition.js';
import type { ZoneSample } from './families.js';

/** Options of {@link zoneMetrics} and {@link zoneSample}. */
export interface ZoneMetricsOptions {
  /** The zone's SharedDict: adds the `shmzone_dict_*` families (its stats take the lock). */
  dict?: SharedDict;
  /** Count live peers (one addon call per occupied peer slot). Default true. */
  peers?: boolean;
}

/**
 * Collects one started zone's numbers now. Pool counters are read without the lock
 * (approximate under load, like nginx's); dict stats take the lock briefly. Throws
 * ShmzoneArgumentError `ERR_METRICS_ZONE` when `zone` is not a Zone, and the zone's
 * `ERR_ZONE_NOT_STARTED` / `ERR_ZONE_CLOSED`.
 */
export function zoneSample(zone: Zone, options: ZoneMetricsOptions = {}): ZoneSample {
  if (!(zone instanceof Zone)) {
    throw new ShmzoneArgumentError(
      'ERR_METRICS_ZONE',
      `zoneMetrics() needs a Zone (registry.get(name)), got ${describeValue(zone)}`,
    );
  }
  const sample: ZoneSample = {
    namespace: zone.namespace,
    zone: zone.name,
    size: zone.size,
    pool: zone.pool.stats(),
  };
  if (options.dict !== undefined) sample.dict = options.dict.stats();
  if (options.peers !== false) sample.livePeers = zone.livePeers().length;
  return sample;
}

/**
 * One zone's metrics in Prometheus text exposition format (serve it with
 * `METRICS_CONTENT_TYPE`): slab pages, per-slot chunks/requests/failures, lock counters and,
 * with `dict`, the dict's hits/misses/evictions/expirations/entries/bytes. Labels: `namespace`,
 * `zone`, and `slot` (chunk size) on per-slot families.
 */
export function zoneMetrics(zone: Zone, options: ZoneMetricsOptions = {}): string {
  return formatMetrics([zoneSample(zone, options)]);
}

/**
 * The metrics of a SharedDict and its zone, found by name in `registry` (default `zones`).
 * Throws ZoneError `ERR_ZONE_UNKNOWN` when the registry has no zone of that name.
 */
export function dictMetrics(dict: SharedDict, registry: ZoneRegistry = zones): string {
  return zoneMetrics(registry.get(dict.name), { dict });
}

/**
 * Every started zone of `registry` in one exposition; `dicts` maps zone names to their
 * SharedDicts so that their families are included.
 */
export function registryMetrics(
  registry: ZoneRegistry = zones,
  dicts: readonly SharedDict[] = [],
): string {
  const byName = new Map(dicts.map((d) => [d.name, d]));
  const samples = registry
    .list()
    .filter((z) => z.started)
    .map((z) => zoneSample(z, { dict: byName.get(z.name) }));
  return formatMetrics(samples);
}
