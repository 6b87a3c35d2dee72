/**
 * getOrSet's staleTtl (stale-while-revalidate): a value past its ttl but within ttl + staleTtl
 * is served at once while one reload runs; past ttl + staleTtl it is a miss again.
 */
import { expect } from 'chai';
import { sharedDict } from '../../src/dict/declare.js';
import type { SharedDict } from '../../src/dict/dict.js';
import { ZoneRegistry } from '../../src/zone/registry.js';
import { uniqueNamespace } from '../helpers/shm.js';
import { rejection } from './util.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('SharedDict.getOrSet with staleTtl', function () {
  this.timeout(30_000);
  let registry: ZoneRegistry;
  let dict: SharedDict;

  beforeEach(async () => {
    registry = new ZoneRegistry({ namespace: uniqueNamespace('stale'), mode: 'owner' });
    dict = sharedDict(registry, 'stale', '1m');
    await registry.start();
  });
  afterEach(() => registry.stop());

  it('serves the stale value at once and reloads it once in the background', async () => {
    let loads = 0;
    let release: () => void = () => {};
    const loader = async (): Promise<string> => {
      loads++;
      if (loads > 1) await new Promise<void>((r) => (release = r));
      return `v${loads}`;
    };
    const options = { ttl: 150, staleTtl: 10_000 };
    expect(await dict.getOrSet('k', loader, options)).to.equal('v1');
    expect(dict.ttl('k')).to.be.above(10_000); // stored for ttl + staleTtl
    expect(await dict.getOrSet('k', loader, options)).to.equal('v1'); // fresh: no load
    expect(loads).to.equal(1);
    await sleep(250);
    // Stale now: ten callers all get v1 at once, and one reload starts.
    const stale = await Promise.all(
      Array.from({ length: 10 }, () => dict.getOrSet('k', loader, options)),
    );
    expect(stale).to.deep.equal(Array(10).fill('v1'));
    expect(loads).to.equal(2);
    release();
    await sleep(50);
    expect(dict.get('k')).to.equal('v2');
    expect(await dict.getOrSet('k', loader, options)).to.equal('v2');
    expect(loads).to.equal(2);
  });

  it('a failed background reload keeps the stale value, and the next stale call retries', async () => {
    let loads = 0;
    const loader = (): string => {
      loads++;
      if (loads === 2) throw new Error('origin down');
      return `v${loads}`;
    };
    const options = { ttl: 100, staleTtl: 10_000 };
    expect(await dict.getOrSet('k', loader, options)).to.equal('v1');
    await sleep(200);
    expect(await dict.getOrSet('k', loader, options)).to.equal('v1'); // reload 2 throws
    await sleep(20);
    expect(loads).to.equal(2);
    expect(dict.get('k')).to.equal('v1');
    expect(await dict.getOrSet('k', loader, options)).to.equal('v1'); // reload 3 succeeds
    await sleep(20);
    expect(loads).to.equal(3);
    expect(dict.get('k')).to.equal('v3');
  });

  it('past ttl + staleTtl the value is gone and callers wait for the load', async () => {
    let loads = 0;
    const options = { ttl: 50, staleTtl: 50 };
    await dict.getOrSet('k', () => `v${++loads}`, options);
    await sleep(200);
    expect(await dict.getOrSet('k', () => `v${++loads}`, options)).to.equal('v2');
  });

  it('bad staleTtl: ERR_DICT_TTL or ERR_DICT_OPTION, nothing stored, loader not called', async () => {
    let called = false;
    const loader = (): number => {
      called = true;
      return 1;
    };
    expect((await rejection(dict.getOrSet('a', loader, { ttl: 10, staleTtl: -1 }))).code).to.equal(
      'ERR_DICT_TTL',
    );
    expect((await rejection(dict.getOrSet('a', loader, { staleTtl: 10 }))).code).to.equal(
      'ERR_DICT_OPTION',
    );
    expect(() => dict.wrap(loader, { staleTtl: 10 }))
      .to.throw()
      .with.property('code', 'ERR_DICT_OPTION');
    expect(called).to.equal(false);
    expect(dict.has('a')).to.equal(false);
  });
});
