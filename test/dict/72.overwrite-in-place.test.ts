/**
 * Overwriting a key in a full dict (issue 17, from OpenResty's 043-shdict.t): a value that fits
 * the key's existing chunk is written in place (src/dict/overwrite.ts), so it neither evicts
 * other keys (lua's forcible=false) nor fails under safeSet. The crash side (a writer killed
 * in the middle leaves the old or the new value) is the in-place sweep of
 * test/crash/20.crash-points.test.ts.
 */
import { expect } from 'chai';
import { DictStatus, FAILED, STORED, STORED_FORCIBLY } from '../../src/dict/status.js';
import { IN_PLACE_MAX_VALUE_BYTES } from '../../src/dict/overwrite.js';
import { attachAgain, makeDict, type TestDict } from './util.js';

const SMALL = 256 * 1024;

/** Fill with `safeSet` of `size`-byte values until the zone refuses; returns the count. */
function fillFull(t: TestDict, size: number): number {
  let i = 0;
  while (t.dict.safeSet(`fill${i}`, 'x'.repeat(size)) === STORED) i++;
  expect(t.dict.safeSet('one-more', 'x'.repeat(size)), 'the dict is full').to.equal(FAILED);
  return i;
}

function checkAll(t: TestDict, n: number, except: string, expected: (i: number) => unknown): void {
  for (let i = 0; i < n; i++) {
    const key = `fill${i}`;
    if (key !== except) expect(t.dict.get(key), key).to.deep.equal(expected(i));
  }
}

describe('SharedDict overwrite in place in a full dict', () => {
  it('set of a same-size value: STORED, not forcible, nothing evicted, every other key kept', () => {
    const t = makeDict(SMALL);
    const n = fillFull(t, 200);
    const evictionsBefore = t.dict.stats().evictions;
    expect(t.dict.set('fill7', 'y'.repeat(200))).to.equal(STORED);
    expect(t.dict.lastStatus).to.equal(DictStatus.OK);
    expect(t.dict.get('fill7')).to.equal('y'.repeat(200));
    expect(t.dict.stats().evictions).to.equal(evictionsBefore);
    expect(t.dict.size()).to.equal(n);
    checkAll(t, n, 'fill7', () => 'x'.repeat(200));
    expect(t.dict.keys(0).at(-1), 'the overwritten key is the most recent').to.equal('fill7');
    t.pool.verify();
    t.dict.verify();
  });

  it('safeSet of a same-size value succeeds where a new key fails', () => {
    const t = makeDict(SMALL);
    const n = fillFull(t, 200);
    expect(t.dict.safeSet('fill3', 'z'.repeat(200))).to.equal(STORED);
    expect(t.dict.get('fill3')).to.equal('z'.repeat(200));
    expect(t.dict.safeSet('brand-new', 'z'.repeat(200))).to.equal(FAILED);
    expect(t.dict.lastStatus).to.equal(DictStatus.NO_MEMORY);
    expect(t.dict.size()).to.equal(n);
    t.dict.verify();
  });

  it('a shorter value, another type, flags and a TTL all land in place; bytes are recounted', () => {
    const t = makeDict(SMALL);
    const n = fillFull(t, 200);
    const bytesBefore = t.dict.stats().bytesUsed;
    expect(t.dict.set('fill1', 'short', 0, 7)).to.equal(STORED);
    expect(t.dict.get('fill1')).to.equal('short');
    expect(t.dict.lastFlags).to.equal(7);
    expect(t.dict.stats().bytesUsed).to.be.below(bytesBefore);
    expect(t.dict.set('fill2', 42.5)).to.equal(STORED);
    expect(t.dict.get('fill2')).to.equal(42.5);
    expect(t.dict.set('fill4', new Uint8Array([1, 2, 3]))).to.equal(STORED);
    expect(Buffer.from(t.dict.get('fill4') as Uint8Array)).to.deep.equal(Buffer.from([1, 2, 3]));
    expect(t.dict.set('fill5', { a: [1, 2], b: 'c' })).to.equal(STORED);
    expect(t.dict.get('fill5')).to.deep.equal({ a: [1, 2], b: 'c' });
    expect(t.dict.set('fill6', 'ttl'.repeat(20), 1000)).to.equal(STORED);
    expect(t.dict.ttl('fill6')).to.be.within(999, 1000);
    t.clock.advance(1001);
    expect(t.dict.get('fill6')).to.equal(undefined);
    expect(t.dict.size()).to.equal(n);
    t.pool.verify();
    t.dict.verify();
  });

  it('another SharedDict over the same memory (lock-free reads) sees the new value', () => {
    const t = makeDict(SMALL);
    fillFull(t, 200);
    const other = attachAgain(t);
    expect(other.get('fill9')).to.equal('x'.repeat(200));
    t.dict.set('fill9', 'w'.repeat(200));
    expect(other.get('fill9')).to.equal('w'.repeat(200));
    expect(other.getStale('fill9')).to.equal('w'.repeat(200));
  });

  it('a value larger than the chunk still evicts (STORED_FORCIBLY), as before', () => {
    const t = makeDict(SMALL);
    fillFull(t, 200);
    expect(t.dict.set('fill8', 'L'.repeat(3000))).to.equal(STORED_FORCIBLY);
    expect(t.dict.get('fill8')).to.equal('L'.repeat(3000));
    expect(t.dict.stats().evictions).to.be.at.least(1);
    t.dict.verify();
  });

  it(`values over ${IN_PLACE_MAX_VALUE_BYTES} bytes take the normal path (they evict in a full dict)`, () => {
    const t = makeDict(SMALL);
    const size = IN_PLACE_MAX_VALUE_BYTES + 400;
    fillFull(t, size);
    expect(t.dict.set('fill0', 'q'.repeat(size))).to.equal(STORED_FORCIBLY);
    expect(t.dict.get('fill0')).to.equal('q'.repeat(size));
    for (let i = 0; t.dict.safeSet(`more${i}`, 'x'.repeat(size)) === STORED; i++); // full again
    expect(t.dict.safeSet('fill0', 'r'.repeat(size))).to.equal(FAILED);
    expect(t.dict.get('fill0'), 'a failed safeSet keeps the old value').to.equal('q'.repeat(size));
    t.dict.verify();
  });

  it('a list key is never overwritten in place: set replaces it the normal way', () => {
    const t = makeDict(SMALL);
    t.dict.lpush('fill0', 'a');
    fillFull(t, 200);
    const r = t.dict.set('fill0', 'v');
    expect(r === STORED || r === STORED_FORCIBLY).to.equal(true);
    expect(t.dict.get('fill0')).to.equal('v');
    t.pool.verify();
    t.dict.verify();
  });
});
