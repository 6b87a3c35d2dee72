/**
 * Held chunks (src/slab/holding-pool.ts): taken from the thread cache without the lock, kept
 * or held for a free under it, given back after it; and a holder that dies at any step,
 * whose chunk the reclaimer frees exactly once (or leaves alone once it was kept).
 */
import { expect } from 'chai';
import { SlabPool } from '../../src/slab/pool.js';
import { L } from '../../src/slab/layout.js';
import { C } from '../../src/slab/cache-layout.js';
import { MiB, survivorAndVictim, thrown } from './util.js';

const SIZE = 200;

function twoOwners(): { a: SlabPool; b: SlabPool } {
  const { survivor, victim } = survivorAndVictim(16 * MiB, 16 * MiB, true);
  return { a: survivor, b: victim };
}

const allFree = (p: SlabPool): boolean => p.freeSpace() === p.pagesTotal * L.PAGE_SIZE;
const usedOf = (p: SlabPool, size: number): number =>
  p.stats().slots.find((s) => s.size >= size)!.used;

/** `p`'s bin for SIZE: word index and entry count. */
function bin(p: SlabPool): { w: number; count: () => number } {
  const w = p.cacheWord + C.B_BINS + p.classes.byEighth[(SIZE + 7) >>> 3] * C.BIN_WORDS;
  return { w, count: () => p.u32[w + C.BIN_COUNT] };
}

/** `p` with a block whose SIZE bin holds `n` chunks. */
function stocked(p: SlabPool, n: number): void {
  const offs = Array.from({ length: n }, () => p.alloc(SIZE));
  for (const o of offs) p.free(o);
  expect(bin(p).count()).to.be.at.least(n);
}

/** A live chunk of `p`, unlinked and held for a free after the lock (committed); returned. */
function heldForFree(p: SlabPool): number {
  const x = p.alloc(SIZE);
  p.lock();
  expect(p.holdForFree(x)).to.equal(true);
  p.commit();
  p.unlock();
  return x;
}

(process.env.SHMZONE_DEBUG === '1' ? describe.skip : describe)('slab held chunks', () => {
  it('takeHeld pops a cached chunk without the lock; HELD names it; it counts as used', () => {
    const { a } = twoOwners();
    stocked(a, 4);
    const n = bin(a).count();
    const acquisitions = a.stats().lock.acquisitions;
    const o = a.takeHeld(SIZE);
    expect(o).to.not.equal(0);
    expect(a.stats().lock.acquisitions).to.equal(acquisitions);
    expect(bin(a).count()).to.equal(n - 1);
    expect(a.u32[a.cacheWord + C.B_HELD]).to.equal(o);
    expect(a.usableSize(o)).to.be.at.least(SIZE); // live, not cached
    expect(a.takeHeld(SIZE), 'one chunk at a time').to.equal(0);
    a.lock();
    expect(a.heldLocked(o)).to.equal(o);
    expect(a.heldLocked(o + 8)).to.equal(0);
    a.keepHeld();
    a.commit();
    a.unlock();
    a.releaseHeld(); // nothing held any more: gives nothing back
    expect(a.u32[a.cacheWord + C.B_HELD]).to.equal(0);
    expect(bin(a).count()).to.equal(n - 1);
    a.free(o);
    a.verify();
  });

  it('an unkept chunk goes back to the bin after the lock; freeing it again is ERR_SLAB_CHUNK_FREE', () => {
    const { a } = twoOwners();
    stocked(a, 4);
    const n = bin(a).count();
    const o = a.takeHeld(SIZE);
    a.releaseHeld();
    expect(bin(a).count()).to.equal(n);
    expect(a.u32[a.cacheWord + C.B_HELD]).to.equal(0);
    expect(thrown(() => a.free(o)).code).to.equal('ERR_SLAB_CHUNK_FREE');
    a.verify();
  });

  it('holdForFree keeps an unlinked chunk for a lock-free push after the lock', () => {
    const { a } = twoOwners();
    stocked(a, 2);
    const x = a.alloc(SIZE);
    const n = bin(a).count();
    const used = usedOf(a, SIZE);
    a.lock();
    expect(a.holdForFree(x)).to.equal(true);
    expect(a.holdForFree(a.allocLocked(SIZE)), 'one at a time').to.equal(false);
    a.commit();
    a.unlock();
    const acquisitions = a.stats().lock.acquisitions;
    a.releaseHeld();
    expect(a.stats().lock.acquisitions).to.equal(acquisitions);
    expect(bin(a).count()).to.equal(n + 1);
    expect(usedOf(a, SIZE)).to.equal(used); // x cached, the second chunk live
    expect(thrown(() => a.free(x)).code).to.equal('ERR_SLAB_CHUNK_FREE');
    a.verify();
  });

  it('holdForFree refuses a full bin, a run and what it cannot prove live', () => {
    const { a } = twoOwners();
    stocked(a, 2);
    const { w, count } = bin(a);
    const x = a.alloc(SIZE);
    const run = a.alloc(3 * L.PAGE_SIZE);
    a.lock();
    expect(a.holdForFree(run)).to.equal(false);
    expect(a.holdForFree(x + 8)).to.equal(false);
    expect(a.holdForFree(a.dataEnd)).to.equal(false);
    const saved = a.u32[w + C.BIN_COUNT];
    a.u32[w + C.BIN_COUNT] = a.cacheCaps[a.classes.byEighth[(SIZE + 7) >>> 3]];
    expect(a.holdForFree(x)).to.equal(false);
    a.u32[w + C.BIN_COUNT] = saved;
    a.unlock();
    expect(count()).to.equal(saved);
    a.free(x);
    a.free(run);
    a.verify();
  });

  it('a held chunk whose bin filled meanwhile is freed under the lock instead', () => {
    const { a } = twoOwners();
    stocked(a, 2);
    const { w } = bin(a);
    const o = a.takeHeld(SIZE);
    const cap = a.cacheCaps[a.classes.byEighth[(SIZE + 7) >>> 3]];
    const used = usedOf(a, SIZE);
    const saved = a.u32[w + C.BIN_COUNT];
    a.u32[w + C.BIN_COUNT] = cap; // as if full (the entries above are never read)
    a.releaseHeld();
    a.u32[w + C.BIN_COUNT] = saved;
    expect(usedOf(a, SIZE)).to.equal(used - 1);
    expect(a.u32[a.cacheWord + C.B_HELD]).to.equal(0);
    expect(thrown(() => a.free(o)).code).to.equal('ERR_SLAB_CHUNK_FREE');
    a.verify();
  });

  it('a pool reset between takeHeld and the lock: heldLocked says 0, releaseHeld writes nothing', () => {
    const { a } = twoOwners();
    stocked(a, 2);
    const o = a.takeHeld(SIZE);
    a.lock();
    a.resetDamaged('test');
    expect(a.heldLocked(o)).to.equal(0);
    a.unlock();
    const before = a.u8.slice();
    a.releaseHeld();
    expect(Buffer.compare(before, a.u8)).to.equal(0);
    a.verify();
  });

  it('allocRefilling stocks an empty bin in the same lock hold, and drains it when memory runs out', () => {
    const { a } = twoOwners();
    a.free(a.alloc(3000)); // a block, with the SIZE bin empty
    expect(bin(a).count()).to.equal(0);
    a.lock();
    const o = a.allocRefilling(SIZE);
    a.commit();
    a.unlock();
    expect(o).to.not.equal(0);
    const cap = a.cacheCaps[a.classes.byEighth[(SIZE + 7) >>> 3]];
    expect(bin(a).count()).to.equal(cap >>> 1);
    expect(a.takeHeld(SIZE)).to.not.equal(0);
    a.releaseHeld();
    // Use every page, bypassing the caches: the next allocRefilling must drain the bin.
    a.lock();
    for (const size of [64 * L.PAGE_SIZE, L.PAGE_SIZE, SIZE]) {
      for (;;) {
        const x = a.allocLocked(size);
        a.commit();
        if (x === 0) break;
      }
    }
    const again = a.allocRefilling(SIZE);
    a.commit();
    a.unlock();
    expect(again, 'served from the drained bin').to.not.equal(0);
    expect(bin(a).count()).to.equal(0);
    a.verify();
  });

  // A dead holder (b, owner id 2) at each step; a (id 1) reclaims its block.
  type Step = (b: SlabPool, o: number, w: number) => void;
  const deaths: Array<[string, Step, boolean]> = [
    [
      'in takeHeld, after HELD, before the tag is cleared',
      (b, o, w) => {
        b.u32[w + C.BIN_COUNT]--;
        b.u32[b.cacheWord + C.B_HELD] = o;
      },
      false,
    ],
    ['holding a taken chunk', (b) => void b.takeHeld(SIZE), false],
    [
      'holding a chunk it kept (committed): the chunk stays allocated',
      (b) => {
        const o = b.takeHeld(SIZE);
        b.lock();
        expect(b.heldLocked(o)).to.equal(o);
        b.keepHeld();
        b.commit();
        b.unlock();
      },
      true,
    ],
    [
      'under the lock after keepHeld, before the commit (rolled back: freed)',
      (b) => {
        b.takeHeld(SIZE);
        b.lock();
        b.keepHeld();
      },
      false,
    ],
    ['after holdForFree committed, before the push', (b) => void heldForFree(b), false],
    [
      'in the push, PENDING set',
      (b) => {
        const x = heldForFree(b);
        b.u32[b.cacheWord + C.B_PENDING] = x;
        b.u32[x >>> 2] = (C.TAG ^ x) >>> 0;
        b.u32[(x >>> 2) + 1] = b.cacheOwner;
      },
      false,
    ],
    [
      'in the push, listed, before HELD = 0',
      (b) => {
        const x = heldForFree(b);
        b.releaseHeld();
        b.u32[b.cacheWord + C.B_HELD] = x;
      },
      false,
    ],
  ];
  for (const [where, step, kept] of deaths) {
    it(`a holder that died ${where}: freed once, nothing leaks`, () => {
      const { a, b } = twoOwners();
      stocked(b, 4);
      const { w } = bin(b);
      const o = b.u32[w + C.BIN_ENTRIES + b.u32[w + C.BIN_COUNT] - 1];
      step(b, o, w);
      a.lock(); // takes over from b when it died holding the lock: rolls back
      a.unlock();
      a.reclaimCache(1); // slot of owner id 2
      if (kept) {
        expect(allFree(a)).to.equal(false);
        expect(usedOf(a, SIZE)).to.equal(1);
        a.lock();
        a.freeLocked(o); // not free(): that would give `a` a cache block of its own
        a.unlock();
      }
      expect(allFree(a), 'all pages free again').to.equal(true);
      a.verify();
    });
  }
});
