import { expect } from 'chai';
import { STORED } from '../../src/dict/status.js';
import { makeDict, thrown } from './util.js';

describe('SharedDict batch calls', () => {
  it('getMany / hasMany return per key, in order, like get / has', () => {
    const { dict, clock } = makeDict();
    dict.set('a', 1);
    dict.set('b', { x: [1] });
    dict.set('c', 'gone', 10);
    clock.advance(20);
    const keys = ['a', 'b', 'c', 'missing', 'a'];
    expect(dict.getMany(keys)).to.deep.equal([1, { x: [1] }, undefined, undefined, 1]);
    expect(dict.hasMany(keys)).to.deep.equal([true, true, false, false, true]);
    expect(dict.getMany([])).to.deep.equal([]);
  });

  it('getMany agrees with get over 2,000 keys (the touch passes change nothing)', () => {
    const { dict } = makeDict();
    const keys = Array.from({ length: 2000 }, (_, i) => `key:${i}`);
    keys.forEach((k, i) => i % 3 !== 0 && dict.set(k, `v${i}`));
    expect(dict.getMany(keys)).to.deep.equal(keys.map((k) => dict.get(k)));
  });

  it('setMany stores each entry with its TTL; deleteMany says which were live', () => {
    const { dict, clock } = makeDict();
    const results = dict.setMany([
      { key: 'a', value: 'x' },
      { key: 'b', value: [1, 2], ttl: 50 },
      { key: 'c', value: 3, flags: 7 },
    ]);
    expect(results).to.deep.equal([STORED, STORED, STORED]);
    dict.get('c');
    expect(dict.lastFlags).to.equal(7);
    clock.advance(60);
    expect(dict.getMany(['a', 'b', 'c'])).to.deep.equal(['x', undefined, 3]);
    expect(dict.deleteMany(['a', 'b', 'zzz'])).to.deep.equal([true, false, false]);
    expect(dict.keys()).to.deep.equal(['c']);
  });

  it('bad input: a typed error and nothing stored or deleted', () => {
    const { dict } = makeDict();
    dict.set('keep', 1);
    expect(thrown(() => dict.getMany('a' as unknown as string[])).code).to.equal('ERR_DICT_KEYS');
    expect(thrown(() => dict.getMany(['a', 5 as unknown as string])).code).to.equal(
      'ERR_DICT_KEY_TYPE',
    );
    expect(thrown(() => dict.hasMany(['a', ''])).code).to.equal('ERR_DICT_KEY_EMPTY');
    expect(thrown(() => dict.setMany({} as never)).code).to.equal('ERR_DICT_KEYS');
    expect(thrown(() => dict.setMany([null as never])).code).to.equal('ERR_DICT_KEYS');
    for (const [bad, code] of [
      [{ key: 'n', value: () => 1 }, 'ERR_DICT_VALUE_TYPE'],
      [{ key: 'n', value: { f: () => 1 } }, 'ERR_DICT_VALUE_ENCODE'],
      [{ key: 'n', value: 1, ttl: -1 }, 'ERR_DICT_TTL'],
      [{ key: 'n', value: 1, flags: 1.5 }, 'ERR_DICT_FLAGS'],
      [{ key: '', value: 1 }, 'ERR_DICT_KEY_EMPTY'],
    ] as const) {
      const err = thrown(() => dict.setMany([{ key: 'first', value: 1 }, bad as never]));
      expect(err.code).to.equal(code);
    }
    expect(thrown(() => dict.deleteMany(['keep', {} as string])).code).to.equal(
      'ERR_DICT_KEY_TYPE',
    );
    expect(dict.keys()).to.deep.equal(['keep']);
  });
});
