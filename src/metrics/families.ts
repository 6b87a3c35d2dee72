/**
 * The metric families shmzone exports, defined once: the text exposition (`exposition.ts`)
 * and the prom-client bridge (`prom-client.ts`) both walk this table.
 *
 * Counters come from 32-bit words in shared memory and wrap at 2^32; Prometheus' `rate()`
 * treats a wrap like a counter reset. Every family carries the labels `namespace` and `zone`;
 * per-slot families add `slot` (the chunk size in bytes).
 */
import type { PoolStats } from '../slab/api.js';
import type { DictStats } from '../dict/dict.js';

/** One zone's numbers, as collected at scrape time. */
export interface ZoneSample {
  namespace: string;
  zone: string;
  /** Segment size in bytes. */
  size: number;
  pool: PoolStats;
  /** Present for dict zones. */
  dict?: DictStats;
  /** Threads attached and alive; omitted when unknown. */
  livePeers?: number;
  /** The reader found a damaged structure (`shmzone metrics`); omitted when not checked. */
  damaged?: boolean;
}

export type Labels = Record<string, string>;

/** One metric value with its labels. */
export interface MetricValue {
  labels: Labels;
  value: number;
}

/** A metric family: name, help, type and how to read its values from a sample. */
export interface MetricFamily {
  name: string;
  help: string;
  type: 'gauge' | 'counter';
  /** Label names beyond `namespace` and `zone`. */
  extraLabels: string[];
  values(sample: ZoneSample): MetricValue[];
}

const zoneLabels = (s: ZoneSample): Labels => ({ namespace: s.namespace, zone: s.zone });

function scalar(
  name: string,
  type: MetricFamily['type'],
  help: string,
  read: (s: ZoneSample) => number | undefined,
): MetricFamily {
  return {
    name,
    help,
    type,
    extraLabels: [],
    values(s) {
      const value = read(s);
      return value === undefined ? [] : [{ labels: zoneLabels(s), value }];
    },
  };
}

function perSlot(
  name: string,
  type: MetricFamily['type'],
  help: string,
  read: (slot: PoolStats['slots'][number]) => number,
): MetricFamily {
  return {
    name,
    help,
    type,
    extraLabels: ['slot'],
    values: (s) =>
      s.pool.slots.map((slot) => ({
        labels: { ...zoneLabels(s), slot: String(slot.size) },
        value: read(slot),
      })),
  };
}

/** Every family, in exposition order. */
export const FAMILIES: readonly MetricFamily[] = [
  scalar('shmzone_zone_size_bytes', 'gauge', 'Size of the zone segment in bytes.', (s) => s.size),
  scalar(
    'shmzone_zone_peers',
    'gauge',
    'Threads (of all processes) attached to the zone and alive.',
    (s) => s.livePeers,
  ),
  scalar(
    'shmzone_zone_damaged',
    'gauge',
    '1 when the reader found a damaged structure in the zone (run shmzone verify), else 0.',
    (s) => (s.damaged === undefined ? undefined : s.damaged ? 1 : 0),
  ),
  scalar(
    'shmzone_slab_generation',
    'gauge',
    'Times the slab pool was re-initialised empty after a failed repair.',
    (s) => s.pool.generation,
  ),
  scalar('shmzone_slab_pages', 'gauge', 'Pages in the slab pool.', (s) => s.pool.pagesTotal),
  scalar('shmzone_slab_pages_free', 'gauge', 'Completely free pages.', (s) => s.pool.pagesFree),
  scalar(
    'shmzone_slab_page_requests_total',
    'counter',
    'Allocations larger than the largest chunk size (whole pages).',
    (s) => s.pool.pageAllocs.reqs,
  ),
  scalar(
    'shmzone_slab_page_failures_total',
    'counter',
    'Whole-page allocations that failed for lack of memory.',
    (s) => s.pool.pageAllocs.fails,
  ),
  perSlot(
    'shmzone_slab_slot_chunks',
    'gauge',
    'Chunks in pages owned by the slot.',
    (x) => x.total,
  ),
  perSlot('shmzone_slab_slot_used_chunks', 'gauge', 'Chunks allocated now.', (x) => x.used),
  perSlot(
    'shmzone_slab_slot_requests_total',
    'counter',
    'Allocation requests routed to the slot, failed ones included.',
    (x) => x.reqs,
  ),
  perSlot(
    'shmzone_slab_slot_failures_total',
    'counter',
    'Allocation requests of the slot that failed for lack of memory.',
    (x) => x.fails,
  ),
  scalar(
    'shmzone_lock_acquisitions_total',
    'counter',
    'Acquisitions of the zone lock.',
    (s) => s.pool.lock.acquisitions,
  ),
  scalar(
    'shmzone_lock_contended_total',
    'counter',
    'Acquisitions that found the lock held.',
    (s) => s.pool.lock.contended,
  ),
  scalar(
    'shmzone_lock_spins_total',
    'counter',
    'Spin iterations spent waiting for the lock.',
    (s) => s.pool.lock.spins,
  ),
  scalar(
    'shmzone_lock_sleeps_total',
    'counter',
    'Times a waiter slept on the futex.',
    (s) => s.pool.lock.sleeps,
  ),
  scalar(
    'shmzone_lock_sleepers',
    'gauge',
    'Threads sleeping on the zone lock now, or about to (one killed asleep counts until its slot is reaped or found vacant).',
    (s) => s.pool.lock.sleepers,
  ),
  scalar(
    'shmzone_lock_recoveries_total',
    'counter',
    'Locks taken over from a dead owner and repaired.',
    (s) => s.pool.lock.recoveries,
  ),
  scalar(
    'shmzone_dict_hits_total',
    'counter',
    'Dict reads that found a live value.',
    (s) => s.dict?.hits,
  ),
  scalar(
    'shmzone_dict_misses_total',
    'counter',
    'Dict reads that found nothing.',
    (s) => s.dict?.misses,
  ),
  scalar(
    'shmzone_dict_sets_total',
    'counter',
    'Values stored in the dict (set, safeSet, add, replace, incr).',
    (s) => s.dict?.sets,
  ),
  scalar(
    'shmzone_dict_evictions_total',
    'counter',
    'Live dict entries evicted to make room.',
    (s) => s.dict?.evictions,
  ),
  scalar(
    'shmzone_dict_expirations_total',
    'counter',
    'Expired dict entries reclaimed.',
    (s) => s.dict?.expirations,
  ),
  scalar(
    'shmzone_dict_entries',
    'gauge',
    'Dict entries, expired ones not yet reclaimed included.',
    (s) => s.dict?.entries,
  ),
  scalar(
    'shmzone_dict_bytes',
    'gauge',
    'Bytes held by dict entries (headers, keys, values).',
    (s) => s.dict?.bytesUsed,
  ),
];
