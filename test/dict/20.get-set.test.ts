import { expect } from 'chai';
import { DictStatus, FAILED, STORED } from '../../src/dict/status.js';
import { attachAgain, makeDict, type TestDict } from './util.js';

for (const reads of ['seqlock', 'locked'] as const) {
  describe(`SharedDict get/set family (reads: ${reads})`, () => {
    let t: TestDict;
    beforeEach(() => {
      t = makeDict(4 * 1024 * 1024, { reads });
    });
    afterEach(() => t.dict.verify());

    it('round-trips every value type, with string and byte keys naming the same key', () => {
      const { dict } = t;
      const values = [
        '',
        'text',
        'ünï 😀',
        0,
        -0.5,
        1e300,
        NaN,
        Infinity,
        true,
        false,
        Buffer.alloc(0),
        Buffer.from('bytes'),
      ];
      values.forEach((v, i) => expect(dict.set(`k${i}`, v)).to.equal(STORED));
      values.forEach((v, i) => {
        const got = dict.get(`k${i}`);
        if (v instanceof Uint8Array) expect(Buffer.isBuffer(got)).to.equal(true);
        expect(got).to.deep.equal(v);
      });
      dict.set(Buffer.from('bin'), 'x');
      expect(dict.get('bin')).to.equal('x');
      const u8 = new Uint8Array([1, 2, 250]);
      dict.set('u8', u8);
      const got = dict.get('u8') as Buffer;
      expect([...got]).to.deep.equal([1, 2, 250]);
      got[0] = 99; // a copy: shared memory is not changed
      expect((dict.get('u8') as Buffer)[0]).to.equal(1);
    });

    it('stores flags and reports them in lastFlags, 0 on a miss', () => {
      const { dict } = t;
      dict.set('f', 'v', 0, 0xffffffff);
      expect(dict.get('f')).to.equal('v');
      expect(dict.lastFlags).to.equal(0xffffffff);
      dict.set('g', 'v');
      dict.get('g');
      expect(dict.lastFlags).to.equal(0);
      dict.get('f');
      dict.get('missing');
      expect(dict.lastFlags).to.equal(0);
      expect(dict.lastStatus).to.equal(DictStatus.NOT_FOUND);
    });

    it('overwrites values of any size and type', () => {
      const { dict } = t;
      dict.set('k', 'short');
      dict.set('k', 'a much longer value than before'.repeat(20));
      expect(dict.get('k')).to.equal('a much longer value than before'.repeat(20));
      dict.set('k', 7);
      expect(dict.get('k')).to.equal(7);
      dict.set('k', 'x');
      expect(dict.get('k')).to.equal('x');
      expect(dict.size()).to.equal(1);
    });

    it('add: stores a missing or expired key, refuses a live one with EXISTS', () => {
      const { dict, clock } = t;
      expect(dict.add('a', 1)).to.equal(STORED);
      expect(dict.add('a', 2)).to.equal(FAILED);
      expect(dict.lastStatus).to.equal(DictStatus.EXISTS);
      expect(dict.get('a')).to.equal(1);
      dict.set('b', 1, 10);
      clock.advance(10);
      expect(dict.add('b', 2)).to.equal(STORED);
      expect(dict.get('b')).to.equal(2);
      expect(dict.safeAdd('b', 3)).to.equal(FAILED);
      expect(dict.lastStatus).to.equal(DictStatus.EXISTS);
      expect(dict.safeAdd('c', 3)).to.equal(STORED);
    });

    it('replace: stores over a live key only, NOT_FOUND otherwise', () => {
      const { dict, clock } = t;
      expect(dict.replace('a', 1)).to.equal(FAILED);
      expect(dict.lastStatus).to.equal(DictStatus.NOT_FOUND);
      expect(dict.get('a')).to.equal(undefined);
      dict.set('a', 1, 5);
      expect(dict.replace('a', 2, 0, 9)).to.equal(STORED);
      expect(dict.get('a')).to.equal(2);
      expect(dict.lastFlags).to.equal(9);
      expect(dict.ttl('a')).to.equal(0); // replace set a new TTL (none)
      dict.set('b', 1, 5);
      clock.advance(5);
      expect(dict.replace('b', 2)).to.equal(FAILED);
      expect(dict.lastStatus).to.equal(DictStatus.NOT_FOUND);
    });

    it('set(key, null/undefined) deletes, as Lua nil', () => {
      const { dict } = t;
      dict.set('a', 1);
      expect(dict.set('a', null)).to.equal(STORED);
      expect(dict.has('a')).to.equal(false);
      dict.set('b', 1);
      expect(dict.safeSet('b', undefined)).to.equal(STORED);
      expect(dict.get('b')).to.equal(undefined);
      expect(dict.set('never', null)).to.equal(STORED);
    });

    it('delete returns whether a live value was removed', () => {
      const { dict, clock } = t;
      dict.set('a', 1);
      expect(dict.delete('a')).to.equal(true);
      expect(dict.delete('a')).to.equal(false);
      dict.set('b', 1, 5);
      clock.advance(6);
      expect(dict.delete('b')).to.equal(false); // expired: removed, but not live
      expect(dict.size()).to.equal(0);
    });

    it('has and size', () => {
      const { dict, clock } = t;
      expect(dict.has('a')).to.equal(false);
      dict.set('a', 1);
      dict.set('b', 2, 10);
      expect(dict.has('a')).to.equal(true);
      expect(dict.size()).to.equal(2);
      clock.advance(10);
      expect(dict.has('b')).to.equal(false);
      expect(dict.size()).to.equal(2); // expired, not reclaimed yet
      dict.flushExpired();
      expect(dict.size()).to.equal(1);
    });

    it('a second object over the same memory sees the same dict', () => {
      const { dict } = t;
      const other = attachAgain(t, { reads });
      dict.set('shared', 'yes');
      expect(other.get('shared')).to.equal('yes');
      other.set('back', 2);
      expect(dict.get('back')).to.equal(2);
    });

    it('counts hits and misses, entries and bytes in stats()', () => {
      const { dict } = t;
      dict.set('a', 'x'.repeat(100));
      dict.get('a');
      dict.get('a');
      dict.get('b');
      const s = dict.stats();
      expect(s).to.include({ entries: 1, hits: 2, misses: 1, evictions: 0, expirations: 0 });
      expect(s.bytesUsed).to.equal(40 + 8 + 104);
      dict.delete('a');
      expect(dict.stats()).to.include({ entries: 0, bytesUsed: 0 });
    });

    it('grows the index past its initial 1024 slots without losing keys', () => {
      const { dict } = t;
      for (let i = 0; i < 20000; i++) dict.set(`k${i}`, i);
      for (let i = 0; i < 20000; i++) expect(dict.get(`k${i}`)).to.equal(i);
      expect(dict.size()).to.equal(20000);
      for (let i = 0; i < 20000; i += 3) dict.delete(`k${i}`);
      for (let i = 0; i < 20000; i++) expect(dict.get(`k${i}`)).to.equal(i % 3 ? i : undefined);
    });
  });
}
