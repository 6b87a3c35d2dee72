/** What a new user meets first (issue 17, items 5 and 6): each behaviour as documented. */
import { expect } from 'chai';
import { ZoneRegistry } from '../../src/zone/registry.js';
import { sharedDict } from '../../src/dict/declare.js';
import { StoreResult, STORED } from '../../src/index.js';
import { uniqueNamespace } from '../helpers/shm.js';
import { makeDict, thrown } from './util.js';

describe('SharedDict: the documented small behaviours', () => {
  it('StoreResult is a value in JavaScript too, equal to the constants', async () => {
    const mod = (await import('../../src/index.js')) as Record<string, unknown>;
    expect(mod.StoreResult).to.deep.equal({ FAILED: 0, STORED: 1, STORED_FORCIBLY: 2 });
    expect(StoreResult.STORED).to.equal(STORED);
  });

  it('set(k, null) and set(k, undefined) delete the key and return STORED', () => {
    const { dict } = makeDict();
    dict.set('k', 1);
    expect(dict.set('k', null)).to.equal(STORED);
    expect(dict.has('k')).to.equal(false);
    dict.set('k', 1);
    expect(dict.set('k', undefined)).to.equal(STORED);
    expect(dict.size()).to.equal(0);
  });

  it('size() counts an expired entry until it is reclaimed (as documented)', () => {
    const { dict, clock } = makeDict();
    dict.set('a', 1, 10);
    dict.set('b', 2);
    clock.advance(20);
    expect(dict.has('a')).to.equal(false);
    expect(dict.size()).to.equal(2);
    dict.flushExpired();
    expect(dict.size()).to.equal(1);
  });

  it("capacity() is the zone's declared size; a second declaration is the same dict", async () => {
    const registry = new ZoneRegistry({ namespace: uniqueNamespace('gaps'), mode: 'owner' });
    const first = sharedDict(registry, 'cache', '1 MiB');
    const second = sharedDict(registry, 'cache', '1m');
    expect(thrown(() => sharedDict(registry, 'cache', '2m')).code).to.equal(
      'ERR_ZONE_SIZE_CONFLICT',
    );
    await registry.start();
    try {
      expect(first.capacity()).to.equal(1024 * 1024);
      first.set('k', 'v');
      expect(second.get('k')).to.equal('v');
    } finally {
      registry.stop();
    }
  });
});
