/**
 * Structured values: set and get of a 200 B and a 4 KiB object through the dict's v8 and
 * JSON codecs and a msgpackr codec, in alternating rounds in one process; ns per call and
 * the ratio to JSON measured in the same rounds.
 *
 *   node dist/bench/dict/codecs.js [--quick]
 */
import { pack, unpack } from 'msgpackr';
import { serialize } from 'node:v8';
import { SlabPool } from '../../src/slab/pool.js';
import { SharedDict } from '../../src/dict/dict.js';
import type { DictCodecOption } from '../../src/dict/values.js';

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 3 : 7;
const SIZE = 64 * 1024 * 1024;

function object(bytes: number): Record<string, unknown> {
  const items = [];
  for (let i = 0; JSON.stringify(items).length < bytes - 60; i++) {
    items.push({ id: i, name: `item-${i}`, ok: i % 2 === 0, score: i * 1.5 });
  }
  return { kind: 'page', at: 1_700_000_000_000, items };
}

const codecs: Array<[string, DictCodecOption]> = [
  ['json', 'json'],
  ['v8', 'v8'],
  ['msgpackr', { encode: (v) => pack(v), decode: (b) => unpack(b) as unknown }],
];

function dictFor(codec: DictCodecOption): SharedDict {
  const sab = new SharedArrayBuffer(SIZE);
  const pool = SlabPool.create(sab, 0, SIZE, { selfId: 1, isOwnerDead: () => false });
  return new SharedDict('bench', { codec }, { pool, root: 0 });
}

function time(fn: () => void, n: number): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / n;
}

const KEYS = 256;
const keys = Array.from({ length: KEYS }, (_, i) => `obj:${i}`);
for (const bytes of [200, 4096]) {
  const value = object(bytes);
  const n = bytes < 1000 ? 40_000 : 8_000;
  const dicts = codecs.map(([, c]) => dictFor(c));
  const results = codecs.map(() => ({ set: [] as number[], get: [] as number[] }));
  for (let round = 0; round < ROUNDS; round++) {
    codecs.forEach((_, ci) => {
      const d = dicts[ci];
      const s = time(() => {
        for (let i = 0; i < n; i++) d.set(keys[i % KEYS], value);
      }, n);
      let sink = 0;
      const g = time(() => {
        for (let i = 0; i < n; i++)
          sink += d.get<{ items: unknown[] }>(keys[i % KEYS])!.items.length;
      }, n);
      if (sink === 0) throw new Error('no values read');
      if (round > 0) {
        results[ci].set.push(s);
        results[ci].get.push(g);
      }
    });
  }
  const median = (a: number[]): number => [...a].sort((x, y) => x - y)[a.length >> 1];
  const json = results[0];
  console.log(
    `object: ${JSON.stringify(value).length} B as JSON, ${serialize(value).length} B as v8, ` +
      `${pack(value).length} B as msgpackr`,
  );
  codecs.forEach(([name], ci) => {
    const r = results[ci];
    const s = median(r.set);
    const g = median(r.get);
    console.log(
      `  ${name.padEnd(9)} set ${s.toFixed(0).padStart(6)} ns (${(s / median(json.set)).toFixed(2)}x json)` +
        `   get ${g.toFixed(0).padStart(6)} ns (${(g / median(json.get)).toFixed(2)}x json)`,
    );
  });
}
