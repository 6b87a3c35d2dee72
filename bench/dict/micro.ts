/**
 * In-process micro benchmark of SharedDict's hot paths against a plain Map, measured in the
 * same process and interleaved round by round (the machine is shared and noisy: compare the
 * per-round ratios, not absolute figures from different runs).
 *
 *   node dist/bench/dict/micro.js [--rounds=7] [--ops=1000000] [--only=map,map-touch,get,has,getInto,get-many,mixed,set,incr]
 *   node dist/bench/dict/micro.js --only=get --rounds=1 --ops=2000000 --nowarm   (for perf stat)
 *   node dist/bench/dict/micro.js --keys=1000   (everything in cache: instruction cost only)
 *   node dist/bench/dict/micro.js --values=string --only=map,get,get-local   (100-character
 *     strings; get-local reads through a second SharedDict on the zone with localCache on;
 *     mixed-local is mixed with its gets through that object; --local=<keys> sets its size,
 *     default 2^20; --skewed draws keys from a skewed distribution instead of a uniform one)
 *   node dist/bench/dict/micro.js --huge --only=map,get,get-huge   (needs a hugetlbfs mount and
 *     32 free huge pages: the same dict also on hugePages: true, interleaved with `get`)
 *
 * Workload C1: 100,000 keys "key:<i>", 100-byte values, uniformly random keys. `get` is
 * dict.get; `getInto` is dict.getInto into one reused buffer; `get-many` is dict.getMany over
 * 64 keys at a time (ns per key); `map-touch` also reads each value's
 * first and last byte; `mixed` makes every 10th
 * operation a set (Map likewise, `map-mixed`); `set` makes every operation one (`map-set`); `incr` increments 100,000 number keys.
 */
import { ZoneRegistry } from '../../src/zone/registry.js';
import { sharedDict } from '../../src/dict/declare.js';
import type { SharedDict } from '../../src/dict/dict.js';
import { makeKeys, makeStream, makeValues } from './workload.js';
import { median } from '../median.js';

const args = process.argv.slice(2);
const arg = (name: string, dflt: string): string =>
  args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? dflt;
const rounds = Number(arg('rounds', '7'));
const ops = Number(arg('ops', '1000000'));
const only = arg('only', 'map,map-touch,get,getInto,map-mixed,mixed,incr').split(',');
const warm = !args.includes('--nowarm');
/** Fewer keys than C1's 100,000 keep everything in cache: what is left is instructions. */
const nkeys = Number(arg('keys', '100000'));

const registry = new ZoneRegistry({ namespace: `micro${process.pid}`, mode: 'owner' });
const dict: SharedDict = sharedDict(registry, 'c1', '64m');
/** The same zone through an object that keeps decoded values (the localCache option). */
const localDict: SharedDict = sharedDict(registry, 'c1', '64m', {
  localCache: Number(arg('local', String(1 << 20))),
});
await registry.start();
const hugeRegistry = args.includes('--huge')
  ? new ZoneRegistry({ namespace: `microh${process.pid}`, mode: 'owner', hugePages: true })
  : undefined;
const hugeDict = hugeRegistry && sharedDict(hugeRegistry, 'c1', '64m');
await hugeRegistry?.start();
const keys = makeKeys(nkeys);
const stringValues = arg('values', 'bytes') === 'string';
// Strings: each value's 100 bytes as latin1 characters of 'a'..'p' (so also 100 UTF-8 bytes).
const values: (Buffer | string)[] = stringValues
  ? makeValues(nkeys).map((b) => Array.from(b, (x) => String.fromCharCode(97 + (x & 15))).join(''))
  : makeValues(nkeys);
// The Map and the counters only when a selected run uses them: they share the caches with
// the dict, so `--only=get,has,getInto` measures the dict with nothing else in the heap.
const map = new Map<string, Buffer | string>();
const withMap = only.some((n) => n.startsWith('map'));
for (let i = 0; i < keys.length; i++) {
  dict.set(keys[i], values[i]);
  hugeDict?.set(keys[i], values[i]);
  if (withMap) map.set(keys[i], values[i]);
}
const numKeys = only.includes('incr') ? keys.map((k) => `n${k}`) : [];
for (const k of numKeys) dict.set(k, 0);
const stream = makeStream(ops, 0, nkeys);
if (args.includes('--skewed')) {
  // Key floor(n * u^3) for u uniform in [0, 1): the first 1% of keys get 21% of the
  // operations, the first 10% get 46%.
  for (let i = 0; i < ops; i++) stream[i] = Math.floor(nkeys * (stream[i] / nkeys) ** 3);
}
const target = new Uint8Array(256);
const BATCH = 64;
const batch: string[] = new Array<string>(BATCH).fill('');
let sink = 0;

type Run = (n: number) => void;
const runs: Record<string, Run> = {
  map: (n) => {
    for (let i = 0; i < n; i++) if (map.get(keys[stream[i]]) !== undefined) sink++;
  },
  // A Map get that also reads its value's first and last byte: what reading a value from a
  // random place costs, which SharedDict must pay and a plain Map.get does not.
  'map-touch': (n) => {
    for (let i = 0; i < n; i++) {
      const v = map.get(keys[stream[i]]);
      if (typeof v === 'string') sink += v.charCodeAt(0) + v.charCodeAt(v.length - 1);
      else if (v !== undefined) sink += v[0] + v[v.length - 1];
    }
  },
  'map-mixed': (n) => {
    for (let i = 0; i < n; i++) {
      const k = stream[i];
      if (i % 10 === 0) map.set(keys[k], values[k]);
      else if (map.get(keys[k]) !== undefined) sink++;
    }
  },
  get: (n) => {
    for (let i = 0; i < n; i++) if (dict.get(keys[stream[i]]) !== undefined) sink++;
  },
  // getMany in batches of BATCH keys from the same stream: ns per key, as for get. Its first
  // passes load every key's slot and entry before any is read, so their misses overlap.
  'get-many': (n) => {
    for (let i = 0; i + BATCH <= n; i += BATCH) {
      for (let j = 0; j < BATCH; j++) batch[j] = keys[stream[i + j]];
      const got = dict.getMany(batch);
      for (let j = 0; j < BATCH; j++) if (got[j] !== undefined) sink++;
    }
  },
  'get-local': (n) => {
    for (let i = 0; i < n; i++) if (localDict.get(keys[stream[i]]) !== undefined) sink++;
  },
  'get-huge': (n) => {
    const d = hugeDict as SharedDict;
    for (let i = 0; i < n; i++) if (d.get(keys[stream[i]]) !== undefined) sink++;
  },
  has: (n) => {
    for (let i = 0; i < n; i++) if (dict.has(keys[stream[i]])) sink++;
  },
  getInto: (n) => {
    for (let i = 0; i < n; i++) if (dict.getInto(keys[stream[i]], target) >= 0) sink++;
  },
  mixed: (n) => {
    for (let i = 0; i < n; i++) {
      const k = stream[i];
      if (i % 10 === 0) dict.set(keys[k], values[k]);
      else if (dict.get(keys[k]) !== undefined) sink++;
    }
  },
  // As mixed, with the gets through the localCache object: every set moves its key's version
  // (and those of the keys sharing its bucket), so the next get of them reads shared memory.
  'mixed-local': (n) => {
    for (let i = 0; i < n; i++) {
      const k = stream[i];
      if (i % 10 === 0) dict.set(keys[k], values[k]);
      else if (localDict.get(keys[k]) !== undefined) sink++;
    }
  },
  // Every operation a set: the write path alone (an overwrite of a key of the same size).
  set: (n) => {
    for (let i = 0; i < n; i++) dict.set(keys[stream[i]], values[stream[i]]);
  },
  'map-set': (n) => {
    for (let i = 0; i < n; i++) map.set(keys[stream[i]], values[stream[i]]);
  },
  incr: (n) => {
    const m = Math.min(n, ops / 4);
    for (let i = 0; i < m; i++) sink += dict.incr(numKeys[stream[i]], 1) ?? 0;
  },
};

const names = only.filter((n) => runs[n] !== undefined && (n !== 'get-huge' || hugeDict));
if (warm) for (const n of names) runs[n](Math.min(ops, 200_000));
const ns: Record<string, number[]> = {};
for (const n of names) ns[n] = [];
for (let r = 0; r < rounds; r++) {
  for (const n of names) {
    const count = n === 'incr' ? Math.min(ops, ops / 4) : ops;
    const t0 = process.hrtime.bigint();
    runs[n](ops);
    ns[n].push(Number(process.hrtime.bigint() - t0) / count);
  }
}
for (const n of names) {
  const m = median(ns[n]);
  let ratio = '';
  const base =
    n === 'mixed' || n === 'mixed-local'
      ? 'map-mixed'
      : n === 'set'
        ? 'map-set'
        : n === 'get-huge'
          ? 'get'
          : 'map';
  if (n !== base && ns[base] !== undefined) {
    const per = ns[n].map((x, i) => ns[base][i] / x);
    ratio = `  ${base === 'get' ? 'get' : 'Map'}/this = ${median(per).toFixed(3)} (per-round median)`;
  }
  console.log(
    `${n.padEnd(10)} ${m.toFixed(1).padStart(7)} ns/op  ${(1000 / m).toFixed(2)} M/s${ratio}  [${ns[n].map((x) => x.toFixed(0)).join(' ')}]`,
  );
}
if (sink < 0) console.log(sink);
registry.stop();
hugeRegistry?.stop();
