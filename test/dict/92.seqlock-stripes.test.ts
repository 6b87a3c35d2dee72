/**
 * Lock-free readers vs backward-shift deletions and index resizes. A reader validates only
 * its own key's seqlock stripe, so a writer must enter the stripe of every key it moves
 * (table.ts tableRemove), exactly once, and every stripe on a resize.
 *
 * The first tests check that protocol deterministically (which stripe words a deletion or a
 * resize advances, and by how much); the race test runs it under real concurrency with
 * worker threads (get and getInto), though the window it guards (a reader between two slot
 * loads while a writer moves its key) is so narrow that it alone would rarely catch a stripe
 * the writer forgot: with tableRemove entering no moved key's stripe it still passed.
 */
import { expect } from 'chai';
import { Worker } from 'node:worker_threads';
import { ZoneRegistry } from '../../src/zone/registry.js';
import { sharedDict } from '../../src/dict/declare.js';
import { uniqueNamespace } from '../helpers/shm.js';
import { stableKey, valueFor } from './shift-values.js';
import { makeDict, MiB } from './util.js';
import { KeyScratch } from '../../src/dict/hash.js';
import {
  D_MASK,
  D_SEQ,
  E_META,
  ENTRY_HEADER_BYTES,
  LINE_WORDS,
  META_KEYLEN_MASK,
  SEQ_STRIPES,
  SEQ_STRIPE_SHIFT,
} from '../../src/dict/layout.js';
import { indexRefs } from '../helpers/dict-index.js';

const WORKER = new URL('./shift-worker.js', import.meta.url);

interface Result {
  reads: number;
  misses: number;
  torn: number;
}

function stripeOf(key: string): number {
  const ks = new KeyScratch();
  ks.load(key);
  return ks.hash >>> SEQ_STRIPE_SHIFT;
}

describe('SharedDict seqlock stripes vs backward shifts and resizes', function () {
  this.timeout(60_000);

  it('a deletion advances by one section the stripes of the deleted key and of every key it moves', () => {
    const { dict, pool, host } = makeDict(4 * MiB);
    const u32 = pool.u32;
    const hw = host.root / 4;
    const n = 740; // 1024 slots, grown at 768: long runs, many shifts
    const keys = Array.from({ length: n }, (_, i) => `k${i}`);
    for (const k of keys) expect(dict.set(k, 1)).to.equal(1);
    expect(u32[hw + D_MASK]).to.equal(1023);
    const seqW = u32[hw + D_SEQ] * 2;
    const words = (): number[] =>
      Array.from({ length: SEQ_STRIPES }, (_, s) => pool.i32[seqW + (1 + s) * LINE_WORDS]);
    const slots = (): Map<string, number> => {
      const out = new Map<string, number>();
      for (const [i, ref] of indexRefs(pool, hw)) {
        const off = ref * 8 + ENTRY_HEADER_BYTES;
        const len = u32[ref * 2 + E_META] & META_KEYLEN_MASK;
        out.set(Buffer.from(pool.u8.subarray(off, off + len)).toString(), i);
      }
      return out;
    };
    let moved = 0;
    let sharedWithVictim = 0;
    for (let d = 0; d < 400; d++) {
      const victim = keys[(d * 7919) % n];
      const s0 = words();
      const before = slots();
      expect(dict.delete(victim)).to.equal(true);
      const s1 = words();
      const after = slots();
      const expected = new Set([stripeOf(victim)]);
      for (const [k, i] of after) {
        if (before.get(k) === i) continue;
        moved++;
        if (stripeOf(k) === stripeOf(victim)) sharedWithVictim++;
        expected.add(stripeOf(k));
      }
      for (let s = 0; s < SEQ_STRIPES; s++)
        expect(s1[s] - s0[s], `stripe ${s} after deleting ${victim}`).to.equal(
          expected.has(s) ? 2 : 0,
        );
    }
    expect(moved).to.be.above(100);
    expect(sharedWithVictim).to.be.above(0);
    dict.verify();
  });

  it('a resize advances every stripe by one section', () => {
    const { dict, pool, host } = makeDict(4 * MiB);
    const u32 = pool.u32;
    const hw = host.root / 4;
    const seqW = u32[hw + D_SEQ] * 2;
    const words = (): number[] =>
      Array.from({ length: SEQ_STRIPES }, (_, s) => pool.i32[seqW + (1 + s) * LINE_WORDS]);
    let resizes = 0;
    for (let i = 0; resizes < 2; i++) {
      const mask = u32[hw + D_MASK];
      const s0 = words();
      expect(dict.set(`key${i}`, i)).to.equal(1);
      if (u32[hw + D_MASK] === mask) continue;
      resizes++;
      const s1 = words();
      for (let s = 0; s < SEQ_STRIPES; s++)
        expect(s1[s] - s0[s], `stripe ${s}`).to.equal(s === stripeOf(`key${i}`) ? 4 : 2);
    }
    dict.verify();
  });

  it('stable keys are always found and intact while neighbours are deleted and re-inserted', async () => {
    const registry = new ZoneRegistry({ namespace: uniqueNamespace('dictshift'), mode: 'owner' });
    const dict = sharedDict(registry, 'shift', '4m');
    await registry.start();
    try {
      // 1400 stable keys + up to 120 churn keys in 2048 slots (load ~0.7): deletions shift
      // long runs that contain stable keys.
      const stable = 1400;
      const churn = 120;
      for (let i = 0; i < stable; i++) expect(dict.set(stableKey(i), valueFor(i))).to.equal(1);
      const handle = dict.transfer();
      const run = (role: string, seed: number): Promise<Result> =>
        new Promise((resolve, reject) => {
          const w = new Worker(WORKER, {
            workerData: { handle, role, ms: 1500, stable, churn, seed },
          });
          w.once('message', resolve);
          w.once('error', reject);
        });
      const [, r1, r2] = await Promise.all([run('writer', 1), run('reader', 2), run('reader', 3)]);
      for (const r of [r1, r2]) {
        expect(r.reads).to.be.above(1000);
        expect(r.misses, 'stable keys reported missing').to.equal(0);
        expect(r.torn, 'values not of their key').to.equal(0);
      }
      dict.verify();
    } finally {
      await registry.stop();
    }
  });
});
