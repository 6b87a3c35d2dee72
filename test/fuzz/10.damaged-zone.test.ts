/**
 * Damaged-zone fuzz test (issue 16, item 3). A persisted dict zone is built once; each case
 * copies its bytes into a fresh segment, overwrites one to three words in one region
 * (zone header, peer table, pool header, page descriptors, dict header, index, entries, any
 * data page), and hands it to a NEW process (test/fixtures/fuzz-child.ts) that attaches,
 * uses the dict, stores and reads back a value, leaves, and runs `shmzone ls/stat/metrics/
 * verify` on it. Every outcome must be a working zone (possibly reset with a logged warning)
 * or an error with a code that docs/errors.md documents; a case that takes longer than
 * CASE_LIMIT_MS (harness.ts) is a hang and fails the test. The named seeds are the cases of the issue.
 * SHMZONE_FUZZ_SEED adds random cases from that seed (printed on failure to replay them).
 */
import { expect } from 'chai';
import fs from 'node:fs';
import { ZoneRegistry, sharedDict } from '../../src/index.js';
import {
  D_COUNT,
  D_LRU_HEAD,
  D_LRU_TAIL,
  D_MASK,
  D_TABLE,
  E_META,
  E_NEXT,
  E_PREV,
  E_VLEN,
  SLOT_WORDS,
} from '../../src/dict/layout.js';
import { L } from '../../src/slab/layout.js';
import type { SlabPool } from '../../src/slab/pool.js';
import { inspectZone } from '../../src/zone/inspect.js';
import { RUN_PREFIX } from '../helpers/shm.js';
import { judge, randomCases, runCases, type Case } from './harness.js';

const RANDOM_CASES = 400;
const BATCHES = 4;

interface Layout {
  size: number;
  regions: Record<string, [number, number]>;
  root: number;
  table: number;
  entries: number[];
  partialSlabDescNext: number;
  freeListNext: number;
}

const nsOf = (i: number): string => `${RUN_PREFIX}fz${String(i).padStart(4, '0')}`;
const fileOf = (ns: string): string => `/dev/shm/shmzone.${ns}.d`;

/** Builds the template zone (namespace of the same length as every case's) and reads it. */
async function buildTemplate(): Promise<{ bytes: Buffer; layout: Layout }> {
  const ns = nsOf(9999);
  const r = new ZoneRegistry({ namespace: ns, mode: 'standalone', persist: true });
  const d = sharedDict(r, 'd', '1m');
  await r.start();
  for (let i = 0; i < 400; i++) {
    if (i % 3 === 0) d.set(`key${i}`, i);
    else if (i % 3 === 1)
      d.set(`key${i}`, `value ${i} `.repeat(1 + (i % 7)), i % 5 === 0 ? 60_000 : 0);
    else d.set(`key${i}`, Buffer.alloc(1 + (i % 90), i));
  }
  for (let l = 0; l < 3; l++) for (let j = 0; j < 10; j++) d.rpush(`list${l}`, `e${j}`);
  for (let i = 0; i < 400; i += 7) d.delete(`key${i}`); // free chunks in partial slabs
  r.stop();
  const z = inspectZone(ns, 'd');
  const pool = z.pool as SlabPool;
  expect(pool.u8.byteOffset).to.equal(0); // pool offsets are segment offsets
  const u32 = pool.u32;
  const root = z.root;
  const hw = root / 4;
  const entries: number[] = [];
  for (let e = u32[hw + D_LRU_HEAD]; e !== 0 && entries.length < 1000; e = u32[e * 2 + E_NEXT])
    entries.push(e);
  const table = u32[hw + D_TABLE];
  const slots = u32[hw + D_MASK] + 1;
  const poolOffset = z.header!.geometry.poolOffset;
  const descStart = pool.descWord * 4;
  // The page descriptor of an entry near the LRU head: its slab is partial (deletes above).
  const page = (entries[3] * 8 - pool.dataStart) >>> 12;
  const layout: Layout = {
    size: z.summary.size,
    regions: {
      'zone header': [0, 512],
      'peer table': [512, poolOffset],
      'pool header': [poolOffset, descStart],
      descriptors: [descStart, pool.dataStart],
      'dict header': [root, root + 80],
      index: [table * 8, table * 8 + slots * SLOT_WORDS * 4],
      data: [pool.dataStart, pool.dataEnd],
    },
    root,
    table,
    entries,
    partialSlabDescNext: (pool.descWord + (pool.firstDesc + page) * L.DESC_WORDS + L.D_NEXT) * 4,
    freeListNext: (pool.freeSentinel + L.D_NEXT) * 4,
  };
  const bytes = fs.readFileSync(fileOf(ns));
  fs.rmSync(fileOf(ns));
  return { bytes, layout };
}

function seededCases(l: Layout): Case[] {
  const hw = l.root;
  const e = l.entries;
  const mid = e[Math.floor(e.length / 2)];
  return [
    { name: 'LRU link to garbage', damage: [[mid * 8 + E_NEXT * 4, 0x00ffffff]] },
    { name: 'LRU link into a cycle', damage: [[e[5] * 8 + E_NEXT * 4, e[2]]] },
    { name: 'LRU PREV link', damage: [[e[e.length - 2] * 8 + E_PREV * 4, e[e.length - 5]]] },
    { name: 'LRU_TAIL', damage: [[hw + D_LRU_TAIL * 4, 0xffffffff]] },
    { name: 'D_TABLE', damage: [[hw + D_TABLE * 4, l.table + 1]] },
    { name: 'D_TABLE outside', damage: [[hw + D_TABLE * 4, 0x7ffffff0]] },
    { name: 'D_MASK', damage: [[hw + D_MASK * 4, 0xffffffff]] },
    { name: 'D_MASK small', damage: [[hw + D_MASK * 4, 15]] },
    { name: 'COUNT', damage: [[hw + D_COUNT * 4, 0]] },
    { name: 'key length', damage: [[mid * 8 + E_META * 4, 0x0004ffff]] },
    { name: 'value length', damage: [[e[1] * 8 + E_VLEN * 4, 0x7fffffff]] },
    { name: 'slab list link (partial slab)', damage: [[l.partialSlabDescNext, 0x0fffffff]] },
    { name: 'slab list link (free pages)', damage: [[l.freeListNext, 0x12345]] },
    { name: 'every index slot ref', damage: [[l.table * 8 + 4, mid]] },
  ];
}

/** The plausible words of this zone: entry refs and offsets in 8-byte units. */
function plausible(
  l: Layout,
): [(int: (k: number) => number) => number, (int: (k: number) => number) => number] {
  return [(int) => l.entries[int(l.entries.length)], (int) => int(l.size / 8)];
}

describe('fuzz: damaged zones never hang and never throw undocumented errors', function () {
  this.timeout(600_000);
  let cases: Case[] = [];
  let template: Buffer;
  const extraSeed = process.env.SHMZONE_FUZZ_SEED;

  before(async () => {
    const t = await buildTemplate();
    template = t.bytes;
    cases = [
      ...seededCases(t.layout),
      ...randomCases(t.layout.regions, plausible(t.layout), 16, RANDOM_CASES),
      ...(extraSeed === undefined
        ? []
        : randomCases(t.layout.regions, plausible(t.layout), Number(extraSeed), 60)),
    ];
    for (let i = 0; i < cases.length; i++) {
      const bytes = Buffer.from(template);
      // The header names its namespace (same length by construction): the case's own.
      bytes.write(nsOf(i), template.subarray(0, 512).indexOf(nsOf(9999)), 'latin1');
      for (const [off, value] of cases[i].damage) bytes.writeUInt32LE(value, off);
      fs.writeFileSync(fileOf(nsOf(i)), bytes, { mode: 0o600 });
    }
  });

  after(() => {
    for (let i = 0; i < cases.length; i++) fs.rmSync(fileOf(nsOf(i)), { force: true });
  });

  it('every case: a working zone or documented error codes, within the time limit', async () => {
    const outcomes = await runCases('fuzz-child', cases, nsOf, BATCHES);
    const dump = process.env.SHMZONE_FUZZ_DUMP; // a file to write every outcome to
    if (dump !== undefined)
      fs.writeFileSync(
        dump,
        JSON.stringify(
          outcomes.map((o, i) => ({ ...o, name: cases[i].name, damage: cases[i].damage })),
        ),
      );
    const { problems, working } = judge(cases, outcomes);
    expect(
      problems,
      `${problems.length} problems${extraSeed ? ` (SHMZONE_FUZZ_SEED=${extraSeed})` : ''}`,
    ).to.deep.equal([]);
    // Most damage lands where it is detected and recovered, or is harmless.
    expect(working).to.be.above(cases.length / 2);
  });
});
