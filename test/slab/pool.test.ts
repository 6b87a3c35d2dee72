import { expect } from 'chai';
import { SlabPool } from '../../src/slab/pool.js';
import { L } from '../../src/slab/layout.js';
import { makePool, MiB, owner, thrown } from './util.js';

for (const mode of ['pow2', 'fine'] as const) {
  describe(`SlabPool allocation (${mode})`, () => {
    let pool: SlabPool;
    beforeEach(() => {
      pool = makePool(1 * MiB, mode);
    });
    afterEach(() => pool.verify());

    it('lays out page-aligned data pages inside the pool', () => {
      expect(pool.dataStart % L.PAGE_SIZE).to.equal(0);
      expect(pool.dataEnd).to.equal(pool.dataStart + pool.pagesTotal * L.PAGE_SIZE);
      expect(pool.dataEnd).to.be.at.most(1 * MiB);
      expect(pool.pagesTotal).to.be.above(240);
      expect(pool.freeSpace()).to.equal(pool.pagesTotal * L.PAGE_SIZE);
      expect(pool.pageSize).to.equal(4096);
      expect(pool.capacity).to.equal(1 * MiB);
    });

    const classSizes =
      mode === 'pow2'
        ? [8, 16, 32, 64, 128, 256, 512, 1024, 2048]
        : [8, 24, 40, 80, 112, 160, 320, 512, 584, 680, 1360, 2048, 2560, 3072, 3584];
    for (const size of classSizes) {
      it(`serves ${size} B chunks: distinct, aligned, in one slab until it is full`, () => {
        const t = pool.classes;
        const c = t.byEighth[(size + 7) >>> 3];
        expect(t.size[c]).to.equal(size);
        const count = t.count[c];
        const seen = new Set<number>();
        const first = pool.alloc(size);
        const slabStart = first - t.dataOffset[c];
        expect(slabStart % L.PAGE_SIZE).to.equal(0);
        seen.add(first);
        for (let i = 1; i < count; i++) {
          const off = pool.alloc(size);
          expect(off).to.be.above(0);
          expect(off % 8).to.equal(0);
          if (mode === 'pow2') expect(off % size).to.equal(0); // natural alignment
          expect(off - slabStart).to.be.below(t.span[c] * L.PAGE_SIZE);
          expect(seen.has(off)).to.equal(false);
          seen.add(off);
        }
        const st = pool.stats().slots[c];
        expect(st).to.include({ size, total: count, used: count, reqs: count, fails: 0 });
        pool.verify();
        const next = pool.alloc(size); // a second slab
        expect(next - slabStart < 0 || next - slabStart >= t.span[c] * L.PAGE_SIZE).to.equal(true);
        expect(pool.stats().slots[c].total).to.equal(2 * count);
        for (const off of seen) pool.free(off);
        pool.free(next);
        const after = pool.stats();
        expect(after.slots[c]).to.include({ total: 0, used: 0, reqs: count + 1 });
        expect(after.pagesFree).to.equal(pool.pagesTotal);
      });
    }

    it('sizes 0 and 1 take the smallest class; the largest class size still takes a chunk', () => {
      const a = pool.alloc(0);
      const b = pool.alloc(1);
      expect(pool.usableSize(a)).to.equal(8);
      expect(pool.usableSize(b)).to.equal(8);
      const max = pool.classes.maxSize;
      const c = pool.alloc(max);
      expect(pool.usableSize(c)).to.equal(max);
      expect(pool.stats().pageAllocs.reqs).to.equal(0);
    });

    it('one byte above the largest class takes whole pages; 4096 and 4097 B take 1 and 2 pages', () => {
      const max = pool.classes.maxSize;
      const a = pool.alloc(max + 1);
      expect(a % L.PAGE_SIZE).to.equal(0);
      expect(pool.usableSize(a)).to.equal(L.PAGE_SIZE);
      const b = pool.alloc(4096);
      expect(pool.usableSize(b)).to.equal(L.PAGE_SIZE);
      const c = pool.alloc(4097);
      expect(pool.usableSize(c)).to.equal(2 * L.PAGE_SIZE);
      const d = pool.alloc(10 * L.PAGE_SIZE);
      expect(pool.usableSize(d)).to.equal(10 * L.PAGE_SIZE);
      expect(pool.stats().pageAllocs.reqs).to.equal(4);
      expect(pool.freeSpace()).to.equal((pool.pagesTotal - 14) * L.PAGE_SIZE);
      pool.free(b);
      pool.free(a);
      pool.free(d);
      pool.free(c);
      expect(pool.freeSpace()).to.equal(pool.pagesTotal * L.PAGE_SIZE);
    });

    it('2049 B: a chunk in fine mode, a whole page in pow2 (as nginx)', () => {
      const a = pool.alloc(2049);
      expect(pool.usableSize(a)).to.equal(mode === 'pow2' ? L.PAGE_SIZE : 2560);
    });

    it('the largest possible run succeeds, one byte more fails and is counted', () => {
      const all = pool.pagesTotal * L.PAGE_SIZE;
      expect(pool.alloc(all + 1)).to.equal(0);
      expect(pool.stats().pageAllocs).to.deep.equal({ reqs: 1, fails: 1, cachedPages: 0 });
      const a = pool.alloc(all);
      expect(a).to.equal(pool.dataStart);
      expect(pool.freeSpace()).to.equal(0);
      expect(pool.alloc(8)).to.equal(0); // no page for a slab
      expect(pool.stats().slots[0]).to.include({ reqs: 1, fails: 1 });
      pool.free(a);
      expect(pool.alloc(2 ** 32)).to.equal(0);
      expect(pool.alloc(2 ** 40)).to.equal(0);
      expect(pool.stats().pageAllocs).to.deep.equal({ reqs: 4, fails: 3, cachedPages: 0 });
    });

    it('rejects sizes that are not non-negative integers with ERR_SLAB_SIZE', () => {
      for (const bad of [-1, 1.5, NaN, Infinity, -Infinity, '8', null, undefined, 8n, {}]) {
        const err = thrown(() => pool.alloc(bad as number));
        expect(err.code, String(bad)).to.equal('ERR_SLAB_SIZE');
        expect(err.name).to.equal('ShmzoneArgumentError');
      }
      expect(pool.lockOwner()).to.equal(0); // the lock was released
    });

    it('calloc zeroes the requested bytes of a reused chunk and of reused pages', () => {
      const a = pool.alloc(100);
      pool.u8.fill(0xee, a, a + pool.usableSize(a));
      pool.free(a);
      const b = pool.calloc(100);
      expect(b).to.equal(a);
      expect(pool.u8.subarray(b, b + 100).every((x) => x === 0)).to.equal(true);
      const p = pool.alloc(3 * L.PAGE_SIZE);
      pool.u8.fill(0xee, p, p + 3 * L.PAGE_SIZE);
      pool.free(p);
      const q = pool.calloc(3 * L.PAGE_SIZE);
      expect(q).to.equal(p);
      expect(pool.u8.subarray(q, q + 3 * L.PAGE_SIZE).every((x) => x === 0)).to.equal(true);
    });

    it('freeing a run joins it with free neighbours on both sides', () => {
      const a = pool.alloc(2 * L.PAGE_SIZE);
      const b = pool.alloc(3 * L.PAGE_SIZE);
      const c = pool.alloc(4 * L.PAGE_SIZE);
      const d = pool.alloc(1 * L.PAGE_SIZE);
      pool.free(a);
      pool.free(c);
      pool.verify();
      pool.free(b); // joins a and c
      pool.verify();
      const big = pool.alloc(9 * L.PAGE_SIZE);
      expect(big).to.equal(a);
      pool.free(big);
      pool.free(d);
      expect(pool.freeSpace()).to.equal(pool.pagesTotal * L.PAGE_SIZE);
      // One free run again: the whole data area can be allocated at once.
      expect(pool.alloc(pool.pagesTotal * L.PAGE_SIZE)).to.equal(pool.dataStart);
    });

    it('stats follow each operation', () => {
      const c = pool.classes.byEighth[(100 + 7) >>> 3];
      const size = pool.classes.size[c];
      const count = pool.classes.count[c];
      const x = pool.alloc(100);
      let st = pool.stats();
      expect(st.slots[c]).to.deep.equal({
        size,
        total: count,
        used: 1,
        cached: 0,
        reqs: 1,
        fails: 0,
      });
      expect(st.pagesFree).to.equal(pool.pagesTotal - pool.classes.span[c]);
      const y = pool.alloc(100);
      st = pool.stats();
      expect(st.slots[c]).to.deep.equal({
        size,
        total: count,
        used: 2,
        cached: 0,
        reqs: 2,
        fails: 0,
      });
      pool.free(x);
      expect(pool.stats().slots[c].used).to.equal(1);
      pool.free(y);
      st = pool.stats();
      expect(st.slots[c]).to.deep.equal({ size, total: 0, used: 0, cached: 0, reqs: 2, fails: 0 });
      expect(st.pagesFree).to.equal(pool.pagesTotal);
      expect(st.lock.acquisitions).to.equal(4);
      expect(st.generation).to.equal(0);
    });
  });
}

describe('SlabPool create/open', () => {
  it('works at a non-zero, non-page-aligned offset of the zone and keeps data pages zone-aligned', () => {
    const sab = new SharedArrayBuffer(600 * 1024);
    const pool = SlabPool.create(sab, 1000, 500 * 1024, owner(), { threadCache: false });
    expect(pool.dataStart % L.PAGE_SIZE).to.equal(0);
    expect(pool.dataEnd).to.be.at.most(1000 + 500 * 1024);
    const a = pool.alloc(10);
    const b = pool.alloc(5000);
    pool.verify();
    const other = SlabPool.open(sab, 1000, owner(2));
    expect(other.usableSize(a)).to.equal(pool.usableSize(a));
    other.free(b);
    other.free(a);
    other.releaseThreadCache(); // its thread cache held them
    pool.verify();
    expect(pool.freeSpace()).to.equal(pool.pagesTotal * L.PAGE_SIZE);
  });

  it('rejects bad regions with argument errors', () => {
    const sab = new SharedArrayBuffer(64 * 1024);
    expect(
      thrown(() =>
        SlabPool.create(new ArrayBuffer(8) as unknown as SharedArrayBuffer, 0, 8, owner()),
      ).code,
    ).to.equal('ERR_SLAB_BUFFER');
    expect(thrown(() => SlabPool.create(sab, 4, 1024, owner())).code).to.equal('ERR_SLAB_OFFSET');
    expect(thrown(() => SlabPool.create(sab, -8, 1024, owner())).code).to.equal('ERR_SLAB_OFFSET');
    expect(thrown(() => SlabPool.create(sab, 0, 64 * 1024 + 8, owner())).code).to.equal(
      'ERR_SLAB_LENGTH',
    );
    expect(thrown(() => SlabPool.create(sab, 0, 1.5, owner())).code).to.equal('ERR_SLAB_LENGTH');
    expect(thrown(() => SlabPool.create(sab, 0, 4096, owner())).code).to.equal(
      'ERR_SLAB_POOL_SIZE',
    );
    expect(
      thrown(() => SlabPool.create(sab, 0, 64 * 1024, owner(), { sizeClasses: 'x' as 'fine' }))
        .code,
    ).to.equal('ERR_SLAB_MODE');
  });

  it('open() refuses a region without a valid header, never reading out of bounds', () => {
    const sab = new SharedArrayBuffer(256 * 1024);
    expect(thrown(() => SlabPool.open(sab, 0, owner())).code).to.equal('ERR_SLAB_CORRUPT');
    expect(thrown(() => SlabPool.open(sab, 256 * 1024 - 16, owner())).code).to.equal(
      'ERR_SLAB_CORRUPT',
    );
    const pool = SlabPool.create(sab, 0, 256 * 1024, owner());
    const u32 = pool.u32;
    const saved = u32.slice(0, 32);
    u32[2] = (1024 * 1024) / 8; // length past the buffer
    expect(thrown(() => SlabPool.open(sab, 0, owner())).code).to.equal('ERR_SLAB_CORRUPT');
    u32.set(saved);
    u32[1] = 99; // version
    expect(thrown(() => SlabPool.open(sab, 0, owner())).code).to.equal('ERR_SLAB_CORRUPT');
    u32.set(saved);
    u32[3] = 7; // mode
    expect(thrown(() => SlabPool.open(sab, 0, owner())).code).to.equal('ERR_SLAB_CORRUPT');
    u32.set(saved);
    u32[8] += 1; // pages total
    expect(thrown(() => SlabPool.open(sab, 0, owner())).code).to.equal('ERR_SLAB_CORRUPT');
    u32.set(saved);
    expect(() => SlabPool.open(sab, 0, owner())).not.to.throw();
  });

  it('plans offsets for a 4 GiB zone: u32 math holds at the top of the range', () => {
    // Geometry only (allocating 4 GiB in a test is too much for CI).
    return import('../../src/slab/layout.js').then(({ computeGeometry }) => {
      const g = computeGeometry(0, 2 ** 32 - 8, 31)!;
      const dataEnd = g.dataStart + g.pagesTotal * L.PAGE_SIZE;
      expect(dataEnd).to.be.at.most(2 ** 32);
      expect(g.pagesTotal).to.be.above(1_040_000);
      expect((dataEnd - L.PAGE_SIZE - g.dataStart) >>> 12).to.equal(g.pagesTotal - 1);
      expect(g.descWord + (g.firstDesc + g.pagesTotal) * 4).to.be.below(2 ** 30);
    });
  });
});
