/**
 * Two simulated hosts (separate namespaces, each its own zones and two processes) sharing
 * one real redis-server: cross-host propagation, subscriber takeover after SIGKILL, Redis
 * killed and restarted mid-run. The steps build on each other and run in order.
 */
import { expect } from 'chai';
import { killAllFixtures } from '../helpers/processes.js';
import { haveRedisServer, startRedis, type RedisServer } from '../helpers/redis.js';
import { uniqueNamespace } from '../helpers/shm.js';
import {
  startHostProcess,
  subscriberOf,
  within,
  writeAndAwaitApplied,
  type HostProcess,
} from '../helpers/tier-hosts.js';

describe('tier: two hosts over one redis-server (real processes)', function () {
  this.timeout(60_000);
  let redis: RedisServer;
  let a: HostProcess[];
  let b: HostProcess[];

  before(async () => {
    if (!haveRedisServer()) throw new Error('redis-server is not installed (.ci/run installs it)');
    redis = await startRedis();
    const hostA = uniqueNamespace('hosta');
    const hostB = uniqueNamespace('hostb');
    a = [await startHostProcess(hostA, redis.url), await startHostProcess(hostA, redis.url)];
    b = [await startHostProcess(hostB, redis.url), await startHostProcess(hostB, redis.url)];
  });

  after(async () => {
    for (const p of [...(a ?? []), ...(b ?? [])]) {
      if (p.proc.child.exitCode === null && p.proc.child.signalCode === null) {
        await p.call('close').catch(() => undefined);
        await p.proc.exited;
      }
    }
    await killAllFixtures();
    await redis?.stop();
  });

  it('elects exactly one subscriber per host', async () => {
    for (const host of [a, b]) {
      await subscriberOf(host);
      const flags = await Promise.all(host.map((p) => p.call('metrics')));
      expect(flags.filter((m) => (m as { subscriber: boolean }).subscriber)).to.have.length(1);
    }
  });

  it('a write on host A is seen on host B within 200 ms, by both of its processes', async () => {
    await writeAndAwaitApplied(b, () => a[0].call('set', { key: 'user:1', value: { v: 1 } }));
    expect(await b[0].call('get', { key: 'user:1' })).to.deep.equal({ v: 1 });
    expect(await b[1].call('peek', { key: 'user:1' })).to.equal('present'); // one L1 per host
    await a[1].call('set', { key: 'user:1', value: { v: 2 } });
    const ms = await within(
      200,
      async () => ((await b[1].call('get', { key: 'user:1' })) as { v: number }).v === 2,
      'B sees v2',
    );
    expect(await b[0].call('get', { key: 'user:1' })).to.deep.equal({ v: 2 });
    console.log(`      (seen on host B after ${ms.toFixed(1)} ms)`);
    await a[0].call('delete', { key: 'user:1' });
    await within(200, async () => (await b[0].call('get', { key: 'user:1' })) === null, 'B delete');
  });

  it('the subscriber SIGKILLed: another process of the host takes over within 1 s, writes still propagate, the L1 kept', async () => {
    await b[0].call('get', { key: 'warm' }); // a miss: nothing to cache yet
    await writeAndAwaitApplied(b, () => a[0].call('set', { key: 'warm', value: 'w' }));
    await b[0].call('get', { key: 'warm' });
    expect(await b[1].call('peek', { key: 'warm' })).to.equal('present');
    const victim = await subscriberOf(b);
    const survivor = b.find((p) => p !== victim)!;
    const subscribedBefore = survivor.count('subscribed');
    const killedAt = performance.now();
    victim.proc.child.kill('SIGKILL');
    await victim.proc.exited;
    await within(1000, () => survivor.count('subscribed') > subscribedBefore, 'takeover');
    console.log(`      (took over ${(performance.now() - killedAt).toFixed(0)} ms after the kill)`);
    b = [survivor, await startHostProcess(survivor.host, redis.url)];
    // Nothing was published meanwhile: the version check keeps the host's L1.
    expect(survivor.count('flush')).to.equal(0);
    expect(await survivor.call('peek', { key: 'warm' })).to.equal('present');
    await a[1].call('set', { key: 'warm', value: 'w2' });
    await within(200, async () => (await b[1].call('get', { key: 'warm' })) === 'w2', 'B sees w2');
  });

  it('a write published while host B has no subscriber is not lost: the new subscriber flushes', async () => {
    await a[0].call('set', { key: 'gap', value: 'old' });
    await within(200, async () => (await b[0].call('get', { key: 'gap' })) === 'old', 'B old');
    const victim = await subscriberOf(b);
    const survivor = b.find((p) => p !== victim)!;
    const flushesBefore = survivor.count('flush');
    const subscribedBefore = survivor.count('subscribed');
    victim.proc.child.kill('SIGKILL');
    await victim.proc.exited;
    await a[0].call('set', { key: 'gap', value: 'new' }); // host B has no subscriber now
    const writtenAt = Date.now();
    await within(1000, () => survivor.count('subscribed') > subscribedBefore, 'takeover');
    b = [survivor, await startHostProcess(survivor.host, redis.url)];
    const subscribed = survivor.proc.lines.filter((l) => l.event === 'subscribed').at(-1)!;
    // The takeover runs its lease check every 250 ms: it comes after the write.
    expect(subscribed.at as number).to.be.above(writtenAt);
    expect(survivor.count('flush')).to.equal(flushesBefore + 1);
    expect(await b[1].call('get', { key: 'gap' })).to.equal('new');
  });

  it('a write that could not be published after the subscriber was back: the other hosts flush', async () => {
    const sub = await subscriberOf(b, 10_000);
    const flushesBefore = sub.count('flush');
    // A non-subscriber of host A whose publish failed, while its host's subscriber is connected.
    const writer = (await subscriberOf(a, 10_000)) === a[0] ? a[1] : a[0];
    await writer.call('markUnpublished');
    await within(1000, () => sub.count('flush') > flushesBefore, 'B flushed');
    expect(sub.count('flush')).to.equal(flushesBefore + 1);
  });

  it('redis-server killed: L1 keeps serving, nothing throws into callers, errors are counted', async () => {
    await writeAndAwaitApplied(b, () => a[0].call('set', { key: 'k', value: 'before' }));
    await within(200, async () => (await b[0].call('get', { key: 'k' })) === 'before', 'B k');
    await redis.kill();
    for (const p of b) {
      expect(await p.call('get', { key: 'k' })).to.equal('before'); // from L1
      expect(await p.call('get', { key: 'never-set' })).to.equal(null);
    }
    await a[0].call('set', { key: 'k', value: 'during' }); // resolves: L1 only on host A
    expect(await a[1].call('get', { key: 'k' })).to.equal('during');
    await a[0].call('delete', { key: 'gone' });
    const loaded = await Promise.all(
      b.flatMap((p) =>
        Array.from({ length: 10 }, () =>
          p.call('getOrSet', { key: 'cold', value: 'loaded', loadMs: 100 }),
        ),
      ),
    );
    expect(loaded).to.deep.equal(Array(20).fill('loaded'));
    const loads = (await Promise.all(b.map((p) => p.call('metrics')))) as { loads: number }[];
    const perProcess = `loads ${loads.map((m) => m.loads)}, flushes ${b.map((p) => p.count('flush'))}`;
    expect(loads[0].loads + loads[1].loads, perProcess).to.equal(1); // once on the host
    const errors = await Promise.all([...a, ...b].map((p) => p.call('metrics')));
    for (const e of errors) expect((e as { redisErrors: number }).redisErrors).to.be.above(0);
  });

  it('redis-server restarted: reconnect, resubscribe, no stale value left, propagation resumes', async () => {
    const before = [...a, ...b].map((p) => p.count('subscribed'));
    await redis.restart();
    const subs = [await subscriberOf(a, 10_000), await subscriberOf(b, 10_000)];
    for (const [i, p] of [...a, ...b].entries()) {
      if (subs.includes(p)) {
        await within(5000, () => p.count('subscribed') > before[i], 'resubscribed');
      }
    }
    // Host B held k = 'before'; host A wrote 'during' while Redis was down. B must not keep
    // 'before': the restarted Redis's sequence differs from B's, so B flushed.
    await within(2000, () => subs[1].count('flush') > 0, 'B flushed');
    expect(await b[0].call('get', { key: 'k' })).to.not.equal('before');
    // A write made while its own command connection still backs off reaches only host A's L1.
    const connected = async (): Promise<boolean> =>
      ((await a[1].call('metrics')) as { connected: boolean }).connected;
    await within(5000, connected, 'A reconnected');
    await a[1].call('set', { key: 'k', value: 'after' });
    await within(200, async () => (await b[1].call('get', { key: 'k' })) === 'after', 'B after');
  });
});
