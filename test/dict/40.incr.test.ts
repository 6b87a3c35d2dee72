import { expect } from 'chai';
import { DictStatus } from '../../src/dict/status.js';
import { makeDict, thrown, type TestDict } from './util.js';

describe('SharedDict incr', () => {
  let t: TestDict;
  beforeEach(() => {
    t = makeDict();
  });
  afterEach(() => t.dict.verify());

  it('adds to a live number and keeps its TTL and flags', () => {
    const { dict, clock } = t;
    dict.set('n', 10, 1000, 5);
    clock.advance(100);
    expect(dict.incr('n', 1)).to.equal(11);
    expect(dict.incr('n', -0.5)).to.equal(10.5);
    expect(dict.get('n')).to.equal(10.5);
    expect(dict.lastFlags).to.equal(5);
    expect(dict.ttl('n')).to.equal(900);
  });

  it('a missing key without init: undefined + NOT_FOUND', () => {
    const { dict } = t;
    expect(dict.incr('n', 1)).to.equal(undefined);
    expect(dict.lastStatus).to.equal(DictStatus.NOT_FOUND);
    expect(dict.has('n')).to.equal(false);
  });

  it('a missing key with init stores init + by, flags 0, expiry initTtl', () => {
    const { dict, clock } = t;
    expect(dict.incr('n', 2, 40)).to.equal(42);
    expect(dict.lastStatus).to.equal(DictStatus.OK);
    expect(dict.ttl('n')).to.equal(0);
    expect(dict.incr('m', 1, 0, 50)).to.equal(1);
    expect(dict.ttl('m')).to.equal(50);
    expect(dict.incr('m', 1, 0, 5000)).to.equal(2); // initTtl ignored for a live key
    expect(dict.ttl('m')).to.equal(50);
    clock.advance(50);
    expect(dict.get('m')).to.equal(undefined);
  });

  it('an expired key behaves as missing; an expired number is reused in place with flags reset', () => {
    const { dict, clock } = t;
    dict.set('n', 100, 10, 3);
    clock.advance(10);
    expect(dict.incr('n', 1)).to.equal(undefined);
    expect(dict.lastStatus).to.equal(DictStatus.NOT_FOUND);
    expect(dict.incr('n', 1, 0)).to.equal(1);
    expect(dict.get('n')).to.equal(1);
    expect(dict.lastFlags).to.equal(0);
    expect(dict.ttl('n')).to.equal(0);
    dict.set('s', 'str', 10);
    clock.advance(10);
    expect(dict.incr('s', 1, 5)).to.equal(6); // expired non-number: replaced
    expect(dict.size()).to.equal(2);
  });

  it('a live non-number: undefined + NOT_NUMBER, value unchanged', () => {
    const { dict } = t;
    dict.set('s', 'text');
    expect(dict.incr('s', 1)).to.equal(undefined);
    expect(dict.lastStatus).to.equal(DictStatus.NOT_NUMBER);
    expect(dict.incr('s', 1, 0)).to.equal(undefined);
    expect(dict.get('s')).to.equal('text');
    dict.lpush('l', 1);
    expect(dict.incr('l', 1)).to.equal(undefined);
    expect(dict.lastStatus).to.equal(DictStatus.NOT_NUMBER);
  });

  it('refuses NaN and infinite increments and inits, and initTtl without init or negative', () => {
    const { dict } = t;
    dict.set('n', 1);
    for (const bad of [NaN, Infinity, -Infinity, '1', undefined, null]) {
      expect(thrown(() => dict.incr('n', bad as number)).code).to.equal('ERR_DICT_NOT_NUMBER');
      expect(
        thrown(() => dict.incr('n', 1, bad === undefined ? NaN : (bad as number))).code,
      ).to.equal('ERR_DICT_NOT_NUMBER');
    }
    expect(thrown(() => dict.incr('n', 1, undefined, 10)).code).to.equal('ERR_DICT_TTL');
    expect(thrown(() => dict.incr('n', 1, 0, -1)).code).to.equal('ERR_DICT_TTL');
    expect(thrown(() => dict.incr('n', 1, 0, NaN)).code).to.equal('ERR_DICT_TTL');
    expect(dict.get('n')).to.equal(1);
  });

  it('sums exactly over many increments', () => {
    const { dict } = t;
    for (let i = 0; i < 10000; i++) dict.incr('c', 1, 0);
    expect(dict.get('c')).to.equal(10000);
  });
});
