/**
 * A dict's counters read without the lock and without writing: what `shmzone stat` and
 * `shmzone metrics` show. Only the header is trusted after checks: it must be a dict of the
 * pool's current generation whose areas are live chunks of their sizes (checkHeaderAreas); the
 * counters are then plain loads (a concurrent writer may make them a moment old, never out
 * of bounds). Anything else is DictError ERR_DICT_CORRUPT, for the caller to report; repair
 * is left to `shmzone verify --repair` and the applications (test/cli/45.read-only.test.ts).
 */
import { DictError } from '../errors.js';
import type { DictStats } from './options.js';
import { dictCurrent, dictValid } from './init.js';
import {
  D_BYTES8,
  D_COUNT,
  D_EVICTED,
  D_SETS,
  D_EXPIRED,
  D_STATS,
  LINE_WORDS,
  STAT_HITS_F64,
  STAT_LINES,
  STAT_MISSES_F64,
} from './layout.js';
import type { DictPool } from './pool.js';
import { checkHeaderAreas } from './verify-dict.js';

/**
 * The counters of the dict at byte `root`; undefined when there is none to read (ROOT 0, or
 * a dict of an earlier pool generation that the next application call rebuilds empty).
 * Throws DictError ERR_DICT_CORRUPT when ROOT or a header word is damaged.
 */
export function readDictStats(pool: DictPool, root: number, name: string): DictStats | undefined {
  if (root === 0) return undefined;
  const bad = (what: string): never => {
    throw new DictError('ERR_DICT_CORRUPT', `dict "${name}": ${what}`);
  };
  if (!dictValid(pool, root)) bad(`ROOT ${root} does not hold a dict header`);
  if (!dictCurrent(pool, root)) {
    if (pool.generation === 0) bad(`ROOT ${root} holds a dict of another pool generation`);
    return undefined;
  }
  const u32 = pool.u32;
  const hw = root / 4;
  checkHeaderAreas(pool, hw, bad);
  const f64 = new Float64Array(pool.u8.buffer, pool.u8.byteOffset, pool.u8.byteLength >>> 3);
  return dictCounters(u32, f64, hw);
}

/**
 * The counters of the dict header at word `hw`: `u32` and `f64` view the zone from its start
 * (a ref is the f64 index of its area). Also `SharedDict.stats()`, under the lock.
 */
export function dictCounters(u32: Uint32Array, f64: Float64Array, hw: number): DictStats {
  let hits = 0;
  let misses = 0;
  const base = u32[hw + D_STATS];
  for (let l = 0; l < STAT_LINES; l++) {
    const f = base + (l * LINE_WORDS) / 2;
    hits += f64[f + STAT_HITS_F64];
    misses += f64[f + STAT_MISSES_F64];
  }
  return {
    entries: u32[hw + D_COUNT],
    bytesUsed: u32[hw + D_BYTES8] * 8,
    hits,
    misses,
    sets: u32[hw + D_SETS],
    evictions: u32[hw + D_EVICTED],
    expirations: u32[hw + D_EXPIRED],
  };
}
