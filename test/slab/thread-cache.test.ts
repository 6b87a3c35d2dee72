/**
 * Thread caches (src/slab/cache-layout.ts): lock-free alloc()/free() over per-owner stacks.
 * What a cached block is to the API (free, not used), double frees of cached blocks, memory
 * pressure, a dead owner's block given back (including a push or pop it died in), a pool
 * reset, and damaged cache words.
 */
import { expect } from 'chai';
import { SlabPool } from '../../src/slab/pool.js';
import { L } from '../../src/slab/layout.js';
import { binCount, C } from '../../src/slab/cache-layout.js';
import { sizeClasses } from '../../src/slab/sizeclass.js';
import { MiB, owner, survivorAndVictim, thrown, xorshift32 } from './util.js';

/** Two owners of one pool with caches: `a` (id 1) sees `b` (id 2) as dead when asked. */
function twoOwners(bytes = 16 * MiB): { a: SlabPool; b: SlabPool } {
  const { survivor, victim } = survivorAndVictim(bytes, bytes, true);
  return { a: survivor, b: victim };
}

const allFree = (p: SlabPool): boolean => p.freeSpace() === p.pagesTotal * L.PAGE_SIZE;

function binCountOf(p: SlabPool, bin: number): number {
  return p.u32[p.cacheWord + C.B_BINS + bin * C.BIN_WORDS + C.BIN_COUNT];
}

// Debug mode verifies at every commit through the locked path: the caches are off there.
(process.env.SHMZONE_DEBUG === '1' ? describe.skip : describe)('slab thread caches', () => {
  it('a freed chunk is reused by the next alloc() of its class without the lock', () => {
    const { a } = twoOwners();
    const x = a.alloc(100);
    a.free(x);
    const acquisitions = a.stats().lock.acquisitions;
    expect(a.alloc(100)).to.equal(x);
    const y = a.alloc(4096 * 3);
    a.free(y);
    const locked = a.stats().lock.acquisitions;
    expect(a.alloc(4096 * 3 - 5)).to.equal(y); // a run of 3 pages, from the cache
    expect(a.stats().lock.acquisitions).to.equal(locked);
    expect(locked).to.be.at.most(acquisitions + 2); // the first run alloc and its free's refill
    a.verify();
  });

  it('stats(): cached chunks are not used; requests served by the cache are counted', () => {
    const { a } = twoOwners();
    const offs = Array.from({ length: 10 }, () => a.alloc(64));
    for (const o of offs) a.free(o);
    const c64 = a.stats().slots.find((s) => s.size === 64)!;
    expect(c64.used).to.equal(0);
    expect(c64.cached).to.be.greaterThan(0);
    expect(c64.reqs).to.equal(10);
    a.alloc(64);
    expect(a.stats().slots.find((s) => s.size === 64)!.reqs).to.equal(11);
    a.free(a.alloc(2 * L.PAGE_SIZE));
    expect(a.stats().pageAllocs.cachedPages).to.be.greaterThan(0);
  });

  it('a double free of a cached chunk or run is ERR_SLAB_CHUNK_FREE, by any path, and changes nothing', () => {
    const { a, b } = twoOwners();
    const chunk = a.alloc(200);
    const run = a.alloc(2 * L.PAGE_SIZE);
    a.free(chunk);
    a.free(run);
    for (const off of [chunk, run]) {
      const before = a.u8.slice();
      expect(thrown(() => a.free(off)).code, 'free() again').to.equal('ERR_SLAB_CHUNK_FREE');
      expect(thrown(() => b.free(off)).code, 'free() in another owner').to.equal(
        'ERR_SLAB_CHUNK_FREE',
      );
      expect(thrown(() => a.usableSize(off)).code).to.equal('ERR_SLAB_CHUNK_FREE');
      a.lock();
      try {
        expect(thrown(() => a.freeLocked(off)).code, 'freeLocked()').to.equal(
          'ERR_SLAB_CHUNK_FREE',
        );
      } finally {
        a.unlock();
      }
      // Only the lock counters moved.
      const after = a.u8.slice();
      const counters = (a.base + L.H_LOCK_ACQUISITIONS) * 4;
      after.fill(0, counters, counters + 4);
      before.fill(0, counters, counters + 4);
      expect(Buffer.compare(before, after)).to.equal(0);
    }
    a.verify();
  });

  it('a chunk or run already free in the pool, freed again without the lock, is an already-free SlabError', () => {
    const { a } = twoOwners();
    // 16 B (bitmap in its page), 1 KiB (bitmap in the descriptor), a run of 2 pages.
    for (const size of [16, 1024, 2 * L.PAGE_SIZE]) {
      const keep = a.alloc(size); // keeps the slab (and its bitmap) in place
      const off = a.alloc(size);
      a.lock();
      try {
        a.freeLocked(off); // the locked path never caches: free in the pool itself
        a.commit();
      } finally {
        a.unlock();
      }
      const before = a.u8.slice();
      // PAGE_FREE when that free emptied the chunk's page.
      expect(thrown(() => a.free(off)).code, `${size} B`).to.be.oneOf([
        'ERR_SLAB_CHUNK_FREE',
        'ERR_SLAB_PAGE_FREE',
      ]);
      const after = a.u8.slice();
      const counters = (a.base + L.H_LOCK_ACQUISITIONS) * 4;
      after.fill(0, counters, counters + 4);
      before.fill(0, counters, counters + 4);
      expect(Buffer.compare(after, before), `${size} B: nothing changed`).to.equal(0);
      a.free(keep);
    }
    a.verify();
  });

  it('user data that looks like a tag does not make a live chunk "cached"', () => {
    const { a } = twoOwners();
    const x = a.alloc(64);
    a.free(x);
    const y = a.alloc(64); // x again, from the cache
    // Write the very words the cache would write: tag and owner id.
    a.u32[y >>> 2] = (C.TAG ^ y) >>> 0;
    a.u32[(y >>> 2) + 1] = 1;
    a.free(y); // not listed anywhere: a normal free
    expect(a.stats().slots.find((s) => s.size === 64)!.used).to.equal(0);
    a.verify();
  });

  it('the bins of either size-class scheme fit a cache block', () => {
    for (const mode of ['fine', 'pow2'] as const) {
      const words = C.B_BINS + binCount(sizeClasses(mode).n) * C.BIN_WORDS;
      expect(words, mode).to.be.at.most((C.BLOCK_PAGES * L.PAGE_SIZE) / 4);
    }
    expect(C.BIN_WORDS).to.equal(C.BIN_ENTRIES + C.CAP_MAX);
  });

  it('bins are bounded: a full bin is flushed to half under one lock', () => {
    const { a } = twoOwners();
    const offs = Array.from({ length: 100 }, () => a.alloc(48));
    for (const o of offs) a.free(o);
    const bin = a.classes.byEighth[48 / 8];
    expect(binCountOf(a, bin)).to.be.at.most(a.cacheCaps[bin]);
    expect(a.cacheCaps[bin]).to.be.at.most(C.CAP_MAX);
    a.verify();
  });

  it('an allocation that would fail drains the caller\u2019s cache first (W4 keeps its ratio)', () => {
    const { a } = twoOwners(1 * MiB);
    const rand = xorshift32(7);
    const live: number[] = [];
    for (;;) {
      const o = a.alloc(8 + (rand() % 4089));
      if (o === 0) break;
      live.push(o);
    }
    // Free every other block: they go to the cache (up to its bounds) or the pool.
    for (let i = 0; i < live.length; i += 2) a.free(live[i]);
    const free = a.freeSpace();
    // A request only whole free pages can serve: it must see the cached runs and chunks too.
    const big = a.alloc(free + 2 * L.PAGE_SIZE);
    expect(big === 0 || a.freeSpace() < free).to.equal(true);
    for (let i = 1; i < live.length; i += 2) a.free(live[i]);
    if (big !== 0) a.free(big);
    a.releaseThreadCache();
    expect(allFree(a), 'everything back').to.equal(true);
    a.verify();
  });

  it('an allocation that fails asks the other owners to drain: each does at its next call', () => {
    const { a, b } = twoOwners();
    // b parks runs and chunks in its cache.
    const parked = Array.from({ length: 40 }, (_, i) => b.alloc(i % 2 ? 300 : 3 * L.PAGE_SIZE));
    for (const o of parked) b.free(o);
    const cachedPages = b.stats().pageAllocs.cachedPages;
    expect(cachedPages).to.be.greaterThan(0);
    // a takes every free page: its last allocation fails, after draining a's own cache.
    const held: number[] = [];
    for (let o = a.alloc(3 * L.PAGE_SIZE); o !== 0; o = a.alloc(3 * L.PAGE_SIZE)) held.push(o);
    expect(b.u32[b.cacheWord + C.B_DRAIN], 'b asked').to.equal(1);
    expect(a.u32[a.cacheWord + C.B_DRAIN], 'a not asked').to.equal(0);
    // b's next call, whatever it is, gives its cache back first.
    b.free(b.alloc(8 * L.PAGE_SIZE) || b.alloc(16));
    expect(b.u32[b.cacheWord + C.B_DRAIN]).to.equal(0);
    expect(b.stats().pageAllocs.cachedPages).to.be.below(cachedPages);
    const more = a.alloc(3 * L.PAGE_SIZE);
    expect(more, 'what b parked serves a').to.not.equal(0);
    for (const o of [...held, more]) a.free(o);
    a.releaseThreadCache();
    b.releaseThreadCache();
    expect(allFree(a)).to.equal(true);
    a.verify();
  });

  it('a dead owner\u2019s cache goes back to the pool when its slot is reclaimed', () => {
    const { a, b } = twoOwners();
    const offs = Array.from({ length: 50 }, (_, i) => b.alloc(i % 2 ? 300 : 5 * L.PAGE_SIZE));
    for (const o of offs) b.free(o);
    expect(allFree(a)).to.equal(false);
    a.reclaimCache(1); // slot of owner id 2
    expect(allFree(a)).to.equal(true);
    a.verify();
  });

  for (const where of ['push', 'pop'] as const) {
    for (const kind of ['chunk', 'run'] as const) {
      it(`a thread that died mid-${where} of a ${kind}: its block is freed once, nothing leaks`, () => {
        const { a, b } = twoOwners();
        const size = kind === 'chunk' ? 256 : 2 * L.PAGE_SIZE;
        const keep = b.alloc(size);
        const o = b.alloc(size);
        b.free(keep); // b has a block, with `keep` cached
        const bw = b.cacheWord;
        const bin =
          kind === 'chunk' ? b.classes.byEighth[size / 8] : b.nClasses + size / L.PAGE_SIZE - 1;
        const w = bw + C.B_BINS + bin * C.BIN_WORDS;
        const n = b.u32[w + C.BIN_COUNT];
        if (where === 'push') {
          // Died after PENDING and the entry, before COUNT: `o` is listed nowhere.
          b.u32[bw + C.B_PENDING] = o;
          b.u32[w + C.BIN_ENTRIES + n] = o;
        } else {
          // Push `o` for real, then die in its pop after COUNT - 1, before unmarking (a run's
          // pop names it in PENDING first; a chunk's leaves it tagged above COUNT).
          b.free(o);
          expect(b.u32[w + C.BIN_COUNT]).to.equal(n + 1);
          if (kind === 'run') b.u32[bw + C.B_PENDING] = o;
          b.u32[w + C.BIN_COUNT] = n;
        }
        a.reclaimCache(1);
        expect(allFree(a), 'all pages free again').to.equal(true);
        a.verify();
      });
    }
  }

  it('an attach that finds a page for the directory but none for the block keeps neither', () => {
    const { a, b } = twoOwners();
    a.lock(); // fill through the locked path (no cache), leaving two free pages
    while (a.freeSpace() > 2 * L.PAGE_SIZE) {
      a.allocLocked(a.freeSpace() > 64 * L.PAGE_SIZE ? 32 * L.PAGE_SIZE : L.PAGE_SIZE);
      a.commit();
    }
    a.unlock();
    expect(b.alloc(64)).to.not.equal(0); // its slab takes one page; the attach fails
    expect(b.cacheWord).to.equal(0);
    expect(b.u32[b.base + L.H_CACHE_DIR], 'no directory left without a block').to.equal(0);
    expect(b.freeSpace()).to.equal(L.PAGE_SIZE);
    b.verify();
  });

  it('a thread that never attached gives back the block its slot\u2019s dead predecessor left', () => {
    const { sab, survivor: a, victim: b } = survivorAndVictim(16 * MiB, 16 * MiB, true);
    b.free(b.alloc(300)); // owner id 2 has a block in slot 1, then dies
    // The slot's next holder (id 130: slot 1, the next generation) never allocates.
    const next = SlabPool.open(sab, 0, owner(130), { threadCache: true });
    expect(allFree(a)).to.equal(false);
    next.releaseThreadCache();
    expect(allFree(a), 'the predecessor\u2019s block went back').to.equal(true);
    a.verify();
  });

  it('a reset pool (new generation) drops the old blocks; the cache works again after it', () => {
    const { a } = twoOwners();
    a.free(a.alloc(64));
    const before = a.cacheWord;
    expect(before).to.not.equal(0);
    a.lock();
    a.resetDamaged('test');
    a.unlock();
    const x = a.alloc(64);
    expect(x).to.not.equal(0);
    a.free(x);
    expect(a.cacheWord).to.not.equal(0);
    a.verify();
    a.releaseThreadCache();
    expect(allFree(a)).to.equal(true);
  });

  it('a damaged cache entry is a SlabCorruptionError with a reset, never a bogus offset', () => {
    const { a } = twoOwners();
    a.free(a.alloc(64));
    const bin = a.classes.byEighth[8];
    const w = a.cacheWord + C.B_BINS + bin * C.BIN_WORDS;
    a.u32[w + C.BIN_ENTRIES + a.u32[w + C.BIN_COUNT] - 1] = a.dataStart + 8 * 1000;
    const err = thrown(() => a.alloc(64));
    expect(err.name).to.equal('SlabCorruptionError');
    expect(a.generation).to.equal(1);
    expect(a.alloc(64)).to.not.equal(0); // works again
    a.verify();
  });

  it('a damaged bin count is a SlabCorruptionError with a reset', () => {
    const { a } = twoOwners();
    a.free(a.alloc(64));
    const bin = a.classes.byEighth[8];
    a.u32[a.cacheWord + C.B_BINS + bin * C.BIN_WORDS + C.BIN_COUNT] = 0xffff;
    expect(thrown(() => a.verify()).name).to.equal('SlabCorruptionError');
    expect(thrown(() => a.alloc(64)).name).to.equal('SlabCorruptionError');
    expect(a.generation).to.equal(1);
    a.verify();
  });

  it('random words of the directory or a block overwritten: typed errors or a reset, never a hang', () => {
    const rand = xorshift32(23);
    let resets = 0;
    let reported = 0;
    for (let round = 0; round < 150; round++) {
      const { a, b } = twoOwners(1 * MiB);
      const live: number[] = [];
      for (let i = 0; i < 60; i++) live.push((i % 2 ? a : b).alloc(8 + (rand() % 600)));
      for (let i = 0; i < live.length; i += 2) (i % 4 ? a : b).free(live[i]);
      // Overwrite 1-4 words of the directory page or of either block.
      const dir = a.u32[a.base + L.H_CACHE_DIR] >>> 2;
      const pages = [dir, a.cacheWord, b.cacheWord].filter((w) => w !== 0);
      for (let k = 0, n = 1 + (rand() % 4); k < n; k++) {
        const page = pages[rand() % pages.length];
        const words = page === dir ? L.PAGE_SIZE / 4 : (C.BLOCK_PAGES * L.PAGE_SIZE) / 4;
        const word = rand() % 3 === 0 ? rand() % 8 : rand() % words;
        a.u32[page + word] = rand() % 2 ? rand() : a.dataStart + 8 * (rand() % 4096);
      }
      const ops = [
        () => a.alloc(8 + (rand() % 600)),
        () => b.alloc(8 + (rand() % 600)),
        () => a.free(live[1 + 2 * (rand() % 30)]),
        () => a.stats(),
        () => a.verify(),
        () => a.reclaimCache(1),
        () => b.releaseThreadCache(),
      ];
      for (const op of ops) {
        try {
          op();
        } catch (err) {
          expect((err as Error).name, String(err)).to.be.oneOf([
            'SlabError',
            'SlabCorruptionError',
          ]);
        }
      }
      if (a.generation !== 0) resets++;
      try {
        a.verify(); // damage nobody's path met (a slot nobody uses) is still reported
      } catch (err) {
        expect((err as Error).name).to.equal('SlabCorruptionError');
        reported++;
      }
      expect(a.lockOwner(), 'no lock left held').to.equal(0);
    }
    expect(resets, 'some damage was met and reset').to.be.greaterThan(0);
    expect(reported, 'some was only reported').to.be.greaterThan(0);
  });

  it('random alloc/free with caches on keeps every block distinct and verify() passing', () => {
    const { a } = twoOwners(8 * MiB);
    const rand = xorshift32(11);
    const live = new Map<number, number>();
    for (let step = 0; step < 20_000; step++) {
      if (live.size > 0 && (live.size > 400 || rand() % 2 === 0)) {
        const keys = [...live.keys()];
        const o = keys[rand() % keys.length];
        const id = live.get(o)!;
        expect(a.u32[(o >>> 2) + 2], 'contents kept').to.equal(id);
        a.free(o);
        live.delete(o);
      } else {
        const size = rand() % 8 === 0 ? 4097 + (rand() % 40000) : 12 + (rand() % 3000);
        const o = a.alloc(size);
        expect(o).to.not.equal(0);
        expect(live.has(o), 'distinct').to.equal(false);
        a.u32[(o >>> 2) + 2] = step;
        live.set(o, step);
      }
      if (step % 2000 === 0) a.verify();
    }
    for (const o of live.keys()) a.free(o);
    a.releaseThreadCache();
    expect(allFree(a)).to.equal(true);
    a.verify();
  });
});
