/** stats().sets: every stored value counts once; a store that stores nothing does not. */
import { expect } from 'chai';
import { makeDict } from './util.js';

describe('SharedDict: the sets counter', () => {
  it('counts set, safeSet, add, replace and incr stores, over every object on the memory', () => {
    const t = makeDict();
    const { dict } = t;
    expect(dict.stats().sets).to.equal(0);
    dict.set('a', 'x');
    dict.set('a', 'y'); // an overwrite is a store
    dict.safeSet('b', 1);
    dict.add('c', true);
    expect(dict.add('c', false)).to.equal(0); // exists: nothing stored
    dict.replace('a', 'z');
    expect(dict.replace('missing', 1)).to.equal(0); // absent: nothing stored
    const before = dict.stats().sets;
    expect(before).to.equal(5);
    dict.incr('n', 1, 0); // creates the counter
    dict.incr('n', 1);
    const afterIncr = dict.stats().sets;
    expect(afterIncr).to.equal(before + 2); // a new counter, then one updated in place
    expect(dict.incr('missing', 1)).to.equal(undefined); // no init: nothing stored
    dict.get('a');
    dict.delete('b');
    expect(dict.stats().sets).to.equal(afterIncr); // reads and deletes are not stores
  });
});
