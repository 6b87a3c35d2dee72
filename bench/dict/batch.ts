/**
 * getMany per key against a loop of get and against Map.get, over 200,000 keys (a 64 MiB
 * dict, far beyond the CPU caches), in batches of 16 and 64 random keys, alternating rounds.
 *
 *   node dist/bench/dict/batch.js [--quick]
 */
import { SlabPool } from '../../src/slab/pool.js';
import { SharedDict } from '../../src/dict/dict.js';
import { median } from '../median.js';

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 3 : 7;
const KEYS = 200_000;
const SIZE = 64 * 1024 * 1024;

const sab = new SharedArrayBuffer(SIZE);
const pool = SlabPool.create(sab, 0, SIZE, { selfId: 1, isOwnerDead: () => false });
const dict = new SharedDict('bench', {}, { pool, root: 0 });
const map = new Map<string, string>();
const keys = Array.from({ length: KEYS }, (_, i) => `user:${i}:profile`);
for (const k of keys) {
  dict.set(k, `value of ${k}`);
  map.set(k, `value of ${k}`);
}
let seed = 12345;
function random(): number {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed % KEYS;
}

function time(fn: () => number, perKey: number): number {
  const t0 = process.hrtime.bigint();
  if (fn() === 0) throw new Error('nothing read');
  return Number(process.hrtime.bigint() - t0) / perKey;
}

for (const batch of [16, 64]) {
  const batches = Array.from({ length: 2000 }, () =>
    Array.from({ length: batch }, () => keys[random()]),
  );
  const total = batches.length * batch;
  const runs: Array<[string, () => number]> = [
    [
      'getMany',
      () => {
        let n = 0;
        for (const b of batches) for (const v of dict.getMany<string>(b)) n += v!.length;
        return n;
      },
    ],
    [
      'get loop',
      () => {
        let n = 0;
        for (const b of batches) for (const k of b) n += dict.get<string>(k)!.length;
        return n;
      },
    ],
    [
      'Map.get',
      () => {
        let n = 0;
        for (const b of batches) for (const k of b) n += map.get(k)!.length;
        return n;
      },
    ],
  ];
  const times = runs.map(() => [] as number[]);
  for (let round = 0; round < ROUNDS; round++) {
    runs.forEach(([, fn], i) => {
      const t = time(fn, total);
      if (round > 0) times[i].push(t);
    });
  }
  const loop = median(times[1]);
  console.log(`batches of ${batch} random keys out of ${KEYS}:`);
  runs.forEach(([name], i) => {
    const t = median(times[i]);
    console.log(
      `  ${name.padEnd(9)} ${t.toFixed(0).padStart(5)} ns/key (${(t / loop).toFixed(2)}x get loop)`,
    );
  });
}
