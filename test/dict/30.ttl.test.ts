import { expect } from 'chai';
import { DictStatus, STORED } from '../../src/dict/status.js';
import { makeDict, type TestDict } from './util.js';

describe('SharedDict TTLs, stale reads and flushes', () => {
  let t: TestDict;
  beforeEach(() => {
    t = makeDict();
  });
  afterEach(() => t.dict.verify());

  it('a value lives exactly ttl ms; 0 and absent mean forever', () => {
    const { dict, clock } = t;
    dict.set('a', 1, 100);
    dict.set('b', 2, 0);
    dict.set('c', 3);
    clock.advance(99);
    expect(dict.get('a')).to.equal(1);
    clock.advance(1);
    expect(dict.get('a')).to.equal(undefined);
    expect(dict.lastStatus).to.equal(DictStatus.NOT_FOUND);
    clock.advance(1e9);
    expect([dict.get('b'), dict.get('c')]).to.deep.equal([2, 3]);
  });

  it('fractional TTLs round the expiry up: a value never lives less than asked', () => {
    const { dict, clock } = t;
    dict.set('a', 1, 0.4);
    expect(dict.get('a')).to.equal(1);
    clock.advance(1);
    expect(dict.get('a')).to.equal(undefined);
  });

  it('tiny TTLs: a positive TTL that rounds away next to the clock still stores a live value', () => {
    const { dict, clock } = t;
    expect(dict.set('a', 1, 1e-9)).to.equal(STORED);
    expect(dict.get('a')).to.equal(1);
    dict.set('b', 2, Number.MIN_VALUE);
    expect(dict.get('b')).to.equal(2);
    expect(dict.ttl('a')).to.be.within(0, 1);
    clock.advance(1);
    expect([dict.get('a'), dict.get('b')]).to.deep.equal([undefined, undefined]);
  });

  it('getStale returns expired, unreclaimed values with lastStale and flags', () => {
    const { dict, clock } = t;
    dict.set('a', 'old', 10, 7);
    expect(dict.getStale('a')).to.equal('old');
    expect(dict.lastStale).to.equal(false);
    clock.advance(10);
    expect(dict.get('a')).to.equal(undefined);
    expect(dict.getStale('a')).to.equal('old');
    expect(dict.lastStale).to.equal(true);
    expect(dict.lastFlags).to.equal(7);
    dict.flushExpired();
    expect(dict.getStale('a')).to.equal(undefined);
    expect(dict.lastStale).to.equal(false);
  });

  it('ttl(): remaining ms, 0 for never, undefined for missing and expired', () => {
    const { dict, clock } = t;
    dict.set('a', 1, 1000);
    dict.set('b', 1);
    clock.advance(250);
    expect(dict.ttl('a')).to.equal(750);
    expect(dict.ttl('b')).to.equal(0);
    expect(dict.ttl('none')).to.equal(undefined);
    expect(dict.lastStatus).to.equal(DictStatus.NOT_FOUND);
    clock.advance(750);
    expect(dict.ttl('a')).to.equal(undefined);
  });

  it('expire(): sets a new TTL on live keys (0 = forever); false for missing or expired', () => {
    const { dict, clock } = t;
    dict.set('a', 1, 100);
    expect(dict.expire('a', 1000)).to.equal(true);
    clock.advance(500);
    expect(dict.get('a')).to.equal(1);
    expect(dict.expire('a', 0)).to.equal(true);
    clock.advance(1e6);
    expect(dict.get('a')).to.equal(1);
    dict.set('b', 1, 10);
    clock.advance(10);
    expect(dict.expire('b', 1000)).to.equal(false); // not revived (Lua would)
    expect(dict.get('b')).to.equal(undefined);
    expect(dict.expire('none', 5)).to.equal(false);
  });

  it('the expire step before writes reclaims up to two expired tail entries', () => {
    const { dict, clock } = t;
    for (let i = 0; i < 5; i++) dict.set(`e${i}`, i, 10);
    dict.set('live', 1);
    clock.advance(10);
    expect(dict.size()).to.equal(6);
    dict.set('x', 1); // expire(1): frees e0, e1
    expect(dict.size()).to.equal(5);
    expect(dict.stats().expirations).to.equal(2);
    dict.get('live'); // lock-free reads reclaim nothing
    expect(dict.size()).to.equal(5);
  });

  it('the expire step stops at the first live tail entry', () => {
    const { dict, clock } = t;
    dict.set('live', 1);
    dict.set('e', 1, 10);
    clock.advance(10);
    dict.set('x', 1);
    expect(dict.size()).to.equal(3);
    expect(dict.getStale('e')).to.equal(1);
  });

  it('flushAll expires everything at once; getStale still sees unreclaimed values; new sets work', () => {
    const { dict } = t;
    for (let i = 0; i < 100; i++) dict.set(`k${i}`, i);
    dict.flushAll();
    for (let i = 0; i < 100; i++) expect(dict.get(`k${i}`)).to.equal(undefined);
    expect(dict.size()).to.be.below(100);
    expect(dict.getStale('k99')).to.equal(99);
    expect(dict.lastStale).to.equal(true);
    expect(dict.keys()).to.deep.equal([]);
    dict.set('k5', 'new');
    expect(dict.get('k5')).to.equal('new');
    expect(dict.flushExpired()).to.be.above(90);
    expect(dict.keys()).to.deep.equal(['k5']);
  });

  it('flushExpired frees expired entries anywhere in the LRU, up to maxCount', () => {
    const { dict, clock } = t;
    for (let i = 0; i < 10; i++) {
      dict.set(`live${i}`, i);
      dict.set(`exp${i}`, i, 5);
    }
    clock.advance(5);
    expect(dict.flushExpired(3)).to.equal(3);
    expect(dict.flushExpired(0)).to.equal(7);
    expect(dict.flushExpired()).to.equal(0);
    expect(dict.size()).to.equal(10);
    expect(dict.stats().expirations).to.equal(10);
  });

  it('add over an expired key, and set over an expired key, replace it', () => {
    const { dict, clock } = t;
    dict.set('a', 'x', 5);
    clock.advance(5);
    expect(dict.add('a', 'y')).to.be.above(0);
    expect(dict.get('a')).to.equal('y');
    expect(dict.size()).to.equal(1);
  });
});
