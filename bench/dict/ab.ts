/**
 * Two builds of shmzone in one process, C1 over each, their rounds alternating: how a change
 * moves the dict when this VM's memory latency drifts by more than the change between
 * separate runs (docs/performance.md, "One-word slots").
 *
 *   node dist/bench/dict/ab.js <checkout A> <checkout B> [--rounds=15] [--writes]
 *
 * Each checkout must be built (`npm run build`: its dist/src is imported). Each gets its own
 * 64 MiB pool with C1's 100,000 keys and 100-byte values. A round times a Map.get loop, then
 * each build's get and has loops (with --writes: an overwriting set, and a delete then set of
 * the same key), in an order that alternates between rounds. Printed: medians per
 * operation, and B's time over A's per round with its median (below 1: B is faster).
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { KEYS, makeKeys, makeStream, makeValues } from './workload.js';
import { median } from '../median.js';

const args = process.argv.slice(2);
const dirs = args.filter((a) => !a.startsWith('--'));
const rounds = Number(args.find((a) => a.startsWith('--rounds='))?.slice(9) ?? '15');
const writes = args.includes('--writes');
if (dirs.length !== 2 || !(rounds >= 1)) {
  console.error(
    'usage: node dist/bench/dict/ab.js <checkout A> <checkout B> [--rounds=N] [--writes]',
  );
  process.exit(2);
}

const POOL_BYTES = 64 * 1024 * 1024;
const READS = 2_000_000;
const WRITES = 500_000;

/** What this bench calls on a build's dict. */
interface Dict {
  get(key: string): unknown;
  has(key: string): boolean;
  set(key: string, value: unknown): number;
  delete(key: string): boolean;
}

async function loadDict(dir: string): Promise<Dict> {
  const at = (file: string): string => pathToFileURL(resolve(dir, 'dist/src', file)).href;
  const { SlabPool } = (await import(
    at('slab/pool.js')
  )) as typeof import('../../src/slab/pool.js');
  const { SharedDict } = (await import(
    at('dict/dict.js')
  )) as typeof import('../../src/dict/dict.js');
  const sab = new SharedArrayBuffer(POOL_BYTES);
  const peers = { selfId: 1, isOwnerDead: () => false };
  const pool = SlabPool.create(sab, 0, POOL_BYTES, peers, { threadCache: true });
  return new SharedDict('ab', {}, { pool, root: 0 }) as unknown as Dict;
}

const keys = makeKeys();
const values = makeValues();
const stream = makeStream(READS, 0);
const builds = await Promise.all(dirs.map(loadDict));
for (const d of builds)
  for (let i = 0; i < KEYS; i++)
    if (d.set(keys[i], values[i]) !== 1) throw new Error(`set of ${keys[i]} failed`);
const map = new Map<string, Buffer>();
for (let i = 0; i < KEYS; i++) map.set(keys[i], values[i]);

/** ns per operation of `loop(n)`, which returns a count so that its work is not dead. */
function time(n: number, loop: (n: number) => number): number {
  const t0 = process.hrtime.bigint();
  const count = loop(n);
  const ns = Number(process.hrtime.bigint() - t0) / n;
  return count === -1 ? -1 : ns;
}

type Op = [name: string, ops: number, loop: (d: Dict, n: number) => number];
const ops: Op[] = [
  [
    'get',
    READS,
    (d, n) => {
      let hits = 0;
      for (let i = 0; i < n; i++) if (d.get(keys[stream[i]]) !== undefined) hits++;
      return hits;
    },
  ],
  [
    'has',
    READS,
    (d, n) => {
      let hits = 0;
      for (let i = 0; i < n; i++) if (d.has(keys[stream[i]])) hits++;
      return hits;
    },
  ],
];
if (writes) {
  ops.push(
    [
      'overwriting set',
      WRITES,
      (d, n) => {
        let stored = 0;
        for (let i = 0; i < n; i++)
          stored += d.set(keys[stream[i]], values[(stream[i] + i) % KEYS]);
        return stored;
      },
    ],
    [
      'delete, then set',
      WRITES,
      (d, n) => {
        let deleted = 0;
        for (let i = 0; i < n; i++) {
          const k = stream[i];
          if (d.delete(keys[k])) deleted++;
          d.set(keys[k], values[k]);
        }
        return deleted;
      },
    ],
  );
}

const mapNs: number[] = [];
const ns = ops.map(() => [[], []] as [number[], number[]]);
for (let r = 0; r < rounds; r++) {
  mapNs.push(
    time(READS, (n) => {
      let hits = 0;
      for (let i = 0; i < n; i++) if (map.get(keys[stream[i]]) !== undefined) hits++;
      return hits;
    }),
  );
  const order = r % 2 === 0 ? [0, 1] : [1, 0];
  for (const b of order)
    ops.forEach(([, n, loop], o) => ns[o][b].push(time(n, (m) => loop(builds[b], m))));
}

console.log(
  `A = ${dirs[0]}\nB = ${dirs[1]}\n${rounds} rounds; Map.get ${median(mapNs).toFixed(1)} ns`,
);
ops.forEach(([name], o) => {
  const [a, b] = ns[o];
  const ratios = a.map((x, r) => b[r] / x);
  const faster = ratios.filter((x) => x < 1).length;
  console.log(
    `${name.padEnd(16)} A ${median(a).toFixed(1).padStart(7)} ns  B ${median(b).toFixed(1).padStart(7)} ns  ` +
      `B/A ${median(ratios).toFixed(3)} (B faster in ${faster} of ${rounds})  [${ratios.map((x) => x.toFixed(3)).join(' ')}]`,
  );
});
