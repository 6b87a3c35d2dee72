/**
 * The localCache option (src/dict/local-cache.ts, src/dict/versions.ts): a get of a kept key
 * is served from the object's own memory while the key's shared version holds, and never
 * returns a value that a store, delete, eviction, expiry, flush or recovery made stale.
 *
 * "Served from the kept copy" is observed by changing a value's bytes in shared memory
 * behind the dict's back (no writer section, so no version moves): a kept key still returns
 * what it held, a key that is not kept returns the scribbled bytes.
 */
import { expect } from 'chai';
import { SlabPool } from '../../src/slab/pool.js';
import { SharedDict } from '../../src/dict/dict.js';
import type { DictHost } from '../../src/dict/pool.js';
import { DictStatus } from '../../src/dict/status.js';
import { sharedDict } from '../../src/dict/declare.js';
import { BYPASS_GETS, SAMPLE_LOOKUPS } from '../../src/dict/local-cache.js';
import { ZoneRegistry } from '../../src/zone/registry.js';
import { uniqueNamespace } from '../helpers/shm.js';
import { killAllFixtures, spawnFixture } from '../helpers/processes.js';
import { attachAgain, makeDict, thrown, type TestDict } from './util.js';

/** Replace the one occurrence of `from` in the zone's bytes by `to` (same length), unjournaled. */
function scribble(u8: Uint8Array, from: string, to: string): void {
  const a = Buffer.from(from);
  const b = Buffer.from(to);
  expect(b.length).to.equal(a.length);
  const zone = Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
  const at = zone.indexOf(a);
  expect(at, `"${from}" in the zone`).to.be.at.least(0);
  expect(zone.indexOf(a, at + 1), `"${from}" once`).to.equal(-1);
  b.copy(zone, at);
}

function withLocal(capacity = 100, size?: number): { t: TestDict; local: SharedDict } {
  const t = makeDict(size);
  return { t, local: attachAgain(t, { localCache: capacity }) };
}

describe('SharedDict localCache', () => {
  it('serves a kept value from its own copy, with flags and a counted hit, until the key is stored again', () => {
    const { t, local } = withLocal();
    t.dict.set('k', 'first-value-of-k', 0, 42);
    expect(local.get('k')).to.equal('first-value-of-k');
    scribble(t.pool.u8, 'first-value-of-k', 'FIRST-VALUE-OF-K');
    expect(t.dict.get('k'), 'the shared bytes changed').to.equal('FIRST-VALUE-OF-K');

    local.lastFlags = 0;
    local.lastStatus = DictStatus.NOT_FOUND;
    const hits = t.dict.stats().hits;
    expect(local.get('k'), 'kept').to.equal('first-value-of-k');
    expect(local.lastFlags).to.equal(42);
    expect(local.lastStatus).to.equal(DictStatus.OK);
    expect(local.lastStale).to.equal(false);
    expect(t.dict.stats().hits).to.equal(hits + 1);

    t.dict.set('k', 'second', 0, 7);
    expect(local.get('k'), 'a store moved the version').to.equal('second');
    expect(local.lastFlags).to.equal(7);
    local.set('k', 'third');
    expect(local.get('k'), 'its own store too').to.equal('third');
  });

  it('sees delete, flush_all, expiry, expire(), incr and eviction done through another object', () => {
    const { t, local } = withLocal();
    t.dict.set('d', 'x');
    expect(local.get('d')).to.equal('x');
    t.dict.delete('d');
    expect(local.get('d')).to.equal(undefined);
    expect(local.lastStatus).to.equal(DictStatus.NOT_FOUND);

    // 'f' written last, so the expire step that flushAll runs first reclaims others, not it:
    // only the flush generation tells the local cache.
    for (let i = 0; i < 20; i++) t.dict.set(`older${i}`, i);
    t.dict.set('f', 'y');
    expect(local.get('f')).to.equal('y');
    t.dict.flushAll();
    expect(local.get('f')).to.equal(undefined);

    t.dict.set('ttl', 'z', 1000);
    expect(local.get('ttl')).to.equal('z');
    t.clock.advance(999);
    expect(local.get('ttl')).to.equal('z');
    t.clock.advance(1);
    expect(local.get('ttl')).to.equal(undefined);

    t.dict.set('e', 'w');
    expect(local.get('e')).to.equal('w');
    expect(t.dict.expire('e', 500)).to.equal(true);
    t.clock.advance(500);
    expect(local.get('e')).to.equal(undefined);

    t.dict.set('n', 1);
    expect(local.get('n')).to.equal(1);
    t.dict.incr('n', 2);
    expect(local.get('n')).to.equal(3);
    t.dict.set('b', true);
    expect(local.get('b')).to.equal(true);
    t.dict.set('b', false);
    expect(local.get('b')).to.equal(false);
  });

  it('an evicted key is gone for the local cache too', () => {
    const { t, local } = withLocal(100, 256 * 1024);
    t.dict.set('victim', 'v'.repeat(100));
    expect(local.get('victim')).to.equal('v'.repeat(100));
    // 2 MB through a 256 KiB dict; no reads of the victim meanwhile (a hit would mark it).
    for (let i = 0; i < 2000; i++) t.dict.set(`filler${i}`, 'f'.repeat(1000));
    expect(t.dict.stats().evictions).to.be.above(0);
    expect(t.dict.has('victim')).to.equal(false);
    expect(local.get('victim')).to.equal(undefined);
    t.dict.verify();
  });

  it('keeps only strings, numbers and booleans up to 64 KiB under string keys', () => {
    const { t, local } = withLocal();
    t.dict.set('buf', Buffer.from('bytes-of-buf'));
    const b1 = local.get<Buffer>('buf')!;
    b1[0] = 0x58;
    expect(local.get<Buffer>('buf')!.toString(), 'a fresh copy each time').to.equal('bytes-of-buf');
    t.dict.set('obj', { a: 1 });
    const o1 = local.get<{ a: number }>('obj')!;
    expect(local.get('obj')).to.not.equal(o1);
    expect(local.get('obj')).to.deep.equal({ a: 1 });
    t.dict.set(Buffer.from('binkey'), 'binary-key-value');
    expect(local.get(Buffer.from('binkey'))).to.equal('binary-key-value');
    scribble(t.pool.u8, 'binary-key-value', 'BINARY-KEY-VALUE');
    expect(local.get(Buffer.from('binkey')), 'binary keys are not kept').to.equal(
      'BINARY-KEY-VALUE',
    );
    // Larger than LOCAL_MAX_VALUE_BYTES (64 KiB): read from shared memory every time.
    t.dict.set('big', `big-value-head${'x'.repeat(70_000)}`);
    expect(local.get<string>('big')!.slice(0, 14)).to.equal('big-value-head');
    scribble(t.pool.u8, 'big-value-head', 'BIG-VALUE-HEAD');
    expect(local.get<string>('big')!.slice(0, 14), 'not kept').to.equal('BIG-VALUE-HEAD');
    t.dict.set('stale-read', 'read-by-getstale');
    expect(local.getStale('stale-read')).to.equal('read-by-getstale');
    scribble(t.pool.u8, 'read-by-getstale', 'READ-BY-GETSTALE');
    expect(local.get('stale-read'), 'getStale keeps nothing').to.equal('READ-BY-GETSTALE');
  });

  it('keeps at most `localCache` keys; when full, admits a key on its second miss and drops one no get used', () => {
    const { t, local } = withLocal(2);
    for (const k of ['aa', 'bb', 'cc']) t.dict.set(k, `value-of-${k}`);
    expect(local.get('aa')).to.equal('value-of-aa');
    expect(local.get('bb')).to.equal('value-of-bb');
    expect(local.get('aa'), 'a hit: aa is used').to.equal('value-of-aa');
    expect(local.get('cc')).to.equal('value-of-cc'); // full: a first miss is not kept
    scribble(t.pool.u8, 'value-of-cc', 'VALUE-OF-cc');
    expect(local.get('cc'), 'not kept').to.equal('VALUE-OF-cc');
    // That second miss admitted cc: bb went, aa (used) got a second chance.
    scribble(t.pool.u8, 'VALUE-OF-cc', 'vALUE-OF-cc');
    expect(local.get('cc'), 'kept').to.equal('VALUE-OF-cc');
    for (const k of ['aa', 'bb']) scribble(t.pool.u8, `value-of-${k}`, `VALUE-OF-${k}`);
    expect(local.get('aa'), 'kept').to.equal('value-of-aa');
    expect(local.get('bb'), 'dropped').to.equal('VALUE-OF-bb');
  });

  it('sits out gets after a sample window with fewer than half hits, then looks again', () => {
    // aa is every fourth get, so it stays kept (used when the hand comes), at 25% hits.
    const { t, local } = withLocal(2);
    t.dict.set('aa', 'value-of-aa');
    for (let i = 0; i < 64; i++) t.dict.set(`m${i}`, i);
    expect(local.get('aa')).to.equal('value-of-aa');
    for (let i = 1; i < SAMPLE_LOOKUPS + 8; i++) local.get(i % 4 === 0 ? 'aa' : `m${i % 64}`);
    scribble(t.pool.u8, 'value-of-aa', 'VALUE-OF-aa');
    let fromShared = 0;
    let last: unknown;
    for (let i = 0; i < BYPASS_GETS + 100; i++) {
      last = local.get('aa');
      if (last === 'VALUE-OF-aa') fromShared++;
    }
    // What was left of the bypass read the shared bytes, then the kept copy served again.
    expect(fromShared).to.be.within(BYPASS_GETS - 16, BYPASS_GETS);
    expect(last, 'kept, looked up again').to.equal('value-of-aa');
  });

  it('never sits out gets at a hit rate of one half or more, nor before it is full', () => {
    const { t, local } = withLocal(2);
    t.dict.set('aa', 'value-of-aa');
    for (let i = 0; i < 64; i++) t.dict.set(`m${i}`, i);
    expect(local.get('aa')).to.equal('value-of-aa');
    for (let i = 1; i < 3 * SAMPLE_LOOKUPS; i++) local.get(i % 3 !== 0 ? 'aa' : `m${i % 64}`);
    scribble(t.pool.u8, 'value-of-aa', 'VALUE-OF-aa');
    expect(local.get('aa'), 'kept: still looked up').to.equal('value-of-aa');

    // Gets of missing keys: every lookup misses, and nothing fills the cache.
    const roomy = withLocal(1000);
    roomy.t.dict.set('bb', 'value-of-bb');
    expect(roomy.local.get('bb')).to.equal('value-of-bb');
    for (let i = 0; i < 3 * SAMPLE_LOOKUPS; i++) roomy.local.get(`absent${i}`);
    scribble(roomy.t.pool.u8, 'value-of-bb', 'VALUE-OF-bb');
    expect(roomy.local.get('bb'), 'not full: always looked up').to.equal('value-of-bb');
  });

  it('drops every kept value after a recovery done elsewhere', () => {
    const size = 1024 * 1024;
    const sab = new SharedArrayBuffer(size);
    let dead = false;
    const p1 = SlabPool.create(sab, 0, size, { selfId: 1, isOwnerDead: () => false });
    const host: DictHost = { pool: p1, root: 0 };
    const d1 = new SharedDict('r', {}, host);
    d1.set('k', 'kept-before-crash');
    d1.set('k2', 'second-kept-value');
    const isDead = (id: number): boolean => dead && id === 1;
    const p3 = SlabPool.open(sab, 0, { selfId: 3, isOwnerDead: isDead });
    const local = new SharedDict('r', { localCache: 10 }, { pool: p3, root: host.root });
    expect(local.get('k')).to.equal('kept-before-crash');
    expect(local.get('k2')).to.equal('second-kept-value');
    // Owner 1 dies holding the lock; owner 2 (no dict) recovers.
    p1.lock();
    dead = true;
    const p2 = SlabPool.open(sab, 0, { selfId: 2, isOwnerDead: isDead });
    expect(p2.recoverFrom(1)).to.equal(true);
    scribble(p1.u8, 'kept-before-crash', 'KEPT-BEFORE-CRASH');
    // The takeover count moved: the next get reads the shared dict (and syncs, dropping all).
    expect(local.get('k')).to.equal('KEPT-BEFORE-CRASH');
    // ...and that sync dropped the other kept values, whose versions did not move.
    scribble(p1.u8, 'second-kept-value', 'SECOND-KEPT-VALUE');
    expect(local.get('k2')).to.equal('SECOND-KEPT-VALUE');
  });

  it('bad options: ERR_DICT_OPTION, and nothing is attached', () => {
    for (const bad of [-1, 1.5, '10', 2 ** 24 + 1, NaN]) {
      const err = thrown(() => new SharedDict('x', { localCache: bad as number }));
      expect(err.code, String(bad)).to.equal('ERR_DICT_OPTION');
      expect(err.message).to.contain('localCache');
    }
    const err = thrown(() => new SharedDict('x', { localCache: 10, reads: 'locked' }));
    expect(err.code).to.equal('ERR_DICT_OPTION');
    expect(new SharedDict('x', { localCache: 0, reads: 'locked' }).name).to.equal('x');
  });

  describe('across processes', function () {
    this.timeout(60_000);
    after(killAllFixtures);

    it('a reader in another process never goes back in time and ends on the last store', async () => {
      const namespace = uniqueNamespace('lcache');
      const registry = new ZoneRegistry({ namespace, mode: 'owner' });
      const dict = sharedDict(registry, 'lc', '4m', { localCache: 100 });
      await registry.start();
      try {
        dict.set('ctr', 'v0');
        dict.set('gone', 'here');
        expect(dict.get('gone')).to.equal('here');
        const count = 20_000;
        const writer = spawnFixture('local-cache-writer', [namespace, String(count)]);
        await writer.waitFor('ready');
        writer.child.stdin!.write('go\n');
        let last = 0;
        let reads = 0;
        let changes = 0;
        while (!writer.lines.some((l) => l.event === 'done')) {
          const v = dict.get<string>('ctr')!;
          const n = Number(v.slice(1));
          expect(n, `read ${reads}`).to.be.at.least(last);
          if (n !== last) changes++;
          last = n;
          if (++reads % 1000 === 0) await new Promise((r) => setImmediate(r));
        }
        await writer.exited;
        expect(dict.get('ctr')).to.equal(`v${count}`);
        expect(dict.get('gone')).to.equal(undefined);
        expect(changes, 'the reader saw the writer progress').to.be.above(0);
        dict.verify();
      } finally {
        await registry.stop();
      }
    });
  });
});
