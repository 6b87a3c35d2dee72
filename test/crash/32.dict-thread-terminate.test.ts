/**
 * Dict torture with worker.terminate(): a worker thread loops set / replace / add / get /
 * delete with self-checksummed values (its stores build entries in held chunks of its thread
 * cache, src/dict/held-entry.ts) and is terminate()d at a random moment, >= 30 times, while
 * the main thread stores too. After each: the lock is free or taken over, both verify() calls
 * pass, every value is complete. At the end, once the reaper has given back the dead threads'
 * caches and every key is deleted, the pool is back to its baseline: no chunk leaked.
 */
import { expect } from 'chai';
import { Worker } from 'node:worker_threads';
import { ZoneRegistry } from '../../src/index.js';
import { sharedDict } from '../../src/dict/index.js';
import type { SlabPool } from '../../src/slab/pool.js';
import { checkValue, KEYS, makeValue } from '../fixtures/crash-dict-lib.js';
import { uniqueNamespace } from '../helpers/shm.js';
import { LONG, sleep } from './util.js';

describe('crash: SharedDict writer threads terminate()d mid-operation', function () {
  this.timeout(LONG ? 600_000 : 120_000);

  it('>= 30 terminate()s: values complete, no leak, no reset', async () => {
    const ns = uniqueNamespace('cdthr');
    const logs: string[] = [];
    const reg = new ZoneRegistry({ namespace: ns, mode: 'owner', log: (l) => logs.push(l) });
    const dv = sharedDict(reg, 'dv', 512 * 1024);
    await reg.start();
    try {
      const zone = reg.get('dv');
      const pool = zone.pool as SlabPool;
      const base = pool.stats();
      const target = LONG ? 300 : 40;
      const budgetMs = LONG ? 300_000 : 60_000;
      let terminated = 0;
      let heldAtDeath = 0;
      let mainSeq = 0;
      const t0 = Date.now();
      while (terminated < target && Date.now() - t0 < budgetMs) {
        const w = new Worker(new URL('../fixtures/crash-dict-thread.js', import.meta.url), {
          workerData: {
            handle: dv.transfer(),
            seed: (Date.now() * 31 + terminated) >>> 0,
            writer: 1,
          },
        });
        const msgs: Array<Record<string, unknown>> = [];
        w.on('message', (m: Record<string, unknown>) => msgs.push(m));
        const errors: unknown[] = [];
        w.on('error', (e) => errors.push(e));
        const readyBy = Date.now() + 20_000;
        while (
          !msgs.some((m) => m.event === 'ready') &&
          errors.length === 0 &&
          Date.now() < readyBy
        )
          await sleep(2);
        const ready = msgs.find((m) => m.event === 'ready');
        expect(ready, JSON.stringify(msgs) + String(errors)).to.not.equal(undefined);
        const until = Date.now() + 5 + Math.random() * 40;
        while (Date.now() < until) {
          // The main thread stores as well, in short slices.
          for (let i = 0; i < 20; i++) {
            const key = `k${(mainSeq * 7 + i) % KEYS}`;
            dv.set(key, makeValue(key, 0, mainSeq++, mainSeq % 300));
          }
          await sleep(0);
        }
        await w.terminate();
        terminated++;
        expect(msgs.filter((m) => m.event === 'bad')).to.deep.equal([]);
        if (pool.lockOwner() === ready!.selfId) heldAtDeath++;
        pool.lock(); // takes over from the thread when it died holding the lock
        try {
          pool.verify();
        } finally {
          pool.unlock();
        }
        dv.verify();
        for (let i = 0; i < KEYS; i++) {
          const v = dv.get(`k${i}`);
          if (v !== undefined) expect(checkValue(`k${i}`, v), `k${i}`).to.equal(null);
        }
      }
      console.log(
        `      dict thread torture: ${terminated} terminate() in ${Date.now() - t0} ms, ${heldAtDeath} while holding the lock`,
      );
      expect(terminated).to.be.at.least(30);
      expect(pool.generation, 'no reset').to.equal(base.generation);
      expect(logs.filter((l) => /pool reset/.test(l))).to.deep.equal([]);
      expect(zone.livePeers().length, 'terminated threads do not stay live').to.equal(1);
      // The reaper gives back the dead threads' caches and held chunks; then every key goes.
      zone.reapDeadPeers();
      pool.releaseThreadCache(true);
      for (const key of dv.keys(0)) dv.delete(key);
      const now = pool.stats();
      expect(
        now.slots.map((s) => s.used),
        'chunks in use after deleting every key',
      ).to.deep.equal(base.slots.map((s) => s.used));
      expect(now.pagesFree, 'free pages after deleting every key').to.equal(base.pagesFree);
    } finally {
      reg.stop();
    }
  });
});
