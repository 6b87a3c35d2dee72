import { expect } from 'chai';
import { DictError } from '../../src/errors.js';
import { SharedDict } from '../../src/dict/dict.js';
import { makeDict, thrown } from './util.js';

describe('SharedDict argument errors (thrown before anything shared changes)', () => {
  const { dict, pool } = makeDict();

  const calls: Array<[string, (key: unknown) => unknown]> = [
    ['get', (k) => dict.get(k as string)],
    ['getStale', (k) => dict.getStale(k as string)],
    ['has', (k) => dict.has(k as string)],
    ['set', (k) => dict.set(k as string, 1)],
    ['safeSet', (k) => dict.safeSet(k as string, 1)],
    ['add', (k) => dict.add(k as string, 1)],
    ['safeAdd', (k) => dict.safeAdd(k as string, 1)],
    ['replace', (k) => dict.replace(k as string, 1)],
    ['delete', (k) => dict.delete(k as string)],
    ['incr', (k) => dict.incr(k as string, 1)],
    ['lpush', (k) => dict.lpush(k as string, 1)],
    ['rpush', (k) => dict.rpush(k as string, 1)],
    ['lpop', (k) => dict.lpop(k as string)],
    ['rpop', (k) => dict.rpop(k as string)],
    ['llen', (k) => dict.llen(k as string)],
    ['ttl', (k) => dict.ttl(k as string)],
    ['expire', (k) => dict.expire(k as string, 1)],
  ];
  for (const [name, call] of calls) {
    it(`${name}: bad keys give ERR_DICT_KEY_TYPE / _EMPTY / _TOO_LONG`, () => {
      for (const bad of [undefined, null, 1, {}, ['a'], true]) {
        const err = thrown(() => call(bad));
        expect(err).to.be.instanceOf(DictError);
        expect(err.code).to.equal('ERR_DICT_KEY_TYPE');
      }
      expect(thrown(() => call('')).code).to.equal('ERR_DICT_KEY_EMPTY');
      expect(thrown(() => call(new Uint8Array())).code).to.equal('ERR_DICT_KEY_EMPTY');
      expect(thrown(() => call('x'.repeat(65536))).code).to.equal('ERR_DICT_KEY_TOO_LONG');
      expect(dict.size()).to.equal(0);
    });
  }

  it('values: ERR_DICT_VALUE_TYPE for symbols and functions, _ENCODE for what v8 refuses; add/replace of null', () => {
    dict.set('k', 'old');
    for (const bad of [Symbol('x'), () => 1]) {
      expect(thrown(() => dict.set('k', bad)).code).to.equal('ERR_DICT_VALUE_TYPE');
    }
    for (const bad of [{ f: () => 1 }, [Symbol('y')], new WeakMap()]) {
      expect(thrown(() => dict.set('k', bad)).code).to.equal('ERR_DICT_VALUE_ENCODE');
    }
    expect(dict.get('k')).to.equal('old');
    dict.delete('k');
    expect(thrown(() => dict.add('k', null as unknown as string)).code).to.equal(
      'ERR_DICT_VALUE_TYPE',
    );
    expect(thrown(() => dict.replace('k', undefined as unknown as string)).code).to.equal(
      'ERR_DICT_VALUE_TYPE',
    );
  });

  it('TTLs: ERR_DICT_TTL for negative, NaN, non-number and out-of-range values; expire needs one', () => {
    for (const bad of [-1, -0.5, NaN, '10', null, Infinity, 2 ** 53]) {
      expect(thrown(() => dict.set('k', 1, bad as number)).code).to.equal('ERR_DICT_TTL');
    }
    dict.set('k', 1);
    expect(thrown(() => dict.expire('k', -1)).code).to.equal('ERR_DICT_TTL');
    expect(thrown(() => dict.expire('k', undefined as unknown as number)).code).to.equal(
      'ERR_DICT_TTL',
    );
    expect(dict.ttl('k')).to.equal(0);
    dict.delete('k');
  });

  it('flags: ERR_DICT_FLAGS unless an integer 0..2^32-1', () => {
    for (const bad of [-1, 1.5, 2 ** 32, NaN, '1', null]) {
      expect(thrown(() => dict.set('k', 1, 0, bad as number)).code).to.equal('ERR_DICT_FLAGS');
    }
    expect(dict.has('k')).to.equal(false);
  });

  it('limits: ERR_DICT_LIMIT for flushExpired and keys', () => {
    expect(thrown(() => dict.flushExpired(-1)).code).to.equal('ERR_DICT_LIMIT');
    expect(thrown(() => dict.keys(NaN)).code).to.equal('ERR_DICT_LIMIT');
  });

  it('options: ERR_DICT_OPTION', () => {
    expect(thrown(() => new SharedDict('x', { reads: 'fast' as 'locked' })).code).to.equal(
      'ERR_DICT_OPTION',
    );
    expect(thrown(() => new SharedDict('x', { evictionTries: -1 })).code).to.equal(
      'ERR_DICT_OPTION',
    );
    expect(thrown(() => new SharedDict('x', { now: 5 as unknown as () => number })).code).to.equal(
      'ERR_DICT_OPTION',
    );
  });

  it('a dict that is not started yet: ERR_DICT_NOT_STARTED from every call', () => {
    const d = new SharedDict('later');
    expect(thrown(() => d.get('k')).code).to.equal('ERR_DICT_NOT_STARTED');
    expect(thrown(() => d.set('k', 1)).code).to.equal('ERR_DICT_NOT_STARTED');
    expect(thrown(() => d.size()).code).to.equal('ERR_DICT_NOT_STARTED');
    expect(thrown(() => d.capacity()).code).to.equal('ERR_DICT_NOT_STARTED');
    expect(thrown(() => d.keys()).code).to.equal('ERR_DICT_NOT_STARTED');
    expect(thrown(() => d.transfer()).code).to.equal('ERR_DICT_TRANSFER');
  });

  it('left the pool consistent', () => pool.verify());
});
