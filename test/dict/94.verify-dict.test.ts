/**
 * verifyDictLocked (src/dict/verify-dict.ts): a healthy dict passes; one damaged word in each
 * structure (the cases of issue 16 among them: an LRU link, D_TABLE, D_MASK) is reported as
 * DictError ERR_DICT_CORRUPT, promptly, with no foreign error and no write to the zone.
 */
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { DictError } from '../../src/errors.js';
import {
  D_BYTES8,
  D_COUNT,
  D_LRU_HEAD,
  D_LRU_TAIL,
  D_MASK,
  D_STATS,
  D_TABLE,
  E_HASH,
  E_NEXT,
  E_PREV,
  E_VLEN,
  ENTRY_HEADER_BYTES,
  L_NEXT,
  LIST_HEAD,
} from '../../src/dict/layout.js';
import { verifyDictLocked } from '../../src/dict/verify-dict.js';
import { indexRefs } from '../helpers/dict-index.js';
import { makeDict, type TestDict } from './util.js';

/** Word index of the index slot that holds entry `e`. */
function slotWordOf(t: ReturnType<typeof populated>, e: number): number {
  for (const [i, ref] of indexRefs(t.pool, t.hw))
    if (ref === e) return t.pool.u32[t.hw + D_TABLE] * 2 + i;
  throw new Error(`entry ${e} is in no slot`);
}

function digest(t: TestDict): string {
  return createHash('sha1').update(t.pool.u8).digest('hex');
}

/** A dict with strings, numbers and two lists; returns refs useful to damage. */
function populated(): TestDict & {
  hw: number;
  head: number;
  second: number;
  tail: number;
  listEntry: number;
} {
  const t = makeDict();
  for (let i = 0; i < 200; i++) t.dict.set(`k${i}`, i % 2 === 0 ? `v${i}` : i);
  for (let i = 0; i < 5; i++) t.dict.rpush('list', `e${i}`);
  t.dict.lpush('list2', 1);
  const hw = t.host.root / 4;
  const u32 = t.pool.u32;
  const head = u32[hw + D_LRU_HEAD];
  const second = u32[head * 2 + E_NEXT];
  // The list entry: walk the LRU for an entry whose key is "list".
  let listEntry = 0;
  for (let e = head; e !== 0 && listEntry === 0; e = u32[e * 2 + E_NEXT]) {
    const off = e * 8 + ENTRY_HEADER_BYTES;
    if (
      Buffer.from(t.pool.u8.subarray(off, off + 4)).toString() === 'list' &&
      u32[e * 2 + E_VLEN] === 5
    )
      listEntry = e;
  }
  return { ...t, hw, head, second, tail: u32[hw + D_LRU_TAIL], listEntry };
}

describe('dict verify (verify-dict.ts)', () => {
  it('passes a healthy dict, counting entries, bytes and list elements, without writing', () => {
    const t = populated();
    const before = digest(t);
    const r = verifyDictLocked(t.pool, t.host.root, 'test');
    expect(r).to.include({ state: 'ok', entries: 202, listElements: 6, graveyard: 0 });
    expect(r.bytes).to.equal(t.pool.u32[t.hw + D_BYTES8] * 8);
    expect(digest(t)).to.equal(before);
    expect(verifyDictLocked(t.pool, 0, 'test').state).to.equal('none');
  });

  type Damage = (t: ReturnType<typeof populated>) => void;
  const cases: Array<[string, Damage, RegExp]> = [
    [
      'an LRU link into the list (a cycle)',
      (t) => void (t.pool.u32[t.second * 2 + E_NEXT] = t.head),
      /PREV|LRU|COUNT/,
    ],
    [
      'an LRU link to garbage',
      (t) => void (t.pool.u32[t.second * 2 + E_NEXT] = 0x0fffffff),
      /not in the index/,
    ],
    ['an LRU PREV link', (t) => void (t.pool.u32[t.second * 2 + E_PREV] = 7), /PREV/],
    ['LRU_TAIL', (t) => void (t.pool.u32[t.hw + D_LRU_TAIL] = t.head), /LRU_TAIL/],
    ['D_TABLE', (t) => void (t.pool.u32[t.hw + D_TABLE] += 1), /TABLE/],
    ['D_TABLE far outside', (t) => void (t.pool.u32[t.hw + D_TABLE] = 0xfffffff0), /TABLE/],
    ['D_MASK', (t) => void (t.pool.u32[t.hw + D_MASK] = 0xffffffff), /MASK/],
    ['D_MASK halved', (t) => void (t.pool.u32[t.hw + D_MASK] >>>= 1), /MASK/],
    ['D_STATS', (t) => void (t.pool.u32[t.hw + D_STATS] = 3), /STATS/],
    ['COUNT', (t) => void (t.pool.u32[t.hw + D_COUNT] += 1), /COUNT/],
    ['BYTES8', (t) => void (t.pool.u32[t.hw + D_BYTES8] += 1), /BYTES8/],
    ['an entry HASH', (t) => void (t.pool.u32[t.second * 2 + E_HASH] ^= 1), /HASH|hash/],
    [
      "a slot's hash bits",
      (t) => void (t.pool.u32[slotWordOf(t, t.second)] ^= 0x80000000),
      /hash bits/,
    ],
    [
      'a slot of hash bits without a ref',
      // Some hash bit set (so the slot is not empty), no ref bit.
      (t) => void (t.pool.u32[slotWordOf(t, t.second)] = 0x80000000),
      /hash bits with no entry/,
    ],
    ['a key byte', (t) => void (t.pool.u8[t.second * 8 + ENTRY_HEADER_BYTES] ^= 0x20), /hash/],
    ['a value length', (t) => void (t.pool.u32[t.tail * 2 + E_VLEN] = 0x7fffffff), /overflow/],
    [
      'a list element link',
      (t) => {
        const vw = (t.listEntry * 8 + ENTRY_HEADER_BYTES + 8) / 4;
        const first = t.pool.u32[vw + LIST_HEAD];
        t.pool.u32[first * 2 + L_NEXT] = first; // a cycle
      },
      /list/,
    ],
  ];

  for (const [what, damage, message] of cases) {
    it(`reports damage to ${what} as ERR_DICT_CORRUPT, promptly`, () => {
      const t = populated();
      expect(t.listEntry).to.not.equal(0);
      damage(t);
      const before = digest(t);
      const t0 = Date.now();
      let err: unknown;
      try {
        verifyDictLocked(t.pool, t.host.root, 'test');
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(DictError);
      expect(err).to.have.property('code', 'ERR_DICT_CORRUPT');
      expect((err as Error).message).to.match(message);
      expect(Date.now() - t0).to.be.below(1000);
      expect(digest(t)).to.equal(before);
    });
  }
});
