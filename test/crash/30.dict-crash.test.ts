/**
 * Dict crash torture (docs/specs/reliability.md anchor test 1 for the dict; issue 4 "Crash"): 3 writer
 * processes loop set/replace/add/get/delete with self-checksummed values on 200 keys of a dict
 * small enough that sets evict, and incr their own counter in a second dict; the parent
 * SIGKILLs a random writer >= 100 times and respawns it.
 *
 * What it proves:
 * - after each kill the parent gets both locks within a bounded time (takeover + rollback)
 *   and verify() passes on both pools, without a reset;
 * - every key holds either nothing or a complete value written for it (checksum and key),
 *   after each kill and at the end; survivors check every value they read too; read through
 *   a local cache (the parent's, and odd writers'), the same, and after the clean stop the
 *   local cache returns exactly what the shared dict holds;
 * - each counter is within [committed, committed + in flight] after a kill (the incr that
 *   died is either fully there or not at all), and exactly committed after a clean stop; a
 *   writer's own counter always moves by exactly 1 per incr;
 * - after deleting every key both pools are back to the baseline measured right after the
 *   dicts were created: no chunk leaked by any of the killed operations.
 */
import { expect } from 'chai';
import { ZoneRegistry } from '../../src/index.js';
import { sharedDict } from '../../src/dict/index.js';
import type { SlabPool } from '../../src/slab/pool.js';
import { uniqueNamespace } from '../helpers/shm.js';
import {
  checkValue,
  KEYS,
  L_COMMITTED,
  L_DC_ID,
  L_DV_ID,
  L_INTENT,
  L_OPS,
  L_SETS,
  L_STOP,
  LEDGER_BYTES,
  writerWord,
} from '../fixtures/crash-dict-lib.js';
import { killAllFixtures, spawnFixture, type FixtureProcess } from '../helpers/processes.js';
import { LONG, percentile, sleep } from './util.js';

const DV_SIZE = 256 * 1024;
const DC_SIZE = 256 * 1024;

describe('crash: SharedDict writers SIGKILLed mid-operation', function () {
  this.timeout(LONG ? 900_000 : 150_000);
  afterEach(killAllFixtures);

  it('>= 100 kills: values complete, counters within [committed, committed + in flight], no leak', async () => {
    const ns = uniqueNamespace('cdict');
    const logs: string[] = [];
    const reg = new ZoneRegistry({ namespace: ns, mode: 'owner', log: (l) => logs.push(l) });
    const dv = sharedDict(reg, 'dv', DV_SIZE);
    const dc = sharedDict(reg, 'dc', DC_SIZE);
    // The same zone read through a local cache (src/dict/local-cache.ts): it must never
    // return a value that the kills' recoveries or the writers made stale.
    const dvLocal = sharedDict(reg, 'dv', DV_SIZE, { localCache: 100 });
    const lz = reg.add('lz', 64 * 1024, {
      tag: 'crash-dict-ledger',
      init(z, reused) {
        if (!reused) z.root = z.pool.calloc(LEDGER_BYTES);
      },
    });
    await reg.start();
    try {
      const dvPool = reg.get('dv').pool as SlabPool;
      const dcPool = reg.get('dc').pool as SlabPool;
      const baseDv = dvPool.stats();
      const baseDc = dcPool.stats();
      const u32 = new Uint32Array(lz.buffer);
      const root = lz.root;
      const WRITERS = 3;
      const targetKills = LONG ? 1500 : 120;
      const budgetMs = LONG ? 600_000 : 60_000;
      const procs: Array<FixtureProcess | undefined> = [];
      const ready: boolean[] = [];
      let gen = 0;
      const spawnWriter = (c: number): void => {
        const seed = (Date.now() ^ (c * 7919) ^ (gen++ * 104729)) >>> 0;
        const p = spawnFixture('crash-dict-child', [
          JSON.stringify({
            ns,
            dvSize: DV_SIZE,
            dcSize: DC_SIZE,
            c,
            seed,
            deadlineMs: budgetMs + 60_000,
          }),
        ]);
        procs[c] = p;
        ready[c] = false;
        void p.waitFor('ready', 30_000).then(
          () => {
            if (procs[c] === p) ready[c] = true;
          },
          () => {},
        );
      };
      const checkAllValues = (when: string): number => {
        let present = 0;
        for (let i = 0; i < KEYS; i++) {
          const key = `k${i}`;
          const v = dv.get(key);
          if (v === undefined) continue;
          present++;
          const bad = checkValue(key, v);
          expect(bad, `${when}: ${key}`).to.equal(null);
        }
        for (let i = 0; i < KEYS; i++) {
          const v = dvLocal.get(`k${i}`);
          if (v !== undefined)
            expect(checkValue(`k${i}`, v), `${when}: k${i} (local)`).to.equal(null);
        }
        return present;
      };
      for (let c = 0; c < WRITERS; c++) spawnWriter(c);

      let kills = 0;
      let heldAtDeath = 0;
      let inFlightIncrs = 0;
      let incrLandedInFlight = 0;
      const lockMs: number[] = [];
      const t0 = Date.now();
      while (kills < targetKills && Date.now() - t0 < budgetMs) {
        await sleep(5 + Math.random() * 40);
        const candidates = [...Array(WRITERS).keys()].filter((c) => ready[c]);
        if (candidates.length === 0) continue;
        const c = candidates[Math.floor(Math.random() * candidates.length)];
        const p = procs[c]!;
        ready[c] = false;
        p.child.kill('SIGKILL');
        const r = await p.exited;
        expect(
          { signal: r.signal, bad: p.lines.filter((l) => l.event === 'bad') },
          p.stderr(),
        ).to.deep.equal({ signal: 'SIGKILL', bad: [] });
        kills++;
        const ww = writerWord(root, c);
        if (dvPool.lockOwner() === u32[ww + L_DV_ID] || dcPool.lockOwner() === u32[ww + L_DC_ID])
          heldAtDeath++;
        for (const pool of [dvPool, dcPool]) {
          const t = performance.now();
          pool.lock();
          lockMs.push(performance.now() - t);
          try {
            pool.verify();
          } finally {
            pool.unlock();
          }
        }
        const committed = u32[ww + L_COMMITTED];
        const intent = u32[ww + L_INTENT];
        const v = (dc.get(`cnt${c}`) as number | undefined) ?? 0;
        expect(v, `counter of writer ${c} after kill ${kills}`).to.be.within(
          committed,
          committed + intent,
        );
        if (intent !== 0) {
          inFlightIncrs++;
          if (v === committed + 1) incrLandedInFlight++;
        }
        u32[ww + L_COMMITTED] = v;
        u32[ww + L_INTENT] = 0;
        checkAllValues(`after kill ${kills}`);
        spawnWriter(c);
      }
      const elapsed = Date.now() - t0;
      Atomics.store(u32, root / 4 + L_STOP, 1);
      for (let c = 0; c < WRITERS; c++) {
        const p = procs[c]!;
        await p.waitFor('done', 30_000);
        expect((await p.exited).code, p.stderr()).to.equal(0);
      }
      let ops = 0;
      let sets = 0;
      for (let c = 0; c < WRITERS; c++) {
        const ww = writerWord(root, c);
        ops += u32[ww + L_OPS];
        sets += u32[ww + L_SETS];
        expect(u32[ww + L_INTENT]).to.equal(0);
        expect(dc.get(`cnt${c}`) ?? 0, `counter ${c} after a clean stop`).to.equal(
          u32[ww + L_COMMITTED],
        );
      }
      const present = checkAllValues('at the end');
      for (let i = 0; i < KEYS; i++) {
        expect(dvLocal.get(`k${i}`), `k${i} through the local cache`).to.equal(dv.get(`k${i}`));
      }
      const st = dv.stats();
      console.log(
        `      dict crash: ${kills} kills in ${elapsed} ms, ${heldAtDeath} while holding a lock, ${ops} ops (${sets} stores, ` +
          `${st.evictions} evictions), ${inFlightIncrs} incr in flight at a kill (${incrLandedInFlight} had landed); ` +
          `lock after kill p50 ${percentile(lockMs, 0.5).toFixed(2)} ms, max ${Math.max(...lockMs).toFixed(1)} ms; ${present} keys at the end`,
      );
      expect(kills).to.be.at.least(100);
      expect(heldAtDeath, 'some kills hit inside a critical section').to.be.greaterThan(0);
      expect(st.evictions, 'sets had to evict').to.be.greaterThan(0);
      expect(Math.max(...lockMs)).to.be.below(2000);
      expect(dvPool.generation).to.equal(baseDv.generation);
      expect(dcPool.generation).to.equal(baseDc.generation);
      expect(
        logs.filter((l) => /pool reset/.test(l)),
        'no recovery had to reset a pool',
      ).to.deep.equal([]);

      // Delete everything: both pools must come back to their baseline exactly, once the
      // reaper has given back the thread caches (and any held chunk) of killed writers.
      reg.get('dv').reapDeadPeers();
      reg.get('dc').reapDeadPeers();
      for (const key of dv.keys(0)) dv.delete(key);
      for (const key of dc.keys(0)) dc.delete(key);
      expect(dv.stats().entries).to.equal(0);
      expect(dc.stats().entries).to.equal(0);
      for (const [pool, base, name] of [
        [dvPool, baseDv, 'dv'],
        [dcPool, baseDc, 'dc'],
      ] as const) {
        pool.lock();
        try {
          pool.verify();
        } finally {
          pool.unlock();
        }
        const now = pool.stats();
        expect(
          now.slots.map((s) => s.used),
          `${name}: chunks in use after deleting every key`,
        ).to.deep.equal(base.slots.map((s) => s.used));
        expect(now.pagesFree, `${name}: free pages after deleting every key`).to.equal(
          base.pagesFree,
        );
        expect(pool.lockOwner()).to.equal(0);
      }
    } finally {
      reg.stop();
    }
  });
});
