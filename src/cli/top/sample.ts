/**
 * What `shmzone top` shows, read with the readers `shmzone stat` uses: `inspectAll` for the
 * header and peer table, the pool's lock-free `stats()`, and `dictStatsOf` (the dict's
 * counters, read without the lock and without writing). Rates are the difference of two
 * samples over the time between them. Nothing here renders.
 */
import type { DictStats } from '../../dict/dict.js';
import type { LockStats, PoolStats } from '../../slab/api.js';
import { DICT_TAG } from '../../dict/declare.js';
import { dictCurrent } from '../../dict/init.js';
import { inspectAll, type InspectedZone, type ZoneSummary } from '../../zone/inspect.js';
import { dictStatsOf } from '../commands.js';

/** One zone as read at one instant. */
export interface ZoneSample {
  summary: ZoneSummary;
  /** Undefined when the zone has no readable pool (see `problem`). */
  pool?: PoolStats;
  dict?: DictStats;
  /**
   * The lock counters again after the dict read, which takes the lock itself: rates count
   * from here, so that top's own acquisitions never show as the zone's traffic.
   */
  lockAfterRead?: LockStats;
  /** Why a figure is missing: an unreadable header, a damaged pool, a busy lock. */
  problem?: string;
}

/** Every zone of the namespace (or of all namespaces) at one instant. */
export interface Sample {
  /** ms since the epoch. */
  at: number;
  zones: ZoneSample[];
}

/** Per-second rates of one zone between two samples; undefined when there is no earlier one. */
export interface ZoneRates {
  /** Dict reads (hits + misses). */
  gets: number;
  hits: number;
  misses: number;
  sets: number;
  evictions: number;
  expirations: number;
  /** Slab allocation requests (every class plus whole-page runs): a dict set allocates one. */
  allocs: number;
  acquisitions: number;
  contended: number;
  sleeps: number;
}

function describe(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? `${e.code}: ` : '';
  return `${code}${typeof e.message === 'string' ? e.message : String(err)}`;
}

/** Reads every zone once. The reads take no lock: `_lockTimeoutMs` (`--timeout`) is unused. */
export function takeSample(namespace: string | undefined, _lockTimeoutMs: number): Sample {
  const at = Date.now();
  const zones = inspectAll(namespace).map((z): ZoneSample => {
    const summary = z.summary;
    if (summary.health !== 'ok') return { summary, problem: `segment ${summary.health}` };
    let pool: PoolStats;
    try {
      pool = z.pool.stats();
    } catch (err) {
      return { summary, problem: describe(err) };
    }
    const stale = staleDict(z);
    if (stale !== undefined) return { summary, pool, problem: stale };
    try {
      const dict = dictStatsOf(z);
      if (dict === undefined) return { summary, pool };
      return { summary, pool, dict, lockAfterRead: z.pool.stats().lock };
    } catch (err) {
      return { summary, pool, problem: describe(err) };
    }
  });
  return { at, zones };
}

/**
 * Why a dict zone has no dict to read now: after a pool reset ROOT still points at the old
 * header until the next user rebuilds it (dict.ts, syncLocked), and a reader must not. Read
 * without the lock, so a reset just then is still caught by dictStatsOf.
 */
function staleDict(z: InspectedZone): string | undefined {
  const s = z.summary;
  if (s.tag !== DICT_TAG || s.state !== 'ready' || z.root === 0) return undefined;
  if (dictCurrent(z.pool, z.root)) return undefined;
  return `no current dict: the pool was reset (generation ${z.pool.generation}) and no process has rebuilt it yet`;
}

function allocRequests(pool: PoolStats): number {
  let n = pool.pageAllocs.reqs;
  for (const s of pool.slots) n += s.reqs;
  return n;
}

/**
 * Rates of `now` against `before` (the same segment in an earlier sample). Undefined when
 * there is no earlier reading, or the zone was re-created or reset in between (a counter
 * went down or the generation changed).
 */
export function zoneRates(
  now: ZoneSample,
  before: ZoneSample | undefined,
  seconds: number,
): ZoneRates | undefined {
  if (before === undefined || now.pool === undefined || before.pool === undefined) return undefined;
  if (seconds <= 0 || now.summary.generation !== before.summary.generation) return undefined;
  if (now.summary.createdAt !== before.summary.createdAt) return undefined;
  const deltas: number[] = [];
  const per = (a: number, b: number): number => {
    deltas.push(a - b);
    return (a - b) / seconds;
  };
  const d0 = before.dict;
  const d1 = now.dict;
  const hits = d0 && d1 ? per(d1.hits, d0.hits) : 0;
  const misses = d0 && d1 ? per(d1.misses, d0.misses) : 0;
  const l0 = before.lockAfterRead ?? before.pool.lock;
  const l1 = now.pool.lock;
  const rates: ZoneRates = {
    gets: hits + misses,
    hits,
    misses,
    sets: d0 && d1 ? per(d1.sets, d0.sets) : 0,
    evictions: d0 && d1 ? per(d1.evictions, d0.evictions) : 0,
    expirations: d0 && d1 ? per(d1.expirations, d0.expirations) : 0,
    allocs: per(allocRequests(now.pool), allocRequests(before.pool)),
    acquisitions: per(l1.acquisitions, l0.acquisitions),
    contended: per(l1.contended, l0.contended),
    sleeps: per(l1.sleeps, l0.sleeps),
  };
  return deltas.some((d) => d < 0) ? undefined : rates;
}

/** Rates of every zone of `now`, by segment name. */
export function sampleRates(now: Sample, before: Sample | undefined): Map<string, ZoneRates> {
  const out = new Map<string, ZoneRates>();
  if (before === undefined) return out;
  const seconds = (now.at - before.at) / 1000;
  const earlier = new Map(before.zones.map((z) => [z.summary.segment, z]));
  for (const z of now.zones) {
    const r = zoneRates(z, earlier.get(z.summary.segment), seconds);
    if (r !== undefined) out.set(z.summary.segment, r);
  }
  return out;
}
