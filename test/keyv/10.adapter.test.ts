/**
 * KeyvShmzone beyond Keyv's own suite (suite.vitest.ts): namespace-scoped clear and iterator,
 * the error event when the dict is full, and argument errors; with the real keyv package.
 */
import { expect } from 'chai';
import Keyv from 'keyv';
import { KeyvShmzone } from '../../src/keyv/index.js';
import { makeDict, thrown } from '../dict/util.js';

describe('KeyvShmzone (shmzone/keyv)', () => {
  it('clear() and iterator() see only their own namespace', async () => {
    const { dict } = makeDict();
    const storeA = new KeyvShmzone(dict);
    const a = new Keyv({ store: storeA, namespace: 'a' });
    const b = new Keyv({ store: new KeyvShmzone(dict), namespace: 'b' });
    await a.set('x', 1);
    await a.set('y', { deep: [2] });
    await b.set('x', 'b1');
    dict.set('plain', 'not keyv');
    const seen = new Map<string, unknown>();
    for await (const [k, v] of storeA.iterator('a')) seen.set(k, v);
    expect([...seen.keys()].sort()).to.deep.equal(['a:x', 'a:y']);
    await a.clear();
    expect(await a.get('x')).to.equal(undefined);
    expect(await b.get('x')).to.equal('b1');
    expect(dict.get('plain')).to.equal('not keyv');
  });

  it('getMany / hasMany / deleteMany through Keyv use the batch calls', async () => {
    const { dict } = makeDict();
    const keyv = new Keyv({ store: new KeyvShmzone(dict) });
    await keyv.setMany([
      { key: 'p', value: 1 },
      { key: 'q', value: 2, ttl: 60_000 },
    ]);
    expect(await keyv.getMany(['p', 'q', 'r'])).to.deep.equal([1, 2, undefined]);
    expect(await keyv.hasMany(['p', 'r'])).to.deep.equal([true, false]);
    expect(await keyv.deleteMany(['p', 'q'])).to.equal(true);
    expect(dict.size()).to.equal(0);
  });

  it("a store that does not fit: set resolves false and the store emits 'error'", async () => {
    const { dict } = makeDict(256 * 1024, { evictionTries: 0 });
    const store = new KeyvShmzone(dict);
    const errors: Error[] = [];
    store.on('error', (e: Error) => errors.push(e));
    expect(await store.set('big', 'x'.repeat(512 * 1024))).to.equal(false);
    expect(errors.map((e) => (e as Error & { code: string }).code)).to.deep.equal([
      'ERR_DICT_NO_MEMORY',
    ]);
  });

  it('needs a SharedDict: ERR_DICT_OPTION', () => {
    expect(thrown(() => new KeyvShmzone({} as never)).code).to.equal('ERR_DICT_OPTION');
  });
});
