/**
 * alloc() and free() write out the lock, the unlock and the choice of path, with their own
 * checks of the offset or size (the note above alloc() in src/slab/pool.ts); allocLocked()
 * and freeLocked() take the general path through chunks.ts.
 * The two must be the same allocator: the same random sequence, run through each on two
 * pools, must give the same results, the same errors and byte-identical zone buffers
 * (metadata, journal leftovers and lock counters included).
 */
import { expect } from 'chai';
import type { SizeClassMode } from '../../src/slab/api.js';
import type { SlabPool } from '../../src/slab/pool.js';
import { firstDifference, makePool, MiB, snapshot, xorshift32 } from './util.js';

type Outcome = number | string;

/** What an operation returned, or the code of what it threw. */
function outcome(fn: () => number | void): Outcome {
  try {
    return fn() ?? 0;
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
}

/** The general path: lock(), then the ...Locked call, then unlock(). */
function viaLocked(pool: SlabPool, op: 'alloc' | 'free', arg: number): Outcome {
  return outcome(() => {
    pool.lock();
    try {
      return op === 'alloc' ? pool.allocLocked(arg) : pool.freeLocked(arg);
    } finally {
      pool.unlock();
    }
  });
}

/** A request size from every regime, weighted towards the written-out ones. */
function size(rand: () => number): number {
  const r = rand() % 100;
  if (r < 55) return 128 + (rand() % 1921); // bitmap in MAP: the written-out paths
  if (r < 75) return rand() % 128; // 0..127 B: bitmaps in the page
  if (r < 85) return 2049 + (rand() % 1536); // fine: multi-page slabs; pow2: page runs
  return 4097 + (rand() % 40_000); // page runs
}

for (const mode of ['pow2', 'fine'] as SizeClassMode[]) {
  describe(`alloc()/free() against allocLocked()/freeLocked() (${mode})`, () => {
    it('give the same offsets, errors and zone bytes over a random sequence', () => {
      const fast = makePool(MiB / 2, mode);
      const general = makePool(MiB / 2, mode);
      const rand = xorshift32(mode === 'pow2' ? 7 : 11);
      const live: number[] = [];
      let failures = 0;
      let badFrees = 0;
      for (let step = 0; step < 4000; step++) {
        const r = rand() % 100;
        if (r < 52 || live.length === 0) {
          const n = size(rand);
          const a = outcome(() => fast.alloc(n));
          expect(viaLocked(general, 'alloc', n), `alloc(${n}) at step ${step}`).to.equal(a);
          if (a === 0) failures++;
          else live.push(a as number);
        } else {
          const i = rand() % live.length;
          const off = live[i];
          live[i] = live[live.length - 1];
          live.pop();
          // Bad frees, now and then: inside the live block (never a chunk or run start: chunks
          // are 8-aligned, runs page-aligned), and the block again once freed. Both paths must
          // reject them with the same code and change nothing (the byte comparison checks).
          const bad = (at: number): void => {
            const e = outcome(() => fast.free(at));
            expect(e, `bad free(${at}) at step ${step}`).to.be.a('string');
            expect(viaLocked(general, 'free', at), `bad free(${at})`).to.equal(e);
            badFrees++;
          };
          if (r > 95) [off + 1, off + 4].forEach(bad);
          const f = outcome(() => fast.free(off));
          expect(viaLocked(general, 'free', off), `free(${off}) at step ${step}`).to.equal(f);
          expect(f).to.equal(0);
          if (r > 95) bad(off);
        }
        if (step % 100 === 99) {
          expect(firstDifference(snapshot(fast), snapshot(general)), `step ${step}`).to.equal(-1);
        }
      }
      expect(failures, 'the pool filled up at times').to.be.above(0);
      expect(badFrees).to.be.above(50);
      for (const off of live) {
        fast.free(off);
        expect(viaLocked(general, 'free', off)).to.equal(0);
      }
      expect(firstDifference(snapshot(fast), snapshot(general))).to.equal(-1);
      fast.verify();
      general.verify();
      expect(fast.stats().pagesFree).to.equal(fast.pagesTotal);
    });
  });
}
