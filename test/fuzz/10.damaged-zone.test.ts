/**
 * Damaged-zone fuzz test (issue 16, item 3). A persisted dict zone is built once; each case
 * copies its bytes into a fresh segment, overwrites one to three words in one region
 * (zone header, peer table, pool header, page descriptors, dict header, index, entries, any
 * data page), and hands it to a NEW process (test/fixtures/fuzz-child.ts) that attaches,
 * uses the dict, stores and reads back a value, leaves, and runs `shmzone ls/stat/metrics/
 * verify` on it. Every outcome must be a working zone (possibly reset with a logged warning)
 * or an error with a code that docs/errors.md documents; a case that takes longer than
 * CASE_LIMIT_MS is a hang and fails the test. The named seeds are the cases of the issue.
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
import { D_NEXT, DESC_WORDS } from '../../src/slab/layout.js';
import type { SlabPool } from '../../src/slab/pool.js';
import { inspectZone } from '../../src/zone/inspect.js';
import { prng } from '../fixtures/crash-slab-lib.js';
import { RUN_PREFIX } from '../helpers/shm.js';
import { spawnFixture } from '../helpers/processes.js';

const CASE_LIMIT_MS = 5_000;
const RANDOM_CASES = 400;
const RANDOM_POOL_CASES = 200;
const BATCHES = 4;
const DOCS = new URL('../../../docs/errors.md', import.meta.url);
const SHMZONE_ERRORS = new Set([
  'ShmzoneError',
  'ShmzoneArgumentError',
  'ZoneError',
  'SegmentError',
  'SlabError',
  'SlabCorruptionError',
  'LockError',
  'DictError',
]);

/** Every code docs/errors.md documents: `ERR_*` in its tables and the errno names. */
function documentedCodes(): Set<string> {
  const text = fs.readFileSync(DOCS, 'utf8');
  return new Set([...text.matchAll(/`(E[A-Z0-9_]+)`/g)].map((m) => m[1]));
}

interface Layout {
  size: number;
  regions: Record<string, [number, number]>;
  root: number;
  table: number;
  entries: number[];
  partialSlabDescNext: number;
  freeListNext: number;
}

/** A word write: byte offset in the segment and the value. */
type Damage = Array<[number, number]>;

interface Case {
  name: string;
  damage: Damage;
}

const nsOf = (i: number, kind = 'fz'): string =>
  `${RUN_PREFIX}${kind}${String(i).padStart(4, '0')}`;
const fileOf = (ns: string, zone = 'd'): string => `/dev/shm/shmzone.${ns}.${zone}`;

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
    partialSlabDescNext: (pool.descWord + (pool.firstDesc + page) * DESC_WORDS + D_NEXT) * 4,
    freeListNext: (pool.freeSentinel + D_NEXT) * 4,
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

function randomCases(l: Layout, seed: number, n: number): Case[] {
  const rnd = prng(seed);
  const int = (k: number): number => Math.floor(rnd() * k);
  const names = Object.keys(l.regions);
  const out: Case[] = [];
  for (let c = 0; c < n; c++) {
    const region = names[c % names.length];
    const [start, end] = l.regions[region];
    const damage: Damage = [];
    for (let k = 1 + int(3); k > 0; k--) {
      const off = (start + int(end - start)) & ~3;
      const pick = int(6);
      const value =
        pick === 0
          ? 0
          : pick === 1
            ? 0xffffffff
            : pick === 2
              ? l.entries[int(l.entries.length)]
              : pick === 3
                ? int(l.size / 8)
                : (rnd() * 4294967296) >>> 0;
      damage.push([off, value]);
    }
    out.push({ name: `seed ${seed} #${c} (${region})`, damage });
  }
  return out;
}

interface Outcome {
  event: 'done';
  i: number;
  started: boolean;
  works: boolean;
  /** Lines the registry logged (a reset logs one). */
  logs: number;
  failures: Array<{ op: string; name: string; code?: string; message: string }>;
  commands: Record<string, { exit: number; code?: string }>;
}

/** Runs `cases` (indices into `all`) in one child; resolves with its outcomes. */
async function runBatch(
  all: Case[],
  first: number,
  count: number,
  fixture = 'fuzz-child',
  kind = 'fz',
): Promise<Outcome[]> {
  const namespaces = Array.from({ length: count }, (_, k) => nsOf(first + k, kind));
  const p = spawnFixture(fixture, [JSON.stringify(namespaces)]);
  p.child.stdin!.end();
  let hung: string | undefined;
  const watchdog = setInterval(() => {
    const started = p.lines.filter((x) => x.event === 'case');
    const last = started[started.length - 1] as { i: number; at?: number } | undefined;
    if (last === undefined) return;
    last.at ??= Date.now();
    if (
      Date.now() - last.at > CASE_LIMIT_MS &&
      !p.lines.some((x) => x.event === 'done' && x.i === last.i)
    ) {
      hung = all[first + last.i].name;
      p.child.kill('SIGKILL');
    }
  }, 100);
  const exit = await p.exited;
  clearInterval(watchdog);
  if (hung !== undefined) throw new Error(`case "${hung}" took over ${CASE_LIMIT_MS} ms (a hang)`);
  expect(exit.code, p.stderr()).to.equal(0);
  return p.lines.filter((x) => x.event === 'done') as unknown as Outcome[];
}

/** Problems in `outcomes` (undocumented errors, started but not working, bad CLI exits). */
function judge(cases: Case[], outcomes: Outcome[]): { problems: string[]; working: number } {
  const documented = documentedCodes();
  const problems: string[] = [];
  let working = 0;
  for (let i = 0; i < cases.length; i++) {
    const o = outcomes[i];
    const where = `case "${cases[i].name}"`;
    for (const f of o.failures) {
      if (!SHMZONE_ERRORS.has(f.name) || f.code === undefined || !documented.has(f.code))
        problems.push(`${where}: ${f.op} threw ${f.name} ${f.code ?? '(no code)'}: ${f.message}`);
    }
    if (o.started && !o.works) problems.push(`${where}: started, but did not work afterwards`);
    if (o.works) working++;
    for (const [cmd, r] of Object.entries(o.commands)) {
      if (r.exit !== 0 && r.exit !== 1) problems.push(`${where}: shmzone ${cmd} exited ${r.exit}`);
      if (r.code !== undefined && !documented.has(r.code))
        problems.push(`${where}: shmzone ${cmd} failed with undocumented ${r.code}`);
    }
  }
  return { problems, working };
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
      ...randomCases(t.layout, 16, RANDOM_CASES),
      ...(extraSeed === undefined ? [] : randomCases(t.layout, Number(extraSeed), 60)),
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
    const per = Math.ceil(cases.length / BATCHES);
    const outcomes: Outcome[] = [];
    for (let first = 0; first < cases.length; first += per)
      outcomes.push(...(await runBatch(cases, first, Math.min(per, cases.length - first))));
    expect(outcomes).to.have.length(cases.length);
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

// ---------------------------------------------------------------------- pool-only zones

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
  const ns = nsOf(9999, 'fp');
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
    const info = pool.u32[D + d * DESC_WORDS];
    if ((info & 0xf) !== 4) continue; // T_SLAB heads only
    const c = (info >>> 4) & 0xff;
    const bw = pool.classes.bitmapWords[c];
    for (let k = 0; k < bw; k++) bitmapWords.push(pool.dataStart + p * 4096 + k * 4);
  }
  expect(bitmapWords.length).to.be.above(0);
  const poolOffset = pool.byteOffset;
  const descStart = D * 4;
  const layout: PoolLayout = {
    regions: {
      'pool header': [poolOffset, poolOffset + 128],
      'list sentinels': [descStart + DESC_WORDS * 4, descStart + pool.firstDesc * DESC_WORDS * 4],
      'page descriptors': [
        descStart + pool.firstDesc * DESC_WORDS * 4,
        descStart + (pool.firstDesc + pool.pagesTotal) * DESC_WORDS * 4,
      ],
      'chunk bitmaps': [0, 0], // one of bitmapWords
    },
    bitmapWords,
    firstDesc: pool.firstDesc,
    pagesTotal: pool.pagesTotal,
    descStart,
    freeSentinel: pool.freeSentinel,
    sentinelOf100: pool.classes.byEighth[(100 + 7) >>> 3] + 1,
  };
  r.stop();
  const bytes = fs.readFileSync(fileOf(ns, 'p'));
  fs.rmSync(fileOf(ns, 'p'));
  return { bytes, layout };
}

function poolSeededCases(l: PoolLayout, bytes: Buffer): Case[] {
  const desc = (d: number, field: number): number => l.descStart + (d * DESC_WORDS + field) * 4;
  const bigHead = bytes.readUInt32LE(desc(l.freeSentinel, D_NEXT));
  expect(bigHead).to.not.equal(l.freeSentinel); // the template keeps a run of >= 32 pages
  const pastEnd = l.firstDesc + l.pagesTotal + 5;
  return [
    { name: 'pool: free-list cycle', damage: [[desc(bigHead, D_NEXT), bigHead]] },
    { name: 'pool: out-of-range page link', damage: [[desc(bigHead, D_NEXT), pastEnd]] },
    {
      name: 'pool: class list head out of range',
      damage: [[desc(l.sentinelOf100, D_NEXT), 0x0fffffff]],
    },
    {
      name: 'pool: free-bin head out of range',
      damage: [
        [l.regions['pool header'][0] + 21 * 4, 0xffffffff], // H_FREE_BIN_MASK: every bin
        [desc(l.freeSentinel + 2, D_NEXT), pastEnd], // alloc(5000) takes 2 pages
      ],
    },
    { name: 'pool: big free run length', damage: [[desc(bigHead, 1), 0x7fffffff]] },
    { name: 'pool: chunk bitmap all ones', damage: [[l.bitmapWords[0], 0xffffffff]] },
    { name: 'pool: journal count', damage: [[l.regions['pool header'][0] + 6 * 4, 0xffff]] },
  ];
}

function poolRandomCases(l: PoolLayout, seed: number, n: number): Case[] {
  const rnd = prng(seed);
  const int = (k: number): number => Math.floor(rnd() * k);
  const names = Object.keys(l.regions);
  const out: Case[] = [];
  for (let c = 0; c < n; c++) {
    const region = names[c % names.length];
    const [start, end] = l.regions[region];
    const damage: Damage = [];
    for (let k = 1 + int(3); k > 0; k--) {
      const off =
        region === 'chunk bitmaps'
          ? l.bitmapWords[int(l.bitmapWords.length)]
          : (start + int(end - start)) & ~3;
      const pick = int(6);
      const value =
        pick === 0
          ? 0
          : pick === 1
            ? 0xffffffff
            : pick === 2
              ? l.firstDesc + int(l.pagesTotal + 8) // a page link, sometimes past the end
              : pick === 3
                ? 1 + int(l.firstDesc) // a sentinel
                : pick === 4
                  ? int(64) // a small length or count
                  : (rnd() * 4294967296) >>> 0;
      damage.push([off, value]);
    }
    out.push({ name: `pool seed ${seed} #${c} (${region})`, damage });
  }
  return out;
}

describe('fuzz: damaged pool-only zones (zone.pool without a dict)', function () {
  this.timeout(600_000);
  let cases: Case[] = [];
  const extraSeed = process.env.SHMZONE_FUZZ_SEED;

  before(async () => {
    const t = await buildPoolTemplate();
    cases = [
      ...poolSeededCases(t.layout, t.bytes),
      ...poolRandomCases(t.layout, 16, RANDOM_POOL_CASES),
      ...(extraSeed === undefined ? [] : poolRandomCases(t.layout, Number(extraSeed), 60)),
    ];
    const at = t.bytes.subarray(0, 512).indexOf(nsOf(9999, 'fp'));
    for (let i = 0; i < cases.length; i++) {
      const bytes = Buffer.from(t.bytes);
      bytes.write(nsOf(i, 'fp'), at, 'latin1');
      for (const [off, value] of cases[i].damage) bytes.writeUInt32LE(value, off);
      fs.writeFileSync(fileOf(nsOf(i, 'fp'), 'p'), bytes, { mode: 0o600 });
    }
  });

  after(() => {
    for (let i = 0; i < cases.length; i++) fs.rmSync(fileOf(nsOf(i, 'fp'), 'p'), { force: true });
  });

  it('alloc/free/stats/verify from a new process: a working pool or documented codes, no hang', async () => {
    const per = Math.ceil(cases.length / 2);
    const outcomes: Outcome[] = [];
    for (let first = 0; first < cases.length; first += per) {
      const count = Math.min(per, cases.length - first);
      outcomes.push(...(await runBatch(cases, first, count, 'fuzz-pool-child', 'fp')));
    }
    expect(outcomes).to.have.length(cases.length);
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
