import { expect } from 'chai';
import { DictStatus, FAILED, STORED, STORED_FORCIBLY } from '../../src/dict/status.js';
import { makeDict } from './util.js';

const SMALL = 256 * 1024;

/** Fill with `safeSet` of `size`-byte values until the zone refuses; returns the count. */
function fill(dict: ReturnType<typeof makeDict>['dict'], size: number, prefix = 'fill'): number {
  let i = 0;
  while (dict.safeSet(`${prefix}${i}`, 'x'.repeat(size))) i++;
  return i;
}

describe('SharedDict eviction, capacity and free space', () => {
  it('capacity() is the pool size; freeSpace() counts whole free pages and shrinks as data grows', () => {
    const { dict, pool } = makeDict(SMALL);
    expect(dict.capacity()).to.equal(SMALL);
    const before = dict.freeSpace();
    expect(before % 4096).to.equal(0);
    expect(before).to.be.above(0).and.below(SMALL);
    for (let i = 0; i < 100; i++) dict.set(`k${i}`, 'v'.repeat(1000));
    expect(dict.freeSpace()).to.be.below(before);
    pool.verify();
    dict.verify();
  });

  it('a full zone evicts from the LRU tail and says STORED_FORCIBLY', () => {
    const { dict, pool } = makeDict(SMALL);
    const n = fill(dict, 200);
    expect(dict.set('new', 'y'.repeat(200))).to.equal(STORED_FORCIBLY);
    expect(dict.lastStatus).to.equal(DictStatus.FORCIBLE);
    expect(dict.get('new')).to.equal('y'.repeat(200));
    expect(dict.get('fill0')).to.equal(undefined); // the oldest went first
    expect(dict.get(`fill${n - 1}`)).to.equal('x'.repeat(200));
    expect(dict.stats().evictions).to.be.at.least(1);
    pool.verify();
    dict.verify();
  });

  it('evicts in LRU order, giving entries read since their write a second chance', () => {
    const { dict } = makeDict(SMALL);
    const n = fill(dict, 200);
    dict.get('fill0'); // marked: survives the next eviction
    dict.set('new1', 'y'.repeat(200));
    expect(dict.has('fill0')).to.equal(true);
    expect(dict.has('fill1')).to.equal(false);
    expect(dict.keys(0).at(-2)).to.equal('fill0'); // promoted to the head, then new1 on top
    expect(dict.has(`fill${n - 1}`)).to.equal(true);
  });

  it('locked-read mode evicts in exact LRU order', () => {
    const { dict } = makeDict(SMALL, { reads: 'locked' });
    fill(dict, 200);
    dict.get('fill0');
    dict.get('fill1');
    dict.set('new1', 'y'.repeat(200));
    expect(dict.has('fill0')).to.equal(true);
    expect(dict.has('fill1')).to.equal(true);
    expect(dict.has('fill2')).to.equal(false);
  });

  it('safeSet and safeAdd never evict: FAILED + NO_MEMORY', () => {
    const { dict, pool } = makeDict(SMALL);
    const n = fill(dict, 200);
    expect(dict.safeSet('new', 'y'.repeat(200))).to.equal(FAILED);
    expect(dict.lastStatus).to.equal(DictStatus.NO_MEMORY);
    expect(dict.safeAdd('new', 'y'.repeat(200))).to.equal(FAILED);
    expect(dict.lastStatus).to.equal(DictStatus.NO_MEMORY);
    expect(dict.size()).to.equal(n);
    expect(dict.stats().evictions).to.equal(0);
    pool.verify();
    dict.verify();
  });

  it('a value larger than the zone fails with NO_MEMORY and evicts nothing, empty or not', () => {
    const { dict, pool } = makeDict(SMALL);
    expect(dict.set('huge', 'x'.repeat(SMALL))).to.equal(FAILED);
    expect(dict.lastStatus).to.equal(DictStatus.NO_MEMORY);
    dict.set('a', 1);
    expect(dict.set('huge', 'x'.repeat(SMALL))).to.equal(FAILED);
    expect(dict.lastStatus).to.equal(DictStatus.NO_MEMORY);
    expect(dict.has('a')).to.equal(true);
    pool.verify();
    dict.verify();
  });

  it('a set that grows a value keeps the old value when the new one does not fit (Lua loses it)', () => {
    const { dict, pool } = makeDict(SMALL);
    dict.set('k', 'old value');
    expect(dict.safeSet('k', 'x'.repeat(SMALL))).to.equal(FAILED);
    expect(dict.get('k')).to.equal('old value');
    expect(dict.set('k', 'x'.repeat(SMALL))).to.equal(FAILED);
    expect(dict.get('k')).to.equal('old value'); // never evicts the key being written
    fill(dict, 200);
    expect(dict.safeSet('k', 'z'.repeat(5000))).to.equal(FAILED);
    expect(dict.get('k')).to.equal('old value');
    expect(dict.set('k', 'z'.repeat(5000))).to.equal(STORED_FORCIBLY);
    expect(dict.get('k')).to.equal('z'.repeat(5000));
    pool.verify();
    dict.verify();
  });

  it('expired entries are reclaimed before live ones are evicted', () => {
    const { dict, clock } = makeDict(SMALL);
    const n = fill(dict, 200);
    for (let i = n - 5; i < n; i++) dict.expire(`fill${i}`, 1);
    clock.advance(1);
    dict.flushExpired();
    expect(dict.set('new', 'y'.repeat(200))).to.equal(STORED);
    expect(dict.has('fill0')).to.equal(true);
  });

  it('evictionTries = 0 turns eviction off', () => {
    const { dict } = makeDict(SMALL, { evictionTries: 0 });
    fill(dict, 200);
    expect(dict.set('new', 'y'.repeat(200))).to.equal(FAILED);
    expect(dict.lastStatus).to.equal(DictStatus.NO_MEMORY);
  });

  it('keeps working through many evictions of mixed sizes, memory accounted exactly', () => {
    const { dict, pool } = makeDict(SMALL);
    let stored = 0;
    for (let i = 0; i < 5000; i++) {
      const r = dict.set(`k${i}`, 'v'.repeat(10 + ((i * 7919) % 3000)));
      if (r) stored++;
    }
    expect(stored).to.be.above(4900);
    pool.verify();
    dict.verify();
    for (const k of dict.keys(0)) dict.delete(k);
    dict.flushExpired();
    expect(dict.size()).to.equal(0);
    expect(dict.stats().bytesUsed).to.equal(0);
    pool.verify();
    dict.verify();
  });

  it('incr with init evicts when needed and reports FORCIBLE', () => {
    const { dict } = makeDict(SMALL);
    fill(dict, 200);
    expect(dict.incr('counter', 1, 0)).to.equal(1);
    expect(dict.lastStatus).to.equal(DictStatus.FORCIBLE);
  });

  it('all-in: after deleting every key the slab holds only the dict structures', () => {
    const { dict, pool } = makeDict(SMALL);
    const base = pool.freeSpace();
    fill(dict, 100);
    for (let i = 0; i < 3000; i++) dict.set(`e${i}`, 'q'.repeat(i % 500));
    for (const k of dict.keys(0)) dict.delete(k);
    expect(dict.size()).to.equal(0);
    expect(dict.stats().bytesUsed).to.equal(0);
    // The index may have grown; everything else is back.
    expect(pool.freeSpace()).to.be.at.least(base - 64 * 1024);
    expect(STORED).to.equal(1);
    pool.verify();
    dict.verify();
  });

  it('never fits: a value larger than the empty zone fails at once with NO_MEMORY and evicts nothing', () => {
    const { dict } = makeDict(1024 * 1024);
    for (let i = 0; i < 3000; i++) dict.set(`k${i}`, i);
    const before = dict.stats();
    expect(before.entries).to.equal(3000);
    const big = Buffer.alloc(2 * 1024 * 1024);
    expect(dict.set('big', big)).to.equal(FAILED);
    expect(dict.lastStatus).to.equal(DictStatus.NO_MEMORY);
    expect(dict.add('big', big)).to.equal(FAILED);
    expect(dict.replace('k1', big)).to.equal(FAILED);
    expect(dict.stats()).to.deep.include({ entries: 3000, evictions: 0 });
    expect(dict.get('k0')).to.equal(0);
    // One that fits in an empty zone still evicts what it needs (bounded), and is stored.
    expect(dict.set('most', Buffer.alloc(800 * 1024))).to.equal(STORED_FORCIBLY);
    expect(dict.stats().evictions).to.be.above(0);
    dict.verify();
  });
});
