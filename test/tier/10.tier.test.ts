/**
 * One process, a real redis-server: the tier's API, its bad-input errors, the backfill race
 * guard and Redis being unreachable from the start. Cross-host behaviour: 20.hosts.test.ts.
 */
import { createClient } from '@keyv/redis';
import { expect } from 'chai';
import { Keyv } from 'keyv';
import { ShmzoneArgumentError, ZoneRegistry } from '../../src/index.js';
import { KeyvShmzone } from '../../src/keyv/index.js';
import { sharedTier, type SharedTier } from '../../src/tier/index.js';
import { haveRedisServer, startRedis, type RedisServer } from '../helpers/redis.js';
import { uniqueNamespace } from '../helpers/shm.js';

describe('tier: one process over a real redis-server', function () {
  this.timeout(30_000);
  let redis: RedisServer;
  let registry: ZoneRegistry;
  let tier: SharedTier;

  before(async () => {
    if (!haveRedisServer()) throw new Error('redis-server is not installed (.ci/run installs it)');
    redis = await startRedis();
  });
  after(async () => redis?.stop());

  beforeEach(async () => {
    registry = new ZoneRegistry({ namespace: uniqueNamespace('tier'), mode: 'standalone' });
    tier = sharedTier(registry, 't', '1m');
    await registry.start();
  });
  afterEach(async () => {
    await tier.close();
    registry.stop();
  });

  it('refuses bad input with typed errors, and works after', async () => {
    const err = (f: () => Promise<unknown>, code: string) =>
      f().then(
        () => expect.fail('no error'),
        (e: unknown) => {
          expect(e).to.be.instanceOf(ShmzoneArgumentError);
          expect((e as ShmzoneArgumentError).code).to.equal(code);
        },
      );
    await err(() => tier.get('k'), 'ERR_TIER_NOT_CONNECTED');
    await err(() => tier.connect({} as { url: string }), 'ERR_TIER_URL');
    expect(tier.subscriber).to.equal(false);
    await tier.connect({ url: redis.url });
    await err(() => tier.connect({ url: redis.url }), 'ERR_TIER_CONNECTED');
    await tier.set('k', { a: [1, 2] }, 60_000);
    expect(await tier.get('k')).to.deep.equal({ a: [1, 2] });
  });

  it('serves a hit from L1, a miss from Redis (backfilling L1), and deletes from both', async () => {
    // Subscribed first: a subscription completing later may flush L1 (a sequence it has not
    // seen) and move the epoch, which rightly drops a backfill made meanwhile.
    const subscribed = new Promise((resolve) => tier.once('subscribed', resolve));
    await tier.connect({ url: redis.url });
    await subscribed;
    await tier.set('k', 'v');
    tier.dict.flushAll(); // only Redis holds k now
    expect(await tier.get('k')).to.equal('v');
    expect(tier.dict.get('k')).to.be.a('string'); // backfilled
    expect(await tier.get('k')).to.equal('v');
    const m = tier.metrics();
    expect([m.l1Hits, m.l2Hits]).to.deep.equal([1, 1]);
    await tier.delete('k');
    tier.dict.flushAll();
    expect(await tier.get('k')).to.equal(undefined);
  });

  it('a backfill racing an invalidation does not leave the old value in L1', async () => {
    // After the first resync (its version check may flush, which would be a race of its own).
    const subscribed = new Promise((resolve) => tier.once('subscribed', resolve));
    await tier.connect({ url: redis.url });
    await subscribed;
    await tier.set('k', 'old');
    tier.dict.flushAll();
    const reading = tier.get('k'); // took its epoch, now waits for Redis
    tier.lease.bumpEpoch(); // what an invalidation does before it deletes
    expect(await reading).to.equal('old'); // the caller gets what Redis had
    expect(tier.dict.get('k')).to.equal(undefined); // but L1 does not keep it
    await tier.get('k'); // no race this time: backfilled
    expect(tier.dict.get('k')).to.not.equal(undefined);
  });

  it('getOrSet loads once for concurrent misses and stores in L1 and Redis', async () => {
    await tier.connect({ url: redis.url });
    let loads = 0;
    const loader = async () => {
      loads++;
      await new Promise((r) => setTimeout(r, 50));
      return { n: 7 };
    };
    const got = await Promise.all(Array.from({ length: 20 }, () => tier.getOrSet('g', loader)));
    expect(got.every((g) => g.n === 7)).to.equal(true);
    expect(loads).to.equal(1);
    tier.dict.flushAll();
    expect(await tier.getOrSet('g', loader)).to.deep.equal({ n: 7 }); // from Redis
    expect(loads).to.equal(1);
  });

  it('a late caller finds the value another process stored meanwhile and does not load it again', async () => {
    const subscribed = new Promise((resolve) => tier.once('subscribed', resolve));
    await tier.connect({ url: redis.url });
    await subscribed;
    // The caller's first look misses L1 and waits on Redis (paused); meanwhile another
    // process of the host finishes its load of the key (L1 written, marker gone).
    const admin = createClient({ url: redis.url });
    await admin.connect();
    try {
      await admin.sendCommand(['CLIENT', 'PAUSE', '400', 'ALL']);
      let loads = 0;
      const late = tier.getOrSet('late', () => (loads++, 'mine'));
      await new Promise((r) => setTimeout(r, 100));
      const otherProcess = new Keyv({ store: new KeyvShmzone(tier.dict), useKeyPrefix: false });
      await otherProcess.set('late', 'theirs');
      expect(await late).to.equal('theirs');
      expect(loads).to.equal(0);
    } finally {
      await admin.quit();
    }
  });

  it('Redis unreachable from the start: connect resolves, L1 serves, errors are counted, nothing throws', async () => {
    const closedPort = redis.port + 1 === 65536 ? redis.port - 1 : redis.port + 1;
    const events: unknown[] = [];
    tier.on('redis-error', (e) => events.push(e));
    await tier.connect({ url: `redis://127.0.0.1:${closedPort}`, readyTimeoutMs: 300 });
    await tier.set('k', 'local');
    expect(await tier.get('k')).to.equal('local');
    expect(await tier.get('missing')).to.equal(undefined);
    expect(await tier.getOrSet('x', () => 'loaded')).to.equal('loaded');
    expect(tier.metrics().redisErrors).to.be.above(0);
    expect(events.length).to.equal(tier.metrics().redisErrors);
  });

  it('Redis down when the tier connects: once it is up, the subscriber subscribes and writes publish', async () => {
    await redis.kill();
    await tier.connect({ url: redis.url, readyTimeoutMs: 300 });
    expect(tier.subscriber).to.equal(true); // holds the lease, waits for Redis
    const subscribed = new Promise<void>((resolve) => tier.once('subscribed', resolve));
    await redis.restart();
    await Promise.race([
      subscribed,
      new Promise((_, reject) => setTimeout(() => reject(new Error('no subscription')), 5000)),
    ]);
    const before = tier.metrics().publishes;
    await tier.set('k', 'v');
    expect(tier.metrics().publishes).to.equal(before + 1);
  });
});
