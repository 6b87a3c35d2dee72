/**
 * The dict header's two cache lines (layout.ts): line 0 holds what lock-free readers load on
 * every get and is left alone by stores; line 1 takes the stores' bookkeeping. If a store
 * wrote line 0, every set in one process would cost each reader elsewhere a cache miss.
 */
import { expect } from 'chai';
import {
  D_BYTES8,
  D_COUNT,
  D_FLUSH_GEN,
  D_MASK,
  D_TABLE,
  HEADER_WORDS,
} from '../../src/dict/layout.js';
import { makeDict } from './util.js';

const LINE_WORDS = 16;

for (const sizeClasses of ['fine', 'pow2'] as const) {
  describe(`SharedDict header lines (${sizeClasses} size classes)`, () => {
    it("starts on a cache line, with the readers' words in line 0 and the writers' in line 1", () => {
      const t = makeDict(4 * 1024 * 1024, { sizeClasses });
      t.dict.set('first', 1); // builds the dict
      expect(t.host.root % 64).to.equal(0);
      expect(HEADER_WORDS).to.equal(2 * LINE_WORDS);
      for (const w of [D_TABLE, D_MASK, D_FLUSH_GEN]) expect(w).to.be.below(LINE_WORDS);
      for (const w of [D_COUNT, D_BYTES8]) expect(w).to.be.at.least(LINE_WORDS);
    });

    it('no store, overwrite, delete, incr or expiry changes a word of line 0', () => {
      const t = makeDict(4 * 1024 * 1024, { sizeClasses });
      const { dict, pool, clock } = t;
      dict.set('first', 1);
      const hw = t.host.root / 4;
      const line0 = () => Array.from(pool.u32.subarray(hw, hw + LINE_WORDS));
      const line1 = () => Array.from(pool.u32.subarray(hw + LINE_WORDS, hw + 2 * LINE_WORDS));
      const before0 = line0();
      const before1 = line1();
      for (let i = 0; i < 200; i++) dict.set(`k${i}`, 'v'.repeat(i), i % 3 === 0 ? 10 : 0);
      for (let i = 0; i < 200; i += 2) dict.set(`k${i}`, { i }); // overwrites
      for (let i = 1; i < 200; i += 4) dict.delete(`k${i}`);
      dict.incr('n', 5, 0);
      dict.lpush('list', 'a');
      dict.rpop('list');
      clock.advance(20);
      dict.set('after-expiry', 1); // its expire step removes expired keys
      expect(line0()).to.deep.equal(before0);
      expect(line1()).to.not.deep.equal(before1);
    });
  });
}
