import { expect } from 'chai';
import { makeDict } from './util.js';
import { STORED } from '../../src/dict/status.js';

describe('SharedDict smoke', () => {
  it('sets and gets every value type', () => {
    const { dict, pool } = makeDict();
    expect(dict.set('a', 'hello')).to.equal(STORED);
    expect(dict.set('b', 42.5)).to.equal(STORED);
    expect(dict.set('c', true)).to.equal(STORED);
    expect(dict.set('d', Buffer.from([1, 2, 3]))).to.equal(STORED);
    expect(dict.get('a')).to.equal('hello');
    expect(dict.get('b')).to.equal(42.5);
    expect(dict.get('c')).to.equal(true);
    expect(dict.get('d')).to.deep.equal(Buffer.from([1, 2, 3]));
    expect(dict.get('zz')).to.equal(undefined);
    for (let i = 0; i < 5000; i++) dict.set(`key:${i}`, `value ${i}`);
    for (let i = 0; i < 5000; i++) expect(dict.get(`key:${i}`)).to.equal(`value ${i}`);
    for (let i = 0; i < 5000; i += 2) expect(dict.delete(`key:${i}`)).to.equal(true);
    for (let i = 0; i < 5000; i++) expect(dict.get(`key:${i}`)).to.equal(i % 2 ? `value ${i}` : undefined);
    pool.verify();
  });
});
