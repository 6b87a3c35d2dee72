/**
 * Structured values: set and get of a 200 B and a 4 KiB object through the dict's v8 and JSON
 * codecs and two msgpackr codecs (plain, and with records), and through two peers in the same
 * alternating rounds, in one process: lmdb-js (a store other processes share too, with its
 * default msgpack encoding) and an in-process `Map`, which keeps the object itself and copies
 * nothing (the ceiling). ns per call, and each one's ratio to the dict with JSON and to lmdb.
 *
 *   node dist/bench/dict/codecs.js [--quick]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { open } from 'lmdb';
import { pack, Packr, unpack } from 'msgpackr';
import { serialize } from 'node:v8';
import { SlabPool } from '../../src/slab/pool.js';
import { SharedDict } from '../../src/dict/dict.js';
import type { DictCodecOption } from '../../src/dict/values.js';
import { median } from '../median.js';

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 3 : 7;
const SIZE = 64 * 1024 * 1024;

type Page = { items: unknown[] };

/** One way to keep objects by key. */
interface ObjectStore {
  name: string;
  set(key: string, value: Page): void;
  get(key: string): Page | undefined;
}

function object(bytes: number): Page {
  const items = [];
  for (let i = 0; JSON.stringify(items).length < bytes - 60; i++) {
    items.push({ id: i, name: `item-${i}`, ok: i % 2 === 0, score: i * 1.5 });
  }
  return { kind: 'page', at: 1_700_000_000_000, items } as Page;
}

function dictStore(name: string, codec: DictCodecOption): ObjectStore {
  const sab = new SharedArrayBuffer(SIZE);
  const pool = SlabPool.create(sab, 0, SIZE, { selfId: 1, isOwnerDead: () => false });
  const d = new SharedDict('bench', { codec }, { pool, root: 0 });
  return { name, set: (k, v) => d.set(k, v), get: (k) => d.get<Page>(k) };
}

/**
 * msgpackr with its record extension: an object's keys are written once per shape in each
 * value, not once per object; the shapes live in the value, so any process decodes it.
 */
function packrCodec(packr: Packr): DictCodecOption {
  return { encode: (v) => packr.pack(v), decode: (b) => packr.unpack(b) as unknown };
}

const lmdbDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shmzone-bench-codecs-'));
const lmdb = open<Page, string>({ path: lmdbDir, noSync: true }); // encoding: msgpack
const map = new Map<string, Page>();

const stores: ObjectStore[] = [
  dictStore('json', 'json'),
  dictStore('v8', 'v8'),
  dictStore('msgpackr', { encode: (v) => pack(v), decode: (b) => unpack(b) as unknown }),
  dictStore('records', packrCodec(new Packr({ useRecords: true }))),
  { name: 'lmdb', set: (k, v) => void lmdb.putSync(k, v), get: (k) => lmdb.get(k) },
  { name: 'Map', set: (k, v) => void map.set(k, v), get: (k) => map.get(k) },
];
const JSON_ROW = 0;
const LMDB_ROW = 4;

function time(fn: () => void, n: number): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / n;
}

const KEYS = 256;
const keys = Array.from({ length: KEYS }, (_, i) => `obj:${i}`);
try {
  for (const bytes of [200, 4096]) {
    const value = object(bytes);
    const n = bytes < 1000 ? 40_000 : 8_000;
    const results = stores.map(() => ({ set: [] as number[], get: [] as number[] }));
    for (let round = 0; round < ROUNDS; round++) {
      stores.forEach((store, si) => {
        const s = time(() => {
          for (let i = 0; i < n; i++) store.set(keys[i % KEYS], value);
        }, n);
        let sink = 0;
        const g = time(() => {
          for (let i = 0; i < n; i++) sink += store.get(keys[i % KEYS])!.items.length;
        }, n);
        if (sink !== n * value.items.length) throw new Error(`${store.name}: wrong values read`);
        if (round > 0) {
          results[si].set.push(s);
          results[si].get.push(g);
        }
      });
    }
    console.log(
      `object: ${JSON.stringify(value).length} B as JSON, ${serialize(value).length} B as v8, ` +
        `${pack(value).length} B as msgpackr, ${new Packr({ useRecords: true }).pack(value).length} B with records`,
    );
    const ratios = (x: number, what: 'set' | 'get'): string =>
      `${(x / median(results[JSON_ROW][what])).toFixed(2)}x json, ` +
      `${(x / median(results[LMDB_ROW][what])).toFixed(2)}x lmdb`;
    stores.forEach((store, si) => {
      const s = median(results[si].set);
      const g = median(results[si].get);
      console.log(
        `  ${store.name.padEnd(9)} set ${s.toFixed(0).padStart(6)} ns (${ratios(s, 'set')})` +
          `   get ${g.toFixed(0).padStart(6)} ns (${ratios(g, 'get')})`,
      );
    });
  }
} finally {
  await lmdb.close();
  fs.rmSync(lmdbDir, { recursive: true, force: true });
}
