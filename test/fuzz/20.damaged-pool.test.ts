/**
 * Damaged pool-only zones (issue 16, item 1, slab side): a zone used through `zone.pool`
 * without a dict is filled once (chunks of in-page and MAP-bitmap classes, page runs, frees
 * that leave partial slabs and free runs of several lengths); each case copies its bytes into
 * a fresh segment, overwrites one to three words of the slab header, the list sentinels, the
 * page descriptors or the chunk bitmaps, and hands it to a NEW process
 * (test/fixtures/fuzz-pool-child.ts) that runs alloc/free/stats/verify over it, then checks
 * that a chunk and a page run can still be allocated and freed. Every outcome must be a
 * working pool (possibly reset EMPTY, logged) or an error with a documented code, each case
 * within the harness's time limit. The named seeds include a free-list cycle and an
 * out-of-range page link. SHMZONE_FUZZ_SEED adds random cases from that seed.
 */
import { expect } from 'chai';
import fs from 'node:fs';
import { ZoneRegistry } from '../../src/index.js';
import { L } from '../../src/slab/layout.js';
import { prng } from '../fixtures/crash-slab-lib.js';
import { RUN_PREFIX } from '../helpers/shm.js';
import { judge, randomCases, runCases, type Case, type Outcome } from './harness.js';

const RANDOM_CASES = 200;

/** The child also reports how many lines the registry logged (a reset logs one). */
interface PoolOutcome extends Outcome {
  logs: number;
}

const nsOf = (i: number): string => `${RUN_PREFIX}fp${String(i).padStart(4, '0')}`;
const fileOf = (ns: string): string => `/dev/shm/shmzone.${ns}.p`;

interface PoolLayout {
  regions: Record<string, [number, number]>;
  /** Byte offsets of the in-page bitmap words of slabs of the small classes. */
  bitmapWords: number[];
  firstDesc: number;
  pagesTotal: number;
  descStart: number;
  freeSentinel: number;
  /** Sentinel descriptor of the class list that alloc(100) takes from. */
  sentinelOf100: number;
}

/** A zone without a dict, filled through `zone.pool`; returns its bytes and where things are. */
async function buildPoolTemplate(): Promise<{ bytes: Buffer; layout: PoolLayout }> {
  const ns = nsOf(9999);
  const r = new ZoneRegistry({ namespace: ns, mode: 'standalone', persist: true });
  const zone = r.add('p', '1m');
  await r.start();
  const pool = zone.pool;
  const held: number[] = [];
  const sizes = [8, 16, 40, 64, 100, 200, 700, 1500, 2048, 6000, 13_000];
  for (let i = 0; i < 300; i++) held.push(pool.alloc(sizes[i % sizes.length]));
  for (let i = 0; i < held.length; i += 3) pool.free(held[i]); // partial slabs, free runs
  pool.verify();
  const D = pool.descWord;
  const bitmapWords: number[] = [];
  for (let p = 0; p < pool.pagesTotal; p++) {
    const d = pool.firstDesc + p;
    const info = pool.u32[D + d * L.DESC_WORDS];
    if ((info & L.TYPE_MASK) !== L.T_SLAB) continue;
    const c = (info >>> L.CLASS_SHIFT) & L.CLASS_MASK;
    const bw = pool.classes.bitmapWords[c];
    for (let k = 0; k < bw; k++) bitmapWords.push(pool.dataStart + p * 4096 + k * 4);
  }
  expect(bitmapWords.length).to.be.above(0);
  const poolOffset = pool.byteOffset;
  const descStart = D * 4;
  const layout: PoolLayout = {
    regions: {
      'pool header': [poolOffset, poolOffset + L.HEADER_WORDS * 4],
      'list sentinels': [
        descStart + L.DESC_WORDS * 4,
        descStart + pool.firstDesc * L.DESC_WORDS * 4,
      ],
      'page descriptors': [
        descStart + pool.firstDesc * L.DESC_WORDS * 4,
        descStart + (pool.firstDesc + pool.pagesTotal) * L.DESC_WORDS * 4,
      ],
    },
    bitmapWords,
    firstDesc: pool.firstDesc,
    pagesTotal: pool.pagesTotal,
    descStart,
    freeSentinel: pool.freeSentinel,
    sentinelOf100: pool.classes.byEighth[(100 + 7) >>> 3] + 1,
  };
  r.stop();
  const bytes = fs.readFileSync(fileOf(ns));
  fs.rmSync(fileOf(ns));
  return { bytes, layout };
}

function poolSeededCases(l: PoolLayout, bytes: Buffer): Case[] {
  const desc = (d: number, field: number): number => l.descStart + (d * L.DESC_WORDS + field) * 4;
  const bigHead = bytes.readUInt32LE(desc(l.freeSentinel, L.D_NEXT));
  expect(bigHead).to.not.equal(l.freeSentinel); // the template keeps a run of >= 32 pages
  const pastEnd = l.firstDesc + l.pagesTotal + 5;
  return [
    { name: 'pool: free-list cycle', damage: [[desc(bigHead, L.D_NEXT), bigHead]] },
    { name: 'pool: out-of-range page link', damage: [[desc(bigHead, L.D_NEXT), pastEnd]] },
    {
      name: 'pool: class list head out of range',
      damage: [[desc(l.sentinelOf100, L.D_NEXT), 0x0fffffff]],
    },
    {
      name: 'pool: free-bin head out of range',
      damage: [
        [l.regions['pool header'][0] + L.H_FREE_BIN_MASK * 4, 0xffffffff], // every bin
        [desc(l.freeSentinel + 2, L.D_NEXT), pastEnd], // alloc(5000) takes 2 pages
      ],
    },
    { name: 'pool: big free run length', damage: [[desc(bigHead, L.D_MAP), 0x7fffffff]] },
    { name: 'pool: chunk bitmap all ones', damage: [[l.bitmapWords[0], 0xffffffff]] },
    {
      name: 'pool: journal count',
      damage: [[l.regions['pool header'][0] + L.H_JOURNAL_COUNT * 4, 0xffff]],
    },
  ];
}

/**
 * Random damage: the harness's cases over the slab header, list sentinels and page
 * descriptors (a plausible word is a page link, sometimes past the end, or a small length),
 * plus cases that write into the in-page chunk bitmaps.
 */
function poolRandomCases(l: PoolLayout, seed: number, n: number): Case[] {
  const link = (int: (k: number) => number): number => l.firstDesc + int(l.pagesTotal + 8);
  const small = (int: (k: number) => number): number => int(64);
  const cases = randomCases(l.regions, [link, small], seed, n - Math.floor(n / 4));
  const rnd = prng(seed + 1);
  for (let c = cases.length; c < n; c++) {
    const word = l.bitmapWords[Math.floor(rnd() * l.bitmapWords.length)];
    const value = rnd() < 0.3 ? 0xffffffff : (rnd() * 4294967296) >>> 0;
    cases.push({ name: `seed ${seed} #${c} (chunk bitmap)`, damage: [[word, value]] });
  }
  return cases;
}

describe('fuzz: damaged pool-only zones (zone.pool without a dict)', function () {
  this.timeout(600_000);
  let cases: Case[] = [];
  const extraSeed = process.env.SHMZONE_FUZZ_SEED;

  before(async () => {
    const t = await buildPoolTemplate();
    cases = [
      ...poolSeededCases(t.layout, t.bytes),
      ...poolRandomCases(t.layout, 16, RANDOM_CASES),
      ...(extraSeed === undefined ? [] : poolRandomCases(t.layout, Number(extraSeed), 60)),
    ];
    const at = t.bytes.subarray(0, 512).indexOf(nsOf(9999));
    for (let i = 0; i < cases.length; i++) {
      const bytes = Buffer.from(t.bytes);
      bytes.write(nsOf(i), at, 'latin1');
      for (const [off, value] of cases[i].damage) bytes.writeUInt32LE(value, off);
      fs.writeFileSync(fileOf(nsOf(i)), bytes, { mode: 0o600 });
    }
  });

  after(() => {
    for (let i = 0; i < cases.length; i++) fs.rmSync(fileOf(nsOf(i)), { force: true });
  });

  it('alloc/free/stats/verify from a new process: a working pool or documented codes, no hang', async () => {
    const outcomes = (await runCases('fuzz-pool-child', cases, nsOf, 2)) as PoolOutcome[];
    const { problems, working } = judge(cases, outcomes);
    expect(
      problems,
      `${problems.length} problems${extraSeed ? ` (SHMZONE_FUZZ_SEED=${extraSeed})` : ''}`,
    ).to.deep.equal([]);
    // The seeded cases all land on a path that detects them: a logged reset, or (a bitmap
    // that only disagrees with its count) verify() reporting it.
    for (let i = 0; i < 7; i++) {
      const codes = outcomes[i].failures.map((f) => f.code);
      expect(
        outcomes[i].logs > 0 || codes.includes('ERR_SLAB_CORRUPT'),
        `${cases[i].name}: ${JSON.stringify(outcomes[i])}`,
      ).to.equal(true);
    }
    expect(working).to.be.above(cases.length / 2);
  });
});
