/**
 * held-entry.ts: with thread caches a store builds its entry before the lock in a held chunk
 * and pushes the entry it replaced into the cache after; under the lock it only links.
 */
import { expect } from 'chai';
import type { DictValue } from '../../src/dict/codec.js';
import { buildBeforeLock } from '../../src/dict/held-entry.js';
import { D_FLUSH_GEN } from '../../src/dict/layout.js';
import { locked } from '../../src/dict/session.js';
import { storeLocked } from '../../src/dict/store.js';
import { C } from '../../src/slab/cache-layout.js';
import type { SlabPool } from '../../src/slab/pool.js';
import { makeDict, MiB } from './util.js';

/** Counts the pool's locked allocations and frees while `fn` runs. */
function lockedCalls(pool: SlabPool, fn: () => void): { allocs: number; frees: number } {
  const n = { allocs: 0, frees: 0 };
  const alloc = pool.allocLocked;
  const free = pool.freeLocked;
  pool.allocLocked = (size: number) => (n.allocs++, alloc.call(pool, size));
  pool.freeLocked = (o: number) => (n.frees++, free.call(pool, o));
  try {
    fn();
  } finally {
    pool.allocLocked = alloc;
    pool.freeLocked = free;
  }
  return n;
}

/** What is allocated in `p`: chunks used per class, and bytes in free pages. */
const usedBytes = (p: SlabPool): string =>
  JSON.stringify([p.stats().slots.map((s) => s.used), p.freeSpace()]);

(process.env.SHMZONE_DEBUG === '1' ? describe.skip : describe)(
  'SharedDict: entries built before the lock',
  () => {
    it('an overwrite allocates and frees nothing under the lock once the cache is stocked', () => {
      const { dict, pool } = makeDict(16 * MiB, { threadCache: true });
      for (let i = 0; i < 50; i++) dict.set(`k${i}`, 'x'.repeat(100));
      const n = lockedCalls(pool, () => {
        for (let i = 0; i < 50; i++) dict.set(`k${i}`, 'y'.repeat(100 + (i % 8)));
      });
      expect(n).to.deep.equal({ allocs: 0, frees: 0 });
      for (let i = 0; i < 50; i++) expect(dict.get(`k${i}`)).to.equal('y'.repeat(100 + (i % 8)));
      expect(pool.u32[pool.cacheWord + C.B_HELD]).to.equal(0);
      dict.verify();
      pool.verify();
    });

    it('without thread caches every store allocates and frees under the lock', () => {
      const { dict, pool } = makeDict(16 * MiB);
      for (let i = 0; i < 50; i++) dict.set(`k${i}`, 'x'.repeat(100));
      const n = lockedCalls(pool, () => {
        for (let i = 0; i < 50; i++) dict.set(`k${i}`, 'y'.repeat(100));
      });
      expect(n).to.deep.equal({ allocs: 50, frees: 50 });
    });

    it('a store that does not link its built entry (add of a live key) gives it back: nothing leaks', () => {
      const { dict, pool } = makeDict(16 * MiB, { threadCache: true });
      for (let i = 0; i < 20; i++) dict.set(`k${i}`, 'x'.repeat(100));
      const used = usedBytes(pool);
      for (let i = 0; i < 20; i++) expect(dict.add(`k${i}`, 'z'.repeat(100))).to.equal(0);
      expect(dict.replace('missing', 'z'.repeat(100))).to.equal(0);
      expect(usedBytes(pool)).to.equal(used);
      expect(pool.u32[pool.cacheWord + C.B_HELD]).to.equal(0);
      expect(dict.get('k3')).to.equal('x'.repeat(100));
      dict.verify();
    });

    it('a lock that throws after the build: the chunk goes back, the next store builds again', () => {
      const { dict, pool } = makeDict(16 * MiB, { threadCache: true });
      for (let i = 0; i < 10; i++) dict.set(`k${i}`, 'x'.repeat(100));
      const lock = pool.lock;
      pool.lock = () => {
        pool.lock = lock;
        throw new Error('lock failed');
      };
      expect(() => dict.set('k1', 'y'.repeat(100))).to.throw('lock failed');
      expect(pool.u32[pool.cacheWord + C.B_HELD], 'nothing held').to.equal(0);
      expect(dict.get('k1')).to.equal('x'.repeat(100));
      const n = lockedCalls(pool, () => dict.set('k1', 'y'.repeat(100)));
      expect(n, 'the held path again').to.deep.equal({ allocs: 0, frees: 0 });
      expect(dict.get('k1')).to.equal('y'.repeat(100));
      dict.verify();
      pool.verify();
    });

    it('a flush_all between the build and the link: the entry is live in the new generation', () => {
      const { dict, pool } = makeDict(16 * MiB, { threadCache: true });
      for (let i = 0; i < 10; i++) dict.set(`k${i}`, 'x'.repeat(100));
      const s = dict.session;
      const value = 'z'.repeat(100); // the class the stores above stocked
      s.key.load('k1');
      s.vi.classify(value);
      buildBeforeLock(s, s.vi.type, s.vi.length, value, 0, 0);
      expect(s.heldEntry).to.not.equal(0);
      // Another writer's flush_all, straight through the pool (not `locked`, which would
      // give the held chunk back on the way out).
      const c = dict.core;
      pool.lock();
      c.w(c.hw + D_FLUSH_GEN, c.u32[c.hw + D_FLUSH_GEN] + 1);
      pool.commit();
      pool.unlock();
      locked(
        s,
        true,
        (ss, v: DictValue) =>
          storeLocked(ss, ss.lookup(), false, ss.vi.type, ss.vi.length, v, 0, 0),
        value as DictValue,
        0,
        0,
        0,
      );
      expect(dict.get('k1')).to.equal(value);
      expect(dict.get('k2')).to.equal(undefined);
      dict.verify();
    });

    it('random stores, deletes and sizes across classes and runs agree with a Map; then nothing leaks', () => {
      const { dict, pool } = makeDict(16 * MiB, { threadCache: true });
      // The index grows to its size for 300 keys first: it does not shrink again.
      for (let i = 0; i < 300; i++) dict.set(`key:${i}`, 1);
      for (let i = 0; i < 300; i++) dict.delete(`key:${i}`);
      pool.releaseThreadCache(true);
      const baseline = usedBytes(pool);
      const model = new Map<string, string>();
      let x = 12345;
      const rnd = (n: number): number => {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        return (x >>> 0) % n;
      };
      for (let i = 0; i < 5000; i++) {
        const k = `key:${rnd(300)}`;
        const op = rnd(10);
        const v = `${i}:`.padEnd(rnd(5) === 0 ? 3000 + rnd(9000) : 1 + rnd(400), '#');
        if (op < 6) {
          expect(dict.set(k, v)).to.equal(1);
          model.set(k, v);
        } else if (op === 6) {
          expect(dict.add(k, v)).to.equal(model.has(k) ? 0 : 1);
          if (!model.has(k)) model.set(k, v);
        } else if (op === 7) {
          expect(dict.replace(k, v)).to.equal(model.has(k) ? 1 : 0);
          if (model.has(k)) model.set(k, v);
        } else {
          dict.delete(k);
          model.delete(k);
        }
      }
      for (const [k, v] of model) expect(dict.get(k), k).to.equal(v);
      expect(dict.size()).to.equal(model.size);
      dict.verify();
      pool.verify();
      for (const k of model.keys()) dict.delete(k);
      pool.releaseThreadCache();
      expect(usedBytes(pool)).to.equal(baseline);
      pool.verify();
    });
  },
);
