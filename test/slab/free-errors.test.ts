/**
 * Every bad free throws a SlabError with its own code and changes nothing: the whole zone
 * buffer is compared byte for byte before and after (under one held lock, so that not even
 * the lock counters move).
 */
import { expect } from 'chai';
import { SlabPool } from '../../src/slab/pool.js';
import { L } from '../../src/slab/layout.js';
import { firstDifference, makePool, snapshot, thrown } from './util.js';

function expectRejected(pool: SlabPool, offset: unknown, code: string): void {
  pool.lock();
  try {
    const before = snapshot(pool);
    const err = thrown(() => pool.freeLocked(offset as number));
    expect(err.code, `free(${String(offset)})`).to.equal(code);
    expect(err.name).to.equal('SlabError');
    expect(firstDifference(before, snapshot(pool)), 'first changed byte').to.equal(-1);
    pool.verify();
  } finally {
    pool.unlock();
  }
}

for (const mode of ['pow2', 'fine'] as const) {
  describe(`SlabPool bad free (${mode})`, () => {
    let pool: SlabPool;
    let small: number; // 8 B chunk: in-page bitmap
    let mid: number; // 128 B chunk: descriptor bitmap
    let run: number; // 3 pages
    let multi: number; // a chunk on the second page of a multi-page slab (fine) or 2048 B
    beforeEach(() => {
      pool = makePool(512 * 1024, mode);
      small = pool.alloc(8);
      mid = pool.alloc(128);
      run = pool.alloc(3 * L.PAGE_SIZE);
      const size = mode === 'fine' ? 2560 : 2048; // fine: 5-page slabs of 8 chunks
      const chunks: number[] = [];
      for (let i = 0; i < 4; i++) chunks.push(pool.alloc(size));
      multi = chunks[3];
    });

    it('not a number or not an integer: ERR_SLAB_OFFSET_TYPE', () => {
      for (const bad of ['4096', null, undefined, 1.5, NaN, {}, 4096n])
        expectRejected(pool, bad, 'ERR_SLAB_OFFSET_TYPE');
    });

    it('outside the data pages (before, at the end, past the end, 0, negative): ERR_SLAB_OUTSIDE', () => {
      for (const bad of [0, -8, pool.dataStart - 8, pool.dataEnd, pool.dataEnd + 8, 2 ** 32])
        expectRejected(pool, bad, 'ERR_SLAB_OUTSIDE');
    });

    it('not at a chunk start: ERR_SLAB_WRONG_CHUNK', () => {
      expectRejected(pool, small + 1, 'ERR_SLAB_WRONG_CHUNK');
      expectRejected(pool, mid + 8, 'ERR_SLAB_WRONG_CHUNK');
      expectRejected(pool, run + 8, 'ERR_SLAB_WRONG_CHUNK');
      expectRejected(pool, multi + 16, 'ERR_SLAB_WRONG_CHUNK');
    });

    it("inside a small slab's own bitmap chunks: ERR_SLAB_BITMAP_CHUNK (nginx lets this through)", () => {
      const page = small - (small % L.PAGE_SIZE);
      expectRejected(pool, page, 'ERR_SLAB_BITMAP_CHUNK');
      expectRejected(pool, page + 8, 'ERR_SLAB_BITMAP_CHUNK');
    });

    it('a chunk that is already free: ERR_SLAB_CHUNK_FREE', () => {
      const other = pool.alloc(8);
      pool.free(other);
      expectRejected(pool, other, 'ERR_SLAB_CHUNK_FREE');
      const m2 = pool.alloc(128);
      pool.free(m2);
      expectRejected(pool, m2, 'ERR_SLAB_CHUNK_FREE');
    });

    it('a free page (head, inner, tail of a free run, and a double-freed run): ERR_SLAB_PAGE_FREE', () => {
      const lastPage = pool.dataEnd - L.PAGE_SIZE;
      expectRejected(pool, lastPage, 'ERR_SLAB_PAGE_FREE');
      expectRejected(pool, lastPage - 5 * L.PAGE_SIZE, 'ERR_SLAB_PAGE_FREE');
      pool.free(run);
      expectRejected(pool, run, 'ERR_SLAB_PAGE_FREE');
      expectRejected(pool, run + L.PAGE_SIZE, 'ERR_SLAB_PAGE_FREE');
      // A double free of a slab chunk whose slab went back to the page allocator.
      pool.free(small);
      expectRejected(pool, small, 'ERR_SLAB_PAGE_FREE');
    });

    it('inside a page run: ERR_SLAB_WRONG_PAGE', () => {
      expectRejected(pool, run + L.PAGE_SIZE, 'ERR_SLAB_WRONG_PAGE');
      expectRejected(pool, run + 2 * L.PAGE_SIZE, 'ERR_SLAB_WRONG_PAGE');
    });

    it('usableSize validates the same way', () => {
      expect(thrown(() => pool.usableSize(run + L.PAGE_SIZE)).code).to.equal('ERR_SLAB_WRONG_PAGE');
      expect(thrown(() => pool.usableSize(0)).code).to.equal('ERR_SLAB_OUTSIDE');
      expect(pool.usableSize(multi)).to.equal(mode === 'fine' ? 2560 : 2048);
    });

    it('the valid frees still work afterwards', () => {
      for (const off of [small, mid, run, multi]) pool.free(off);
      pool.verify();
    });
  });
}
