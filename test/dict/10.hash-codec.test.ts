import { expect } from 'chai';
import { KeyScratch, hashBytes, fmix32 } from '../../src/dict/hash.js';
import { ValueInfo } from '../../src/dict/codec.js';
import { T_BOOLEAN, T_BYTES, T_NUMBER, T_STRING, align8 } from '../../src/dict/layout.js';
import { thrown } from './util.js';

describe('dict keys, hash and value codec', () => {
  it('encodes ASCII and non-ASCII string keys to their UTF-8 bytes, hashing the same as bytes', () => {
    const k = new KeyScratch();
    for (const key of ['a', 'key:12345', 'ünïcødé', '日本語のキー', '😀 emoji', 'x'.repeat(100)]) {
      k.load(key);
      const expected = Buffer.from(key, 'utf8');
      expect(Buffer.from(k.bytes.subarray(0, k.length))).to.deep.equal(expected);
      expect(k.hash).to.equal(hashBytes(expected, 0, expected.length));
      const h = k.hash;
      k.load(new Uint8Array(expected));
      expect(k.hash).to.equal(h);
    }
  });

  it('spreads keys that differ in one byte over high and low bits', () => {
    const k = new KeyScratch();
    const low = new Set<number>();
    const high = new Set<number>();
    for (let i = 0; i < 1000; i++) {
      k.load(`key:${i}`);
      low.add(k.hash & 1023);
      high.add(k.hash >>> 26);
    }
    expect(low.size).to.be.above(550); // ~632 expected for 1000 balls in 1024 bins
    expect(high.size).to.equal(64);
    expect(fmix32(0)).to.equal(0);
  });

  it('accepts keys of 65,535 bytes and refuses 65,536, empty keys and other types', () => {
    const k = new KeyScratch();
    k.load('k'.repeat(65535));
    expect(k.length).to.equal(65535);
    expect(thrown(() => k.load('k'.repeat(65536))).code).to.equal('ERR_DICT_KEY_TOO_LONG');
    expect(thrown(() => k.load('é'.repeat(40000))).code).to.equal('ERR_DICT_KEY_TOO_LONG'); // 80,000 bytes
    expect(thrown(() => k.load(new Uint8Array(65536))).code).to.equal('ERR_DICT_KEY_TOO_LONG');
    expect(thrown(() => k.load('')).code).to.equal('ERR_DICT_KEY_EMPTY');
    expect(thrown(() => k.load(new Uint8Array(0))).code).to.equal('ERR_DICT_KEY_EMPTY');
    for (const bad of [1, null, undefined, {}, [], true, Symbol('s')]) {
      expect(thrown(() => k.load(bad as string)).code).to.equal('ERR_DICT_KEY_TYPE');
    }
  });

  it('classifies values and computes UTF-8 lengths like Buffer.byteLength', () => {
    const v = new ValueInfo();
    for (const s of ['', 'abc', 'é', '日本', '😀', '\ud800', '\udc00x', 'a'.repeat(70) + '😀']) {
      v.classify(s);
      expect(v.type).to.equal(T_STRING);
      expect(v.length, JSON.stringify(s)).to.equal(Buffer.byteLength(s));
    }
    v.classify(1.5);
    expect([v.type, v.length]).to.deep.equal([T_NUMBER, 8]);
    v.classify(false);
    expect([v.type, v.length]).to.deep.equal([T_BOOLEAN, 1]);
    v.classify(new Uint8Array(7));
    expect([v.type, v.length]).to.deep.equal([T_BYTES, 7]);
    for (const bad of [null, undefined, {}, [], 10n, Symbol('s'), () => 1]) {
      expect(thrown(() => v.classify(bad)).code).to.equal('ERR_DICT_VALUE_TYPE');
    }
  });

  it('align8 stays exact above 2^31', () => {
    expect(align8(0)).to.equal(0);
    expect(align8(1)).to.equal(8);
    expect(align8(8)).to.equal(8);
    expect(align8(2 ** 31 + 1)).to.equal(2 ** 31 + 8);
    expect(align8(2 ** 32 - 3)).to.equal(2 ** 32);
  });
});
