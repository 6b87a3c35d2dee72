/**
 * Damaged metadata met by alloc()/free() (issue 16, item 1): each case damages one word of a
 * real pool, then runs the operation that follows the damaged link, length or count. It must
 * throw SlabCorruptionError ERR_SLAB_CORRUPT (not loop, not RangeError, not write through the
 * bad link), reset the pool EMPTY under a new generation with a recovery report, and leave a
 * pool that verifies and allocates. The process-level version is test/fuzz/20.damaged-pool.test.ts.
 */
import { expect } from 'chai';
import type { RecoveryReport } from '../../src/slab/api.js';
import { L } from '../../src/slab/layout.js';
import { SlabPool } from '../../src/slab/pool.js';
import { makePool, MiB, owner, thrown } from './util.js';

/** Word index of descriptor d's word `field`. */
const word = (p: SlabPool, d: number, field: number): number =>
  p.descWord + d * L.DESC_WORDS + field;
const pageDesc = (p: SlabPool, offset: number): number =>
  p.firstDesc + ((offset - p.dataStart) >>> 12);

interface Case {
  name: string;
  /** Builds the state, damages it, returns the operation that must detect the damage. */
  arrange(p: SlabPool): () => unknown;
}

const cases: Case[] = [
  {
    name: 'a free-list cycle (big free list links to itself through a second run)',
    arrange(p) {
      // Two big free runs: split the single run with a page run in the middle.
      const a = p.alloc(40 * 4096);
      const mid = p.alloc(4096);
      p.alloc(40 * 4096);
      p.free(a);
      void mid;
      const sent = p.freeSentinel;
      const first = p.u32[word(p, sent, L.D_NEXT)];
      const second = p.u32[word(p, first, L.D_NEXT)];
      expect(second).to.not.equal(sent);
      p.u32[word(p, second, L.D_NEXT)] = first; // first -> second -> first -> ...
      // Neither run is long enough: the walk must go on (and not forever).
      return () => p.alloc(p.pagesTotal * 4096);
    },
  },
  {
    name: 'an out-of-range page link at the head of a class list',
    arrange(p) {
      p.alloc(200); // one slab of the 200 B class, partial
      const c = p.classes.byEighth[(200 + 7) >>> 3];
      p.u32[word(p, c + 1, L.D_NEXT)] = 0x0fffffff;
      return () => p.alloc(200);
    },
  },
  {
    name: 'a class list naming a free run',
    arrange(p) {
      p.alloc(200);
      const c = p.classes.byEighth[(200 + 7) >>> 3];
      const free = p.u32[word(p, p.freeSentinel, L.D_NEXT)];
      p.u32[word(p, c + 1, L.D_NEXT)] = free;
      return () => p.alloc(200);
    },
  },
  {
    name: 'a full slab still listed (MAP all ones)',
    arrange(p) {
      const off = p.alloc(1024);
      p.u32[word(p, pageDesc(p, off), L.D_MAP)] = 0xffffffff;
      return () => p.alloc(1024);
    },
  },
  {
    name: 'an in-page bitmap slab with a used count at its chunk count',
    arrange(p) {
      const off = p.alloc(16);
      const d = pageDesc(p, off);
      const info = p.u32[word(p, d, L.D_INFO)];
      p.u32[word(p, d, L.D_INFO)] = (info & 0xfff) | (4000 << 12);
      return () => p.alloc(16);
    },
  },
  {
    name: 'an in-page bitmap slab with a used count of 0 on free',
    arrange(p) {
      const off = p.alloc(16);
      p.alloc(16);
      const d = pageDesc(p, off);
      p.u32[word(p, d, L.D_INFO)] &= 0xfff;
      return () => p.free(off);
    },
  },
  {
    name: 'a page run whose length runs past the pool',
    arrange(p) {
      const off = p.alloc(3 * 4096);
      p.u32[word(p, pageDesc(p, off), L.D_MAP)] = 0x7fffffff;
      return () => p.free(off);
    },
  },
  {
    name: 'a free-run tail naming a head that does not end at it',
    arrange(p) {
      const a = p.alloc(3 * 4096);
      const b = p.alloc(4096);
      p.alloc(4096);
      p.free(a); // free run of 3 pages before b, tail at its last page
      const tail = pageDesc(p, b) - 1;
      p.u32[word(p, tail, L.D_MAP)] = pageDesc(p, a) + 1;
      return () => p.free(b);
    },
  },
  {
    name: 'a slab whose list neighbour does not link back',
    arrange(p) {
      const c = p.classes.byEighth[(512 + 7) >>> 3];
      const off = p.alloc(512);
      const d = pageDesc(p, off);
      expect(p.u32[word(p, c + 1, L.D_NEXT)]).to.equal(d);
      p.u32[word(p, d, L.D_PREV)] = p.freeSentinel + 3; // an empty bin's sentinel
      // Freeing the last chunk unlinks the slab from its class list.
      return () => p.free(off);
    },
  },
  {
    name: 'a free-bin head that is not a free run',
    arrange(p) {
      const off = p.alloc(4096);
      p.alloc(4096);
      p.free(off); // one-page free run in bin 1
      const d = pageDesc(p, off);
      expect(p.u32[word(p, p.freeSentinel + 1, L.D_NEXT)]).to.equal(d);
      expect(p.u32[word(p, d, L.D_INFO)]).to.equal(L.T_FREE);
      p.u32[word(p, d, L.D_INFO)] = 3; // T_RUN
      return () => p.alloc(4096);
    },
  },
];

describe('slab: damaged metadata on alloc()/free() paths', () => {
  for (const c of cases) {
    it(`${c.name}: ERR_SLAB_CORRUPT, reset empty, then works`, () => {
      const p = makePool(1 * MiB);
      const reports: RecoveryReport[] = [];
      p.onRecovery((r) => reports.push(r));
      const op = c.arrange(p);
      const generation = p.generation;
      const err = thrown(op);
      expect(err.name, err.message).to.equal('SlabCorruptionError');
      expect(err.code).to.equal('ERR_SLAB_CORRUPT');
      expect(p.lockOwner()).to.equal(0);
      expect(p.generation).to.equal(generation + 1);
      expect(reports).to.have.length(1);
      expect(reports[0]).to.include({ deadOwnerId: 0, reset: true });
      p.verify();
      expect(p.stats().pagesFree).to.equal(p.pagesTotal);
      const again = p.alloc(200);
      expect(again).to.be.above(0);
      p.free(again);
      p.verify();
    });
  }

  it('the same damage through allocLocked() under a held lock resets too', () => {
    const p = makePool(1 * MiB);
    p.alloc(200);
    const c = p.classes.byEighth[(200 + 7) >>> 3];
    p.u32[word(p, c + 1, L.D_NEXT)] = 0x0fffffff;
    p.lock();
    try {
      expect(thrown(() => p.allocLocked(200)).code).to.equal('ERR_SLAB_CORRUPT');
    } finally {
      p.unlock();
    }
    p.verify();
    expect(p.alloc(200)).to.be.above(0);
  });
});

describe('slab: debug mode verify at commit finds damage', () => {
  it('a wrong prev link on the free list: reset, reported once, and the lock released', () => {
    const p = makePool(1 * MiB);
    p.alloc(200); // a partial slab of the 200 B class: the next alloc(200) never walks the free list
    const first = p.u32[word(p, p.freeSentinel, L.D_NEXT)];
    p.u32[word(p, first, L.D_PREV)] = first; // only verify() looks at prev links
    const reports: RecoveryReport[] = [];
    p.onRecovery((r) => reports.push(r));
    const generation = p.generation;
    p.debug = true; // as SHMZONE_DEBUG=1 at creation: verify() before every commit
    const err = thrown(() => p.alloc(200));
    expect(err.code, err.message).to.equal('ERR_SLAB_CORRUPT');
    expect(err.message).to.include('verify at commit');
    expect(p.lockOwner(), 'the lock is not left held').to.equal(0);
    expect(p.generation).to.equal(generation + 1);
    expect(reports).to.have.length(1);
    p.verify();
    expect(p.alloc(200)).to.be.above(0);
  });
});

describe('slab: the poison word', () => {
  it('a stray value in the poison word does not turn the checks on over unpoisoned memory', () => {
    const sab = new SharedArrayBuffer(1 * MiB);
    const creator = SlabPool.create(sab, 0, 1 * MiB, owner(1));
    const kept = creator.alloc(100);
    creator.u8.fill(7, kept, kept + 100);
    creator.free(creator.alloc(100)); // free chunks and pages that hold no poison pattern
    for (const stray of [1, 2, 0xa5a5a5a5, 0xffffffff]) {
      creator.u32[creator.base + L.H_POISON] = stray;
      const later = SlabPool.open(sab, 0, owner(2));
      const a = later.alloc(100);
      const b = later.alloc(9000);
      expect(a, `poison word ${stray}`).to.be.above(0);
      expect(b).to.be.above(0);
      later.free(a);
      later.free(b);
      later.verify();
    }
    expect(Array.from(creator.u8.subarray(kept, kept + 100))).to.deep.equal(Array(100).fill(7));
  });

  it('a pool created in debug mode keeps its checks in a process without SHMZONE_DEBUG', () => {
    const saved = process.env.SHMZONE_DEBUG;
    process.env.SHMZONE_DEBUG = '1';
    const sab = new SharedArrayBuffer(256 * 1024);
    let creator: SlabPool;
    try {
      creator = SlabPool.create(sab, 0, 256 * 1024, owner(1));
    } finally {
      if (saved === undefined) delete process.env.SHMZONE_DEBUG;
      else process.env.SHMZONE_DEBUG = saved;
    }
    const later = SlabPool.open(sab, 0, owner(2));
    const a = later.alloc(64);
    later.alloc(64);
    later.free(a);
    expect(creator.u8[a], 'freed memory is poisoned').to.equal(0xa5);
    later.u8[a + 3] = 1; // a write after free
    expect(thrown(() => later.alloc(64)).code).to.equal('ERR_SLAB_CORRUPT');
  });
});
