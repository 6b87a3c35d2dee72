import { expect } from 'chai';
import { DictStatus } from '../../src/dict/status.js';
import { makeDict, thrown, type TestDict } from './util.js';

describe('SharedDict lists', () => {
  let t: TestDict;
  beforeEach(() => {
    t = makeDict();
  });
  afterEach(() => t.dict.verify());

  it('pushes and pops at both ends in order, with lengths', () => {
    const { dict } = t;
    expect(dict.rpush('l', 'b')).to.equal(1);
    expect(dict.rpush('l', 3)).to.equal(2);
    expect(dict.lpush('l', 'a')).to.equal(3);
    expect(dict.rpush('l', Buffer.from('z'))).to.equal(4);
    expect(dict.llen('l')).to.equal(4);
    expect(dict.lpop('l')).to.equal('a');
    expect(dict.rpop('l')).to.deep.equal(Buffer.from('z'));
    expect(dict.rpop('l')).to.equal(3);
    expect(dict.llen('l')).to.equal(1);
    expect(dict.lpop('l')).to.equal('b');
    expect(dict.has('l')).to.equal(false); // emptied lists are removed
    expect(dict.lpop('l')).to.equal(undefined);
    expect(dict.lastStatus).to.equal(DictStatus.NOT_FOUND);
    expect(dict.llen('l')).to.equal(0);
  });

  it('list values are not readable with get; non-lists refuse list calls', () => {
    const { dict } = t;
    dict.rpush('l', 1);
    expect(dict.get('l')).to.equal(undefined);
    expect(dict.lastStatus).to.equal(DictStatus.NOT_LIST);
    dict.set('s', 'x');
    expect(dict.lpush('s', 1)).to.equal(undefined);
    expect(dict.lastStatus).to.equal(DictStatus.NOT_LIST);
    expect(dict.rpop('s')).to.equal(undefined);
    expect(dict.lastStatus).to.equal(DictStatus.NOT_LIST);
    expect(dict.llen('s')).to.equal(undefined);
    expect(dict.lastStatus).to.equal(DictStatus.NOT_LIST);
    expect(dict.get('s')).to.equal('x');
  });

  it('an expired list is emptied and reused; an expired non-list is replaced', () => {
    const { dict, clock } = t;
    dict.rpush('l', 1);
    dict.rpush('l', 2);
    dict.expire('l', 10);
    clock.advance(10);
    expect(dict.llen('l')).to.equal(0);
    expect(dict.rpush('l', 3)).to.equal(1);
    expect(dict.ttl('l')).to.equal(0);
    expect(dict.lpop('l')).to.equal(3);
    dict.set('s', 'x', 10);
    clock.advance(10);
    expect(dict.rpush('s', 'y')).to.equal(1);
    expect(dict.rpop('s')).to.equal('y');
  });

  it('set over a list, delete of a list and flushExpired free all elements', () => {
    const { dict, pool, clock } = t;
    const free0 = pool.freeSpace();
    for (let i = 0; i < 2000; i++) dict.rpush('l', `element ${i}`);
    dict.set('l', 'scalar');
    expect(dict.get('l')).to.equal('scalar');
    for (let i = 0; i < 2000; i++) dict.rpush('m', i);
    expect(dict.delete('m')).to.equal(true);
    for (let i = 0; i < 100; i++) dict.rpush('n', i);
    dict.expire('n', 1);
    clock.advance(1);
    expect(dict.flushExpired()).to.equal(1);
    dict.delete('l');
    expect(dict.stats().bytesUsed).to.equal(0);
    expect(pool.freeSpace()).to.equal(free0);
  });

  it('refuses values that cannot be stored', () => {
    const { dict } = t;
    expect(thrown(() => dict.rpush('l', null as unknown as string)).code).to.equal(
      'ERR_DICT_VALUE_TYPE',
    );
    expect(thrown(() => dict.lpush('l', {} as unknown as string)).code).to.equal(
      'ERR_DICT_VALUE_TYPE',
    );
    expect(dict.has('l')).to.equal(false);
  });

  it('pushes never evict: NO_MEMORY, and a list created for the push is removed', () => {
    const { dict, pool } = makeDict(256 * 1024);
    let i = 0;
    while (dict.safeSet(`fill${i}`, 'x'.repeat(200))) i++;
    const n = dict.size();
    expect(dict.rpush('newlist', 'y'.repeat(3000))).to.equal(undefined);
    expect(dict.lastStatus).to.equal(DictStatus.NO_MEMORY);
    expect(dict.has('newlist')).to.equal(false);
    expect(dict.size()).to.equal(n);
    expect(dict.stats().evictions).to.equal(0);
    pool.verify();
    dict.verify();
  });
});
