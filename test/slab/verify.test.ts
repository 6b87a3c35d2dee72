/** verify() against hand-made corruption: each case breaks one invariant in shared memory. */
import { expect } from 'chai';
import { SlabPool } from '../../src/slab/pool.js';
import { L } from '../../src/slab/layout.js';
import { makePool, thrown } from './util.js';

function desc(pool: SlabPool, offset: number): number {
  return (
    pool.descWord +
    (pool.firstDesc + Math.floor((offset - pool.dataStart) / L.PAGE_SIZE)) * L.DESC_WORDS
  );
}

function expectCorrupt(pool: SlabPool, pattern: RegExp): void {
  const err = thrown(() => pool.verify());
  expect(err.code).to.equal('ERR_SLAB_CORRUPT');
  expect(err.message).to.match(pattern);
}

describe('SlabPool.verify', () => {
  let pool: SlabPool;
  let small: number;
  let mid: number;
  let run: number;
  beforeEach(() => {
    pool = makePool(512 * 1024, 'pow2');
    small = pool.alloc(8);
    mid = pool.alloc(128);
    run = pool.alloc(2 * L.PAGE_SIZE);
    pool.verify();
  });

  it('bad magic', () => {
    pool.u32[pool.base] = 0;
    expectCorrupt(pool, /magic/);
  });
  it('an in-page bitmap bit set without the used count', () => {
    pool.u32[(small - (small % L.PAGE_SIZE)) >>> 2] |= 1 << 5;
    expectCorrupt(pool, /bitmap has 2 chunks set, used count says 1/);
  });
  it('a MAP bitmap bit set without the class stats (its set bits are the used count)', () => {
    pool.u32[desc(pool, mid) + L.D_MAP] |= 1 << 5;
    expectCorrupt(pool, /128 B class stats say 32\/1 total\/used, pages hold 32\/2/);
  });
  it('a used count in the INFO of a slab whose bitmap is MAP', () => {
    pool.u32[desc(pool, mid) + L.D_INFO] += 1 << 12;
    expectCorrupt(pool, /has a used count in INFO/);
  });
  it('a full slab in its class list', () => {
    const second = pool.alloc(128);
    const w = desc(pool, second);
    pool.u32[w + L.D_MAP] = 0xffffffff; // full, yet still linked
    pool.u32[pool.statsWord + 4 * L.STAT_WORDS + L.S_USED] += 30;
    expectCorrupt(pool, /class list holds a full slab/);
  });
  it('an in-page bitmap bit cleared', () => {
    pool.u32[(small - (small % L.PAGE_SIZE)) >>> 2] &= ~1;
    expectCorrupt(pool, /bitmap has 0 chunks set/);
  });
  it('a full slab still in its class list, or a partial one missing from it', () => {
    pool.u32[desc(pool, mid) + L.D_NEXT] = 0;
    pool.u32[desc(pool, mid) + L.D_PREV] = 0;
    expectCorrupt(pool, /not in its class list/);
  });
  it('a non-zero inner descriptor in a run', () => {
    pool.u32[desc(pool, run + L.PAGE_SIZE) + L.D_MAP] = 7;
    expectCorrupt(pool, /inside the page run/);
  });
  it('free runs that touch (not coalesced)', () => {
    const a = pool.alloc(L.PAGE_SIZE);
    const b = pool.alloc(L.PAGE_SIZE);
    pool.alloc(L.PAGE_SIZE);
    pool.free(a);
    // Turn b into a free run by hand without joining it to a.
    const w = desc(pool, b);
    pool.u32[w + L.D_INFO] = L.T_FREE;
    pool.u32[w + L.D_MAP] = 1;
    pool.u32[w + L.D_NEXT] = pool.freeSentinel;
    pool.u32[w + L.D_PREV] = pool.freeSentinel;
    expectCorrupt(pool, /not coalesced/);
  });
  it('a free run missing from the free list', () => {
    const lastHead = pool.u32[pool.descWord + pool.freeSentinel * L.DESC_WORDS + L.D_NEXT];
    pool.u32[pool.descWord + pool.freeSentinel * L.DESC_WORDS + L.D_NEXT] = pool.freeSentinel;
    pool.u32[pool.descWord + pool.freeSentinel * L.DESC_WORDS + L.D_PREV] = pool.freeSentinel;
    expect(lastHead).to.not.equal(pool.freeSentinel);
    expectCorrupt(pool, /free list >= 32 pages: 0 entries, expected 1/);
  });
  it('a cycle in a list', () => {
    const w = pool.descWord + pool.freeSentinel * L.DESC_WORDS;
    const head = pool.u32[w + L.D_NEXT];
    pool.u32[pool.descWord + head * L.DESC_WORDS + L.D_NEXT] = head;
    expectCorrupt(pool, /wrong prev link|more entries/);
  });
  it('a broken free tail back-pointer', () => {
    const tail = pool.descWord + (pool.firstDesc + pool.pagesTotal - 1) * L.DESC_WORDS;
    pool.u32[tail + L.D_MAP] += 1;
    expectCorrupt(pool, /no proper tail/);
  });
  it('counters that disagree with the pages', () => {
    pool.u32[pool.base + L.H_PAGES_FREE] += 1;
    expectCorrupt(pool, /free page counter/);
  });
  it('class stats that disagree with the slabs', () => {
    pool.u32[pool.statsWord + 4 * L.STAT_WORDS + L.S_USED] += 1;
    expectCorrupt(pool, /128 B class stats/);
  });
  it('an unknown descriptor type where a run should start', () => {
    pool.u32[desc(pool, run) + L.D_INFO] = 9;
    expectCorrupt(pool, /descriptor type 9/);
  });
});
