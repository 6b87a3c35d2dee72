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
});
