/**
 * Deterministic crash points of the thread caches' locked paths (as test/crash/20 does for
 * alloc() and free() without caches): a child whose 64 B bin is empty (refill) or full
 * (flush) SIGKILLs itself after the k-th journaled store of one alloc() or free(), for every
 * k until the call completes. After each crash this process takes the lock over and must
 * find every store undone, no reset, verify() passing, and the pool's structure (header,
 * class counts, descriptors, in-page bitmaps, the cache directory and blocks) as it was
 * before the call. Chunk payloads are left out: a refill's tags are plain stores into chunks
 * the rollback frees again (src/slab/cache.ts, refillLocked).
 */
import { expect } from 'chai';
import { ZoneRegistry } from '../../src/index.js';
import type { RecoveryReport } from '../../src/slab/api.js';
import { C } from '../../src/slab/cache-layout.js';
import { L } from '../../src/slab/layout.js';
import { K } from '../../src/slab/sizeclass.js';
import type { SlabPool } from '../../src/slab/pool.js';
import { uniqueNamespace } from '../helpers/shm.js';
import { takeOverAndVerify } from './util.js';
import { killAllFixtures, spawnFixture } from '../helpers/processes.js';

// 4 MiB: the 64 B bin may hold CAP_MAX chunks (the byte budget is the pool's length / 512).
const SIZE = 4 * 1024 * 1024;
const STRUCTURAL_HEADER = [
  L.H_GENERATION,
  L.H_PAGES_FREE,
  L.H_FREE_BIN_MASK,
  L.H_CACHE_DIR,
  L.H_JOURNAL_COUNT,
];

/** Words of `pool` that say what is allocated and what is cached, as one string. */
function structure(pool: SlabPool): string {
  const u32 = pool.u32;
  const parts: number[] = STRUCTURAL_HEADER.map((h) => u32[pool.base + h]);
  for (let c = 0; c < pool.classes.n; c++) {
    parts.push(u32[pool.statsWord + c * L.STAT_WORDS + L.S_TOTAL]);
    parts.push(u32[pool.statsWord + c * L.STAT_WORDS + L.S_USED]);
  }
  for (let p = 0; p < pool.pagesTotal; p++) {
    const d = pool.descWord + (pool.firstDesc + p) * L.DESC_WORDS;
    for (let w = 0; w < L.DESC_WORDS; w++) parts.push(u32[d + w]);
    const info = u32[d + L.D_INFO];
    const start = (pool.dataStart + p * L.PAGE_SIZE) >>> 2;
    if ((info & L.TYPE_MASK) === L.T_SLAB) {
      const c = (info >>> L.CLASS_SHIFT) & L.CLASS_MASK;
      const words = pool.ct[c * K.K_STRIDE + K.K_BITMAP_WORDS];
      for (let w = 0; w < words; w++) parts.push(u32[start + w]);
    }
  }
  const dir = u32[pool.base + L.H_CACHE_DIR];
  if (dir !== 0) {
    for (let s = 0; s < C.DIR_SLOTS; s++) {
      const blk = u32[(dir >>> 2) + s];
      parts.push(blk);
      if (blk === 0) continue;
      const words = (C.BLOCK_PAGES * L.PAGE_SIZE) / 4;
      for (let w = 0; w < words; w++) parts.push(u32[(blk >>> 2) + w]);
    }
  }
  return parts.join(',');
}

interface Point {
  died: boolean;
  writes?: number;
  before: string;
  after: string;
  report?: RecoveryReport;
  verifyError?: string;
}

async function cachePoint(scenario: string, k: number): Promise<Point> {
  const ns = uniqueNamespace('cptc');
  const reg = new ZoneRegistry({ namespace: ns, mode: 'owner', log: () => {} });
  const zone = reg.add('z', SIZE, { tag: 'crash-point', pool: { threadCache: false } });
  await reg.start();
  try {
    const pool = zone.pool;
    let report: RecoveryReport | undefined;
    pool.onRecovery((r) => (report = r));
    const env = { ...process.env, SHMZONE_CRASH_AT: String(k) };
    const child = spawnFixture(
      'crash-cache-child',
      [JSON.stringify({ ns, size: SIZE, scenario })],
      env,
    );
    await child.waitFor('warm', 20_000);
    const before = structure(pool);
    child.child.stdin!.write('go\n');
    const exit = await child.exited;
    const died = exit.signal === 'SIGKILL';
    if (!died) expect(exit.code, child.stderr()).to.equal(0);
    const verifyError = takeOverAndVerify(pool);
    const done = child.lines.find((l) => l.event === 'done');
    return {
      died,
      writes: done?.writes as number | undefined,
      before,
      after: structure(pool),
      report,
      verifyError,
    };
  } finally {
    reg.stop();
  }
}

// Debug mode turns the caches off.
(process.env.SHMZONE_DEBUG === '1' ? describe.skip : describe)(
  'crash: every journaled store of a thread cache refill or flush',
  function () {
    this.timeout(300_000);
    afterEach(killAllFixtures);

    for (const scenario of ['refill', 'flush']) {
      it(`${scenario}: every crash point rolls back to the state before the call`, async () => {
        let k = 1;
        for (; ; k++) {
          expect(k, 'a refill or flush fits the journal').to.be.at.most(L.JOURNAL_CAPACITY);
          const r = await cachePoint(scenario, k);
          if (!r.died) {
            expect(r.writes, 'the completed run reports its store count').to.equal(k - 1);
            expect(r.after, 'the completed call changed the structure').to.not.equal(r.before);
            break;
          }
          expect(r.report, `k=${k}: the parent took the lock over`).to.not.equal(undefined);
          expect(r.report!.reset, `k=${k}: no reset (${r.report!.reason})`).to.equal(false);
          expect(r.report!.undone, `k=${k}: every journaled store undone`).to.be.within(k, k + 3);
          expect(r.verifyError, `k=${k}`).to.equal(undefined);
          expect(r.after === r.before, `k=${k}: the structure before the call`).to.equal(true);
        }
        // A refill or flush of half a 32-entry bin moves 16 blocks: a journaled store for each
        // (its stack entry, or its mark), besides the bitmap words they share.
        expect(k - 1, 'the call makes a batch of journaled stores').to.be.greaterThan(16);
        console.log(`      ${scenario}: ${k - 1} crash points`);
      });
    }
  },
);
