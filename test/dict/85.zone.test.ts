import { expect } from 'chai';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ZoneRegistry } from '../../src/zone/registry.js';
import { sharedDict, MIN_DICT_SIZE } from '../../src/dict/declare.js';
import { uniqueNamespace } from '../helpers/shm.js';
import { thrown } from './util.js';

const THREAD = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../fixtures/dict-thread.js',
);

describe('SharedDict in a zone (declaration, start, worker threads)', function () {
  this.timeout(60_000);

  it('is declared before start, usable after, and refuses calls before', async () => {
    const registry = new ZoneRegistry({ namespace: uniqueNamespace('dictz'), mode: 'owner' });
    const dict = sharedDict(registry, 'cache', '1m');
    expect(thrown(() => dict.get('k')).code).to.equal('ERR_DICT_NOT_STARTED');
    await registry.start();
    try {
      expect(dict.set('k', 'v', 1000, 3)).to.equal(1);
      expect(dict.get('k')).to.equal('v');
      expect(dict.capacity())
        .to.be.at.most(1024 * 1024)
        .and.above(900 * 1024);
      dict.verify();
    } finally {
      await registry.stop();
    }
  });

  it('refuses every read once its zone is closed (ERR_ZONE_CLOSED), in both read modes', async () => {
    const registry = new ZoneRegistry({ namespace: uniqueNamespace('dictz'), mode: 'owner' });
    const dict = sharedDict(registry, 'cache', '1m');
    const locked = sharedDict(registry, 'cache2', '1m', { reads: 'locked' });
    await registry.start();
    dict.set('k', Buffer.from('v'));
    locked.set('k', 'v');
    // Warm the lock-free path up so that the check is exercised in optimised code too.
    for (let i = 0; i < 20_000; i++) dict.get('k');
    await registry.stop();
    for (const d of [dict, locked]) {
      expect(thrown(() => d.get('k')).code).to.equal('ERR_ZONE_CLOSED');
      expect(thrown(() => d.getStale('k')).code).to.equal('ERR_ZONE_CLOSED');
      expect(thrown(() => d.has('k')).code).to.equal('ERR_ZONE_CLOSED');
      expect(thrown(() => d.getInto('k', new Uint8Array(8))).code).to.equal('ERR_ZONE_CLOSED');
      expect(thrown(() => d.set('k', 1)).code).to.equal('ERR_ZONE_CLOSED');
    }
  });

  it('refuses zones too small for a dict', () => {
    const registry = new ZoneRegistry({ namespace: uniqueNamespace('dictz'), mode: 'owner' });
    expect(thrown(() => sharedDict(registry, 'tiny', MIN_DICT_SIZE - 4096)).code).to.equal(
      'ERR_DICT_SIZE',
    );
  });

  it('a second registry attaching to the zone sees the same dict', async () => {
    const namespace = uniqueNamespace('dictz');
    const owner = new ZoneRegistry({ namespace, mode: 'owner' });
    const a = sharedDict(owner, 'cache', '1m');
    await owner.start();
    try {
      a.set('shared', 42);
      const attacher = new ZoneRegistry({ namespace, mode: 'attach' });
      const b = sharedDict(attacher, 'cache', '1m');
      await attacher.start();
      expect(b.get('shared')).to.equal(42);
      b.incr('shared', 1);
      expect(a.get('shared')).to.equal(43);
      await attacher.stop();
    } finally {
      await owner.stop();
    }
  });

  it('worker threads share it through transfer() / SharedDict.fromTransfer()', async () => {
    const registry = new ZoneRegistry({ namespace: uniqueNamespace('dictz'), mode: 'owner' });
    const dict = sharedDict(registry, 'cache', '1m');
    await registry.start();
    try {
      dict.set('from-main', 'hi');
      const n = 5000;
      const seen = await Promise.all(
        [1, 2, 3].map(
          (id) =>
            new Promise<unknown>((resolve, reject) => {
              const w = new Worker(THREAD, { workerData: { handle: dict.transfer(), n, id } });
              w.once('message', (m: { seen: unknown }) => resolve(m.seen));
              w.once('error', reject);
            }),
        ),
      );
      expect(seen).to.deep.equal(['hi', 'hi', 'hi']);
      expect(dict.get('threads')).to.equal(3 * n);
      expect(dict.get('from-thread-2')).to.equal('hello 2');
      dict.verify();
    } finally {
      await registry.stop();
    }
  });
});
