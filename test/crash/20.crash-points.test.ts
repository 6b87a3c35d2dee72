/**
 * Deterministic crash points (docs/specs/reliability.md anchor test 2, SQLite's crash tests): for each
 * operation below, a child process SIGKILLs itself right after its k-th journaled store, for
 * k = 1, 2, ... until the operation completes; so every store index of every operation is a
 * crash point once. After each crash this (parent) process takes the lock over from the dead
 * child and must find:
 * - a recovery report with every store undone (slab ops) and no reset;
 * - verify() passing;
 * - the structure equal to the state BEFORE the operation (or after it): page descriptors,
 *   class totals/used, free pages, and the bytes of every page that was in use (in-page
 *   bitmaps, live payloads). For the dict: every key holds its old value, the new key holds
 *   nothing or its complete new value, and only keys the completed operation evicted may be
 *   gone (the dict commits after each eviction step, as designed). A same-size overwrite in a
 *   full dict, written in place (src/dict/overwrite.ts), leaves the key old or new and
 *   every other key as it was.
 * Then the journal is proved to matter: the same sweep with the journal count zeroed before
 * the kill (SHMZONE_CRASH_NOJOURNAL=1) must leave some k unrepairable.
 */
import { expect } from 'chai';
import { ZoneRegistry, type Zone } from '../../src/index.js';
import { sharedDict, type SharedDict } from '../../src/dict/index.js';
import type { RecoveryReport } from '../../src/slab/api.js';
import type { SlabPool } from '../../src/slab/pool.js';
import { L } from '../../src/slab/layout.js';
import { uniqueNamespace } from '../helpers/shm.js';
import { takeOverAndVerify } from './util.js';
import { killAllFixtures, runFixture } from '../helpers/processes.js';

const SIZE = 256 * 1024;
const VOLATILE_HEADER = new Set([
  L.H_LOCK,
  L.H_SLEEPERS,
  L.H_SLEEPERS + 1,
  L.H_SLEEPERS + 2,
  L.H_SLEEPERS + 3,
  L.H_JOURNAL_COUNT,
  L.H_PAGE_REQS,
  L.H_PAGE_FAILS,
  L.H_LOCK_ACQUISITIONS,
  L.H_LOCK_CONTENDED,
  L.H_LOCK_SPINS,
  L.H_LOCK_SLEEPS,
  L.H_LOCK_RECOVERIES,
]);

/** Pages in use (not in a free run) according to the descriptors. */
function usedPages(pool: SlabPool): number[] {
  const out: number[] = [];
  const u32 = pool.u32;
  for (let p = 0; p < pool.pagesTotal;) {
    const d = pool.descWord + (pool.firstDesc + p) * L.DESC_WORDS;
    if ((u32[d + L.D_INFO] & 0xf) === L.T_FREE) {
      p += u32[d + L.D_MAP];
    } else {
      out.push(p);
      p++;
    }
  }
  return out;
}

/** The pool's structure: header (minus lock/statistics words), class total/used, every descriptor, bytes of `pages`. */
function snapshot(pool: SlabPool, pages: number[]): string {
  const u32 = pool.u32;
  const parts: number[] = [];
  for (let h = 0; h < L.HEADER_WORDS; h++)
    if (!VOLATILE_HEADER.has(h)) parts.push(u32[pool.base + h]);
  for (let k = 0; k < pool.classes.n; k++) {
    parts.push(
      u32[pool.statsWord + k * L.STAT_WORDS + L.S_TOTAL],
      u32[pool.statsWord + k * L.STAT_WORDS + L.S_USED],
    );
  }
  const descEnd = pool.descWord + (pool.firstDesc + pool.pagesTotal) * L.DESC_WORDS;
  const desc = Buffer.from(u32.buffer, pool.descWord * 4, (descEnd - pool.descWord) * 4).toString(
    'base64',
  );
  const data = pages
    .map((p) =>
      Buffer.from(pool.u8.buffer, pool.dataStart + p * L.PAGE_SIZE, L.PAGE_SIZE).toString('base64'),
    )
    .join('|');
  return `${parts.join(',')}#${desc}#${data}`;
}

interface SlabScenario {
  name: string;
  /** Builds the state before the operation; returns the operation for the child. */
  setup(pool: SlabPool): { kind: 'alloc'; size: number } | { kind: 'free'; off: number };
}

const scenarios: SlabScenario[] = [
  {
    name: 'alloc small (8 B) into an existing slab (in-page bitmap)',
    setup: (p) => (p.alloc(8), p.alloc(8), { kind: 'alloc', size: 8 }),
  },
  {
    name: 'alloc small (8 B) that creates a slab (page split)',
    setup: () => ({ kind: 'alloc', size: 8 }),
  },
  {
    name: 'alloc exact (128 B, bitmap in the descriptor)',
    setup: () => ({ kind: 'alloc', size: 128 }),
  },
  {
    name: 'alloc big chunk (3000 B)',
    setup: (p) => (p.alloc(3000), { kind: 'alloc', size: 3000 }),
  },
  {
    name: 'alloc page run (3 pages, splitting the free run)',
    setup: () => ({ kind: 'alloc', size: 3 * L.PAGE_SIZE }),
  },
  {
    name: 'alloc page run that exactly fits a free hole',
    setup: (p) => {
      const a = p.alloc(2 * L.PAGE_SIZE);
      p.alloc(L.PAGE_SIZE);
      p.free(a);
      return { kind: 'alloc', size: 2 * L.PAGE_SIZE };
    },
  },
  {
    name: 'free a chunk (slab stays)',
    setup: (p) => (p.alloc(40), { kind: 'free', off: p.alloc(40) }),
  },
  {
    name: 'free the last chunk of a full exact slab (slab freed, joins free neighbours on both sides)',
    setup: (p) => {
      const r1 = p.alloc(2 * L.PAGE_SIZE);
      const chunks: number[] = [];
      for (let i = 0; i < 32; i++) chunks.push(p.alloc(128)); // one full 32-chunk slab page
      const r2 = p.alloc(2 * L.PAGE_SIZE);
      p.alloc(L.PAGE_SIZE); // keeps r2's right side from the tail run
      p.free(r1);
      p.free(r2);
      for (const c of chunks.slice(1)) p.free(c);
      return { kind: 'free', off: chunks[0] };
    },
  },
  {
    name: 'free a page run (coalesces with both neighbours)',
    setup: (p) => {
      const a = p.alloc(2 * L.PAGE_SIZE);
      const b = p.alloc(2 * L.PAGE_SIZE);
      const c = p.alloc(L.PAGE_SIZE);
      p.alloc(L.PAGE_SIZE);
      p.free(a);
      p.free(c);
      return { kind: 'free', off: b };
    },
  },
];

/** Creates the zone, runs setup, lets the child run with the crash point, recovers. */
async function slabPoint(
  s: SlabScenario,
  k: number,
  noJournal: boolean,
): Promise<{
  died: boolean;
  writes?: number;
  before: string;
  state: string;
  report?: RecoveryReport;
  verifyError?: string;
}> {
  const ns = uniqueNamespace('cpt');
  const reg = new ZoneRegistry({ namespace: ns, mode: 'owner', log: () => {} });
  // The setup builds exact page layouts: no thread cache may keep a freed block.
  const zone: Zone = reg.add('z', SIZE, { tag: 'crash-point', pool: { threadCache: false } });
  await reg.start();
  try {
    const pool = zone.pool;
    const op = s.setup(pool);
    pool.verify();
    const pages = usedPages(pool);
    const before = snapshot(pool, pages);
    let report: RecoveryReport | undefined;
    pool.onRecovery((r) => (report = r));
    const env = {
      ...process.env,
      SHMZONE_CRASH_AT: String(k),
      SHMZONE_CRASH_NOJOURNAL: noJournal ? '1' : '0',
    };
    const r = await runFixture('crash-point-child', [JSON.stringify({ ns, size: SIZE, op })], {
      timeoutMs: 30_000,
      env,
    });
    const died = r.signal === 'SIGKILL';
    if (!died) expect(r.code, r.stderr).to.equal(0);
    const verifyError = takeOverAndVerify(pool);
    const done = r.lines.find((l) => l.event === 'done');
    return {
      died,
      writes: done?.writes as number | undefined,
      before,
      state: snapshot(pool, pages),
      report,
      verifyError,
    };
  } finally {
    reg.stop();
  }
}

/** What one run of a dict set killed at its k-th journaled write left behind. */
interface DictCrashPoint {
  /** Every key and value before the child ran. */
  before: Map<string, string>;
  /** Every key and value after the parent took the lock over (pool and dict verified). */
  state: Map<string, string>;
  /** The child's `done` line when it was not killed (k past its last write). */
  done: { result: number; writes: number } | undefined;
}

const DICT_SIZE = 128 * 1024;

/**
 * A fresh owner-mode dict filled by `fill`, then a crash-point-child running `op` with
 * SHMZONE_CRASH_AT=k. Checks what holds at every crash point: the child either completed or
 * was SIGKILLed, the parent's next lock took the dead writer's lock over without a reset,
 * the pool and the dict verify, and the entry count matches the keys.
 */
async function dictSetCrashPoint(
  k: number,
  fill: (dict: SharedDict) => void,
  op: { kind: 'dict-set'; key: string; value: string; safe?: boolean },
): Promise<DictCrashPoint> {
  const ns = uniqueNamespace('cptd');
  const reg = new ZoneRegistry({ namespace: ns, mode: 'owner', log: () => {} });
  const dict: SharedDict = sharedDict(reg, 'd', DICT_SIZE);
  await reg.start();
  try {
    fill(dict);
    const before = new Map<string, string>();
    for (const key of dict.keys(0)) before.set(key, dict.get(key) as string);
    const pool = dict.core.pool as SlabPool;
    let report: RecoveryReport | undefined;
    pool.onRecovery((r) => (report = r));
    const r = await runFixture('crash-point-child', [JSON.stringify({ ns, size: DICT_SIZE, op })], {
      timeoutMs: 30_000,
      env: { ...process.env, SHMZONE_CRASH_AT: String(k) },
    });
    const state = new Map<string, string>();
    for (const key of dict.keys(0)) state.set(key, dict.get(key) as string); // takes the lock: takeover
    pool.lock();
    try {
      pool.verify();
    } finally {
      pool.unlock();
    }
    dict.verify();
    expect(dict.stats().entries, `k=${k}: entry count matches the keys`).to.equal(state.size);
    if (r.signal !== 'SIGKILL') {
      expect(r.code, r.stderr).to.equal(0);
      const done = r.lines.find((l) => l.event === 'done')!;
      expect(done.writes, JSON.stringify(r.lines)).to.be.a('number');
      return { before, state, done: done as unknown as DictCrashPoint['done'] };
    }
    expect(report, `k=${k}: the parent took the lock over`).to.not.equal(undefined);
    expect(report!.reset, `k=${k}: no reset`).to.equal(false);
    return { before, state, done: undefined };
  } finally {
    reg.stop();
  }
}

describe('crash: deterministic crash points after every journaled store', function () {
  this.timeout(180_000);
  afterEach(killAllFixtures);

  const sweeps: string[] = [];
  after(() => console.log(`      crash points: ${sweeps.join('; ')}`));

  for (const s of scenarios) {
    it(`${s.name}: every crash point rolls back to the state before`, async () => {
      let k = 1;
      for (; ; k++) {
        expect(
          k,
          'an operation cannot need more journaled stores than L.MAX_OP_WRITES',
        ).to.be.at.most(L.MAX_OP_WRITES + 1);
        const r = await slabPoint(s, k, false);
        if (!r.died) {
          expect(r.writes, 'the completed run reports its store count').to.equal(k - 1);
          expect(r.state, 'the completed operation changed the structure').to.not.equal(r.before);
          break;
        }
        expect(r.report, `k=${k}: the parent took the lock over from the dead child`).to.not.equal(
          undefined,
        );
        expect(r.report!.reset, `k=${k}: repair needed no reset (${r.report!.reason})`).to.equal(
          false,
        );
        // Every journaled store made is undone; list updates journal their 2 or 4 entries
        // before the first of their stores (jw2/jw4), so up to 3 more entries may be counted.
        expect(r.report!.undone, `k=${k}: every journaled store undone`).to.be.within(k, k + 3);
        expect(r.verifyError, `k=${k}`).to.equal(undefined);
        expect(
          r.state === r.before,
          `k=${k}: structure after recovery equals the state before the operation`,
        ).to.equal(true);
      }
      expect(k - 1, 'the operation makes journaled stores').to.be.greaterThan(0);
      sweeps.push(`${s.name.split(' (')[0]} ${k - 1}`);
    });
  }

  it('without the journal (count zeroed before the kill) some crash point breaks the pool', async () => {
    // The slab split + list insert of a new slab and the coalescing free: the operations with
    // the most stores. Without undo entries, recovery can only recount and verify.
    const picked = [scenarios[1], scenarios[7], scenarios[8]];
    let broken = 0;
    let points = 0;
    for (const s of picked) {
      for (let k = 1; k <= 32; k++) {
        const r = await slabPoint(s, k, true);
        if (!r.died) break;
        points++;
        const bad = r.report?.reset === true || r.verifyError !== undefined;
        if (bad) broken++;
      }
    }
    console.log(
      `      without the journal: ${broken} of ${points} crash points left a pool that failed verify() (reset)`,
    );
    expect(points).to.be.greaterThan(10);
    expect(broken, 'the journal is what makes these crash points recoverable').to.be.greaterThan(0);
  });

  it('dict set that evicts: every crash point leaves old values, and the new key old-or-new', async function () {
    const value = (i: number): string => `v${String(i).padStart(4, '0')}:` + 'x'.repeat(1000);
    const newValue = 'NEW:' + 'y'.repeat(1002);
    let k = 1;
    let completedWrites: number | undefined;
    const crashedKeys: Array<Set<string>> = [];
    let afterKeys = new Set<string>();
    for (; ; k++) {
      expect(k).to.be.at.most(400);
      const p = await dictSetCrashPoint(
        k,
        (dict) => {
          // Fill until a store had to evict, then top up with safeSet (never evicts) until no
          // chunk of the class is left: the child's set of one more value must evict.
          for (let i = 0; i < 1000; i++) if (dict.set(`k${i}`, value(i)) === 2) break;
          for (let i = 0; i < 1000; i++) if (dict.safeSet(`s${i}`, value(i)) === 0) break;
        },
        { kind: 'dict-set', key: 'target', value: newValue },
      );
      for (const [key, v] of p.state) {
        if (key === 'target')
          expect(v, `k=${k}: target holds the complete new value`).to.equal(newValue);
        else expect(v, `k=${k}: ${key} holds its old value`).to.equal(p.before.get(key));
      }
      if (p.done !== undefined) {
        expect(p.done.result, 'the operation evicted (STORED_FORCIBLY)').to.equal(2);
        expect(p.state.get('target')).to.equal(newValue);
        expect(p.state.size).to.be.below(p.before.size + 1);
        completedWrites = p.done.writes;
        afterKeys = new Set(p.state.keys());
        break;
      }
      expect(p.state.has('target'), `k=${k}: the killed set is not visible`).to.equal(false);
      crashedKeys.push(new Set(p.state.keys()));
    }
    expect(completedWrites).to.equal(k - 1);
    // Only what the completed operation evicted may be missing after a crash in it.
    crashedKeys.forEach((keys, i) => {
      for (const key of afterKeys)
        if (key !== 'target') expect(keys.has(key), `k=${i + 1}: ${key} lost`).to.equal(true);
    });
    sweeps.push(`dict set with eviction ${k - 1}`);
  });

  it('dict overwrite in place in a full dict: every crash point leaves the key old or new, others kept', async function () {
    const value = (i: number): string => `v${String(i).padStart(4, '0')}:` + 'x'.repeat(100);
    const newValue = 'NEW:' + 'y'.repeat(102); // the same length: the entry's chunk fits it
    const target = 'k5';
    let k = 1;
    let completedWrites: number | undefined;
    for (; ; k++) {
      expect(k).to.be.at.most(200);
      const p = await dictSetCrashPoint(
        k,
        (dict) => {
          for (let i = 0; dict.safeSet(`k${i}`, value(i)) !== 0; i++);
        },
        { kind: 'dict-set', key: target, value: newValue, safe: true },
      );
      expect(p.state.size, `k=${k}: nothing evicted, nothing lost`).to.equal(p.before.size);
      for (const [key, v] of p.state) {
        if (key !== target) expect(v, `k=${k}: ${key} kept`).to.equal(p.before.get(key));
      }
      if (p.done !== undefined) {
        expect(p.done.result, 'safeSet stored in place (STORED)').to.equal(1);
        expect(p.state.get(target)).to.equal(newValue);
        completedWrites = p.done.writes;
        break;
      }
      expect(p.state.get(target), `k=${k}: the killed overwrite is fully undone`).to.equal(
        p.before.get(target),
      );
    }
    expect(completedWrites).to.equal(k - 1);
    expect(completedWrites, 'every value word is a journaled store').to.be.greaterThan(26);
    sweeps.push(`dict overwrite in place ${k - 1}`);
  });
});
