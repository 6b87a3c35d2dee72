/**
 * warm.ts: the lock-free warm-up of a store, an incr or a delete reads shared words without
 * the lock, so damaged or torn words must neither throw nor loop nor write; the locked path
 * that follows reports the damage as a typed error.
 */
import { expect } from 'chai';
import {
  D_LRU_HEAD,
  D_LRU_TAIL,
  D_MASK,
  D_TABLE,
  ENTRY_HEADER_BYTES,
  SLOT_WORDS,
} from '../../src/dict/layout.js';
import { warmBeforeDelete, warmBeforeStore } from '../../src/dict/warm.js';
import type { SharedDict } from '../../src/dict/dict.js';
import { makeDict, thrown } from './util.js';

describe('SharedDict: warming the lines of a store or a delete before the lock', () => {
  const cases = [
    { call: 'set', warm: warmBeforeStore, run: (d: SharedDict) => d.set('victim', 'x') },
    { call: 'delete', warm: warmBeforeDelete, run: (d: SharedDict) => d.delete('victim') },
    { call: 'incr', warm: warmBeforeStore, run: (d: SharedDict) => d.incr('victim', 1, 0) },
  ];
  for (const { call, warm, run } of cases) {
    it(`${call}: a full index of foreign slots and out-of-range LRU refs: returns, writes nothing`, () => {
      const { dict, pool } = makeDict();
      for (let i = 0; i < 100; i++) dict.set(`k${i}`, `v${i}`);
      const c = dict.core;
      const u32 = pool.u32;
      const tw = u32[c.hw + D_TABLE] * 2;
      const slots = u32[c.hw + D_MASK] + 1;
      dict.session.key.load('victim');
      const h = dict.session.key.hash;
      // Every slot taken by a key that is not ours and points outside the zone: a probe that
      // trusted refs would index past the end, one without a bound would never stop (a
      // delete's warm-up goes on past the matching slot, through the slots its shift reads).
      const ref = c.slotRefMask; // the largest ref a slot can hold: its entry ends past the zone
      expect(ref * 8 + ENTRY_HEADER_BYTES).to.be.above(pool.u8.length);
      for (let i = 0; i < slots; i++) u32[tw + i * SLOT_WORDS] = (~h & c.slotHashMask) | ref;
      // ...and one whose hash bits match
      u32[tw + (h & (slots - 1)) * SLOT_WORDS] = (h & c.slotHashMask) | ref;
      u32[c.hw + D_LRU_HEAD] = 0xffffffff;
      u32[c.hw + D_LRU_TAIL] = u32.length; // just past the end
      const before = Buffer.from(pool.u8);
      warm(dict.session);
      expect(Buffer.compare(before, Buffer.from(pool.u8))).to.equal(0);
      // The locked call then meets the damage and says so with a code.
      expect(thrown(() => run(dict)).code).to.equal('ERR_DICT_CORRUPT');
    });
  }
});
