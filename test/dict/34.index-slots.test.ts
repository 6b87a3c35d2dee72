/**
 * One-word index slots (src/dict/layout.ts, "Index table"): a slot keeps the entry's ref and
 * the key hash's top bits, so two keys whose hashes share those bits and their home slot
 * look the same in the index; only the entry's HASH word and key tell them apart.
 */
import { expect } from 'chai';
import { KeyScratch } from '../../src/dict/hash.js';
import { D_MASK, D_TABLE, slotRefBits, slotRefMask } from '../../src/dict/layout.js';
import { verifyDictLocked } from '../../src/dict/verify-dict.js';
import { indexRefs } from '../helpers/dict-index.js';
import { makeDict, MiB, thrown } from './util.js';

/** A key other than `key` whose hash has the same slot bits and the same home slot. */
function lookalike(key: string, zoneBytes: number, slots: number): string {
  const ks = new KeyScratch();
  ks.load(key);
  const bits = (~slotRefMask(zoneBytes) | (slots - 1)) >>> 0;
  const want = (ks.hash & bits) >>> 0;
  for (let i = 0; i < 1 << 27; i++) {
    const other = `y${i}`;
    ks.load(other);
    if ((ks.hash & bits) >>> 0 === want) return other;
  }
  throw new Error('no lookalike found');
}

describe('SharedDict: one-word index slots', () => {
  it('a slot has room for every ref of the zone, and the rest of the word for the hash', () => {
    expect(slotRefBits(2 ** 32)).to.equal(29); // the largest zone: 3 hash bits
    expect(slotRefBits(64 * MiB)).to.equal(23);
    expect(slotRefBits(4 * MiB)).to.equal(19);
    expect(slotRefBits(4 * MiB + 8)).to.equal(20);
    for (const bytes of [2 ** 32, 64 * MiB, 4 * MiB + 8, 1 << 16]) {
      const lastRef = bytes / 8 - 1;
      expect((lastRef & slotRefMask(bytes)) >>> 0).to.equal(lastRef);
    }
  });

  it('a key that looks the same in the index is told apart by its entry', () => {
    const size = 4 * MiB;
    const { dict, pool, host } = makeDict(size);
    const hw = host.root / 4;
    const slots = pool.u32[hw + D_MASK] + 1;
    dict.set('a', 'value of a');
    const b = lookalike('a', size, slots);
    expect(dict.get(b)).to.equal(undefined);
    expect(dict.has(b)).to.equal(false);
    expect(dict.set(b, 'value of b')).to.equal(1);
    // The two slots are the same but for their refs, next to each other.
    const refs = [...indexRefs(pool, hw)];
    expect(refs).to.have.length(2);
    const tw = pool.u32[hw + D_TABLE] * 2;
    const [[i, ra], [j, rb]] = refs;
    expect([1, slots - 1]).to.include(j - i); // adjacent, or around the end
    const hashMask = ~slotRefMask(size) >>> 0;
    expect((pool.u32[tw + i] & hashMask) >>> 0).to.equal((pool.u32[tw + j] & hashMask) >>> 0);
    expect(ra).to.not.equal(rb);
    expect(dict.get('a')).to.equal('value of a');
    expect(dict.get(b)).to.equal('value of b');
    expect(dict.getMany(['a', b, 'c'])).to.deep.equal(['value of a', 'value of b', undefined]);
    // Deleting the first shifts the second back into the home slot; it stays readable.
    expect(dict.delete('a')).to.equal(true);
    expect(dict.get(b)).to.equal('value of b');
    expect(dict.get('a')).to.equal(undefined);
    pool.lock();
    try {
      expect(verifyDictLocked(pool, host.root, 'test').state).to.equal('ok');
    } finally {
      pool.unlock();
    }
  });

  it('a backward shift that meets a slot whose hash bits differ from its entry: ERR_DICT_CORRUPT', () => {
    const size = 4 * MiB;
    const { dict, pool, host } = makeDict(size);
    const hw = host.root / 4;
    const slots = pool.u32[hw + D_MASK] + 1;
    dict.set('a', 1);
    const b = lookalike('a', size, slots);
    dict.set(b, 2);
    const tw = pool.u32[hw + D_TABLE] * 2;
    const [, [j]] = [...indexRefs(pool, hw)];
    pool.u32[tw + j] ^= 0x80000000; // the second slot's top hash bit
    expect(thrown(() => dict.delete('a')).code).to.equal('ERR_DICT_CORRUPT');
  });
});
