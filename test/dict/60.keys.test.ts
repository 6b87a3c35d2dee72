import { expect } from 'chai';
import { makeDict, thrown, type TestDict } from './util.js';

describe('SharedDict keys()', () => {
  let t: TestDict;
  beforeEach(() => {
    t = makeDict();
  });

  it('lists live keys, least recently written first', () => {
    const { dict, clock } = t;
    dict.set('a', 1);
    dict.set('b', 1);
    dict.set('c', 1, 5);
    dict.set('d', 1);
    dict.set('a', 2); // rewritten: now the most recent
    dict.incr('b', 1); // incr moves to the head too
    expect(dict.keys()).to.deep.equal(['c', 'd', 'a', 'b']);
    clock.advance(5);
    expect(dict.keys()).to.deep.equal(['d', 'a', 'b']);
    dict.get('d'); // lock-free reads do not reorder (approximate LRU)
    expect(dict.keys()).to.deep.equal(['d', 'a', 'b']);
  });

  it('honours the limit: default 1024, 0 = all', () => {
    const { dict } = t;
    for (let i = 0; i < 1500; i++) dict.set(`k${i}`, i);
    expect(dict.keys()).to.have.length(1024);
    expect(dict.keys(0)).to.have.length(1500);
    expect(dict.keys(3)).to.deep.equal(['k0', 'k1', 'k2']);
    expect(thrown(() => dict.keys(-1)).code).to.equal('ERR_DICT_LIMIT');
    expect(thrown(() => dict.keys(1.5)).code).to.equal('ERR_DICT_LIMIT');
  });

  it('returns UTF-8 keys as strings, or Buffers when asked', () => {
    const { dict } = t;
    dict.set('日本', 1);
    dict.set(Buffer.from([0xff, 0x00]), 1);
    expect(dict.keys()[0]).to.equal('日本');
    expect(dict.keys(0, true)[1]).to.deep.equal(Buffer.from([0xff, 0x00]));
  });

  it('in locked-read mode a get moves the key to the head (exact LRU, as Lua)', () => {
    const l = makeDict(4 * 1024 * 1024, { reads: 'locked' });
    l.dict.set('a', 1);
    l.dict.set('b', 1);
    l.dict.get('a');
    expect(l.dict.keys()).to.deep.equal(['b', 'a']);
  });

  it('refuses string keys with a lone surrogate (ERR_DICT_KEY_UNICODE): 2,000 such keys never merge', () => {
    const { dict } = t;
    const lone = ['\ud800', '\udbff', '\udc00', '\udfff'];
    for (let n = 0; n < 2000; n++) {
      const key = `u${n}` + lone[n % lone.length];
      expect(thrown(() => dict.set(key, n)).code).to.equal('ERR_DICT_KEY_UNICODE');
      expect(thrown(() => dict.get(key)).code).to.equal('ERR_DICT_KEY_UNICODE');
    }
    // A lone surrogate anywhere, also inside a long key that skips the ASCII loop.
    for (const key of ['\udc00x', 'x\ud800y', 'x'.repeat(100) + '\ud800', '\ud800\ud800\udc00']) {
      expect(thrown(() => dict.add(key, 1)).code).to.equal('ERR_DICT_KEY_UNICODE');
    }
    expect(dict.size()).to.equal(0);
    // Well-formed pairs are keys as before, and stay distinct from each other.
    dict.set('a\ud83d\ude00', 1);
    dict.set('a\ud83d\ude01', 2);
    expect(dict.keys().sort()).to.deep.equal(['a\ud83d\ude00', 'a\ud83d\ude01']);
    // The same bytes as a Uint8Array are accepted: the caller chose the encoding.
    dict.set(Buffer.from('u1\ufffd', 'utf8'), 3);
    expect(dict.get('u1\ufffd')).to.equal(3);
    dict.verify();
  });
});
