/**
 * getInto: zero-allocation reads of string and binary values into a caller's buffer.
 */
import { expect } from 'chai';
import { DictStatus } from '../../src/dict/status.js';
import { makeDict, thrown, type TestDict } from './util.js';

for (const reads of ['seqlock', 'locked'] as const) {
  describe(`SharedDict getInto (reads: ${reads})`, () => {
    let t: TestDict;
    beforeEach(() => {
      t = makeDict(4 * 1024 * 1024, { reads });
    });
    afterEach(() => t.dict.verify());

    it('copies binary values and UTF-8 strings, returns their length and sets lastFlags', () => {
      const { dict } = t;
      const bin = Buffer.from(Array.from({ length: 103 }, (_, i) => (i * 7) & 0xff));
      dict.set('b', bin, 0, 9);
      dict.set('s', 'ünï 😀', 0, 4);
      dict.set('e', '');
      const target = new Uint8Array(256);
      expect(dict.getInto('b', target)).to.equal(103);
      expect(dict.lastStatus).to.equal(DictStatus.OK);
      expect(dict.lastFlags).to.equal(9);
      expect(Buffer.from(target.subarray(0, 103)).equals(bin)).to.equal(true);
      const n = dict.getInto('s', target);
      expect(n).to.equal(Buffer.byteLength('ünï 😀'));
      expect(Buffer.from(target.subarray(0, n)).toString()).to.equal('ünï 😀');
      expect(dict.lastFlags).to.equal(4);
      expect(dict.getInto('e', target)).to.equal(0);
      expect(dict.lastStatus).to.equal(DictStatus.OK);
    });

    it('works with unaligned and exactly-sized targets, and when the target changes', () => {
      const { dict } = t;
      for (let len = 0; len < 40; len++) {
        const v = Buffer.from(Array.from({ length: len }, (_, i) => (len * 31 + i) & 0xff));
        dict.set(`k${len}`, v);
      }
      const big = new Uint8Array(64);
      const backing = new Uint8Array(70);
      for (let len = 0; len < 40; len++) {
        const want = dict.get(`k${len}`) as Uint8Array;
        for (const target of [big, backing.subarray(1, 1 + len), backing.subarray(4, 44), big]) {
          target.fill(0xee);
          expect(dict.getInto(`k${len}`, target)).to.equal(len);
          expect(Buffer.from(target.subarray(0, len)).equals(want)).to.equal(true);
          if (target.length > len) expect(target[len]).to.equal(0xee);
        }
      }
    });

    it('copies nothing into a short target: returns the length, BUFFER_TOO_SMALL', () => {
      const { dict } = t;
      dict.set('k', Buffer.alloc(50, 1));
      const target = new Uint8Array(49);
      expect(dict.getInto('k', target)).to.equal(50);
      expect(dict.lastStatus).to.equal(DictStatus.BUFFER_TOO_SMALL);
      expect(target.every((b) => b === 0)).to.equal(true);
    });

    it('returns -1 for missing, expired, list, number and boolean values', () => {
      const { dict, clock } = t;
      const target = new Uint8Array(16);
      expect(dict.getInto('nope', target)).to.equal(-1);
      expect(dict.lastStatus).to.equal(DictStatus.NOT_FOUND);
      dict.set('ttl', 'x', 10);
      clock.advance(11);
      expect(dict.getInto('ttl', target)).to.equal(-1);
      expect(dict.lastStatus).to.equal(DictStatus.NOT_FOUND);
      dict.rpush('l', 'a');
      expect(dict.getInto('l', target)).to.equal(-1);
      expect(dict.lastStatus).to.equal(DictStatus.NOT_LIST);
      dict.set('n', 1.5);
      expect(dict.getInto('n', target)).to.equal(-1);
      expect(dict.lastStatus).to.equal(DictStatus.NOT_BYTES);
      dict.set('t', true);
      expect(dict.getInto('t', target)).to.equal(-1);
      expect(dict.lastStatus).to.equal(DictStatus.NOT_BYTES);
    });

    it('counts a copy as a hit and everything else as a miss', () => {
      const { dict } = t;
      const target = new Uint8Array(4);
      dict.set('k', 'abc');
      dict.set('long', 'abcdef');
      dict.getInto('k', target);
      dict.getInto('k', target);
      dict.getInto('long', target);
      dict.getInto('missing', target);
      expect(dict.stats()).to.include({ hits: 2, misses: 2 });
    });

    it('refuses a target that is not a Uint8Array, and bad keys', () => {
      const { dict } = t;
      expect(thrown(() => dict.getInto('k', [] as unknown as Uint8Array)).code).to.equal(
        'ERR_DICT_VALUE_TYPE',
      );
      expect(thrown(() => dict.getInto('', new Uint8Array(1))).code).to.equal('ERR_DICT_KEY_EMPTY');
    });
  });
}
