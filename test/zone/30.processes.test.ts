/**
 * Real processes: a cluster primary and its workers share a zone; another independent process
 * opens a namespace's zone by name; the creator removes its segments however it exits; the
 * primary recovers the pool lock of a worker SIGKILLed inside the critical section.
 */
import { expect } from 'chai';
import { ZoneRegistry, zoneMetrics, type Zone } from '../../src/index.js';
import { uniqueNamespace } from '../helpers/shm.js';
import { killAllFixtures, spawnFixture, runFixture } from '../helpers/processes.js';
import { removeSegment, segmentExists } from './segments.js';
import { L } from '../../src/slab/layout.js';
import { IDLE_WAKES_BEFORE_SWEEP } from '../../src/slab/lock.js';
import { PEER_SLOTS } from '../../src/zone/layout.js';

/** Starts, as owner, the zone "z" of test/fixtures/zone-proc.ts (same size, tag and init). */
async function ownProcZone(ns: string): Promise<{ reg: ZoneRegistry; z: Zone }> {
  const reg = new ZoneRegistry({ namespace: ns, mode: 'owner' });
  const z = reg.add('z', '64k', {
    tag: 'proc',
    init: (zone, reused) => void (reused || (zone.root = zone.pool.calloc(16))),
  });
  await reg.start();
  return { reg, z };
}

describe('zone across processes', () => {
  const made: string[] = [];
  afterEach(async () => {
    await killAllFixtures();
    for (const s of made.splice(0)) removeSegment(s);
  });

  it('cluster: 3 workers attach, each writes its region, all see all writes; nothing left after', async () => {
    const ns = uniqueNamespace('cl');
    made.push(`/shmzone.${ns}.z`);
    const r = await runFixture('zone-cluster', [ns, '3', 'share'], { timeoutMs: 30_000 });
    expect(r.code, r.stderr).to.equal(0);
    const result = r.lines.find((l) => l.event === 'result') as {
      seen: Array<{
        words: number[];
        regions: boolean[];
        mode: string;
        namespace: string;
        created: boolean;
      }>;
    };
    expect(result.seen).to.have.length(3);
    for (const s of result.seen) {
      expect(s.mode).to.equal('attach');
      expect(s.namespace).to.equal(ns);
      expect(s.created).to.equal(false);
      expect(s.words).to.deep.equal([1, 2, 3]);
      expect(s.regions).to.deep.equal([true, true, true]);
    }
    expect(segmentExists(`/shmzone.${ns}.z`)).to.equal(false);
  });

  it('cluster: a worker SIGKILLed holding the pool lock is recovered by the primary (one log line)', async () => {
    const ns = uniqueNamespace('cl');
    made.push(`/shmzone.${ns}.z`);
    const r = await runFixture('zone-cluster', [ns, '1', 'kill-lock'], { timeoutMs: 30_000 });
    expect(r.code, r.stderr).to.equal(0);
    const result = r.lines.find((l) => l.event === 'result') as {
      lockOwner: number;
      verified: boolean;
      logLines: string[];
      livePeers: number;
      stats: number;
    };
    expect(result.lockOwner).to.equal(0);
    expect(result.verified).to.equal(true);
    expect(result.livePeers).to.equal(1);
    expect(result.stats).to.equal(1);
    expect(result.logLines).to.have.length(1);
    expect(result.logLines[0]).to.match(/zone "z": recovered the lock held by dead pid \d+/);
    expect(segmentExists(`/shmzone.${ns}.z`)).to.equal(false);
  });

  it('an independent process opens a namespace zone by name (attach mode) and sees its data', async () => {
    const ns = uniqueNamespace('ind');
    const { reg, z } = await ownProcZone(ns);
    try {
      Atomics.store(new Int32Array(z.buffer, z.root, 4), 0, 41);
      const r = await runFixture('zone-proc', [
        JSON.stringify({ ns, mode: 'attach', action: 'incr' }),
      ]);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.lines.find((l) => l.event === 'ready')).to.include({
        created: false,
        reused: true,
        counter: 42,
        peers: 2,
      });
      expect(Atomics.load(new Int32Array(z.buffer, z.root, 4), 0)).to.equal(42);
      expect(segmentExists(z.segmentName)).to.equal(true); // the attacher never removes the owner's zone
    } finally {
      reg.stop();
    }
    expect(segmentExists(`/shmzone.${ns}.z`)).to.equal(false);
  });

  for (const cleaner of [
    'the owner reaps it',
    'the next process to attach takes its slot',
    'unlock finds its slot vacant (nobody reaps, nobody attaches)',
  ] as const) {
    it(`a process SIGKILLed asleep on the pool lock keeps its sleeper bit until ${cleaner}`, async () => {
      // Each peer slot has a sleeper bit of its own (a shared bit can cost a sleeper its wake-up).
      expect(L.SLEEPER_SLOTS).to.equal(PEER_SLOTS);
      const ns = uniqueNamespace('sleep');
      const { reg, z } = await ownProcZone(ns);
      try {
        const pool = z.pool;
        const p = spawnFixture('zone-proc', [
          JSON.stringify({ ns, mode: 'attach', action: 'alloc' }),
        ]);
        const pid = (await p.waitFor('ready')).pid as number;
        const slot = z.livePeers().find((peer) => peer.pid === pid)!.slot;
        const isSlotVacant = (s: number): boolean => z.owner.isSlotVacant!(s);
        expect(isSlotVacant(slot), "a live process's slot").to.equal(false);
        expect(isSlotVacant((z.owner.selfId - 1) % PEER_SLOTS), 'our own slot').to.equal(false);
        expect(isSlotVacant(PEER_SLOTS - 1), 'a slot nobody took').to.equal(true);
        pool.lock();
        try {
          p.child.stdin!.write('go\n');
          // Its alloc() spins, then sets its bit and sleeps on the futex.
          const t0 = Date.now();
          while (pool.sleepers() !== 1) {
            if (Date.now() - t0 > 10_000) throw new Error('the child never slept on the lock');
            await new Promise((r) => setTimeout(r, 2));
          }
          p.child.kill('SIGKILL');
          expect((await p.exited).signal).to.equal('SIGKILL');
          expect(pool.sleepers(), 'a thread killed in its sleep cannot clear its bit').to.equal(1);
          expect(pool.stats().lock.sleepers).to.equal(1);
          expect(zoneMetrics(z)).to.match(/^shmzone_lock_sleepers\{[^}]*\} 1$/m);
        } finally {
          pool.unlock();
        }
        if (cleaner === 'the owner reaps it') {
          expect(z.reapDeadPeers().map((r) => r.pid)).to.deep.equal([pid]);
        } else if (cleaner === 'unlock finds its slot vacant (nobody reaps, nobody attaches)') {
          expect(isSlotVacant(slot), "the dead process's slot").to.equal(true);
          // Each unlock's wake wakes nobody; after IDLE_WAKES_BEFORE_SWEEP in a row (the one
          // above included) unlock asks the peer table and clears the dead slot's bit.
          let unlocks = 1;
          while (pool.sleepers() !== 0 && unlocks < 2 * IDLE_WAKES_BEFORE_SWEEP) {
            pool.lock();
            pool.unlock();
            unlocks++;
          }
          expect(unlocks).to.equal(IDLE_WAKES_BEFORE_SWEEP);
          // The slot itself is still there to reap: the bit went without it.
          expect(z.reapDeadPeers().map((r) => r.pid)).to.deep.equal([pid]);
        } else {
          const r = await runFixture('zone-proc', [
            JSON.stringify({ ns, mode: 'attach', action: 'incr' }),
          ]);
          expect(r.code, r.stderr).to.equal(0);
        }
        // Left set, every unlock from now on would make a futex call for nobody.
        expect(pool.sleepers()).to.equal(0);
        expect(pool.stats().lock.sleepers).to.equal(0);
        expect(pool.alloc(8)).to.be.greaterThan(0);
        expect(pool.stats().lock.recoveries).to.equal(0); // it never held the lock
        pool.verify();
      } finally {
        reg.stop();
      }
    });
  }

  it('attach mode without an owner times out with ERR_ZONE_TIMEOUT', async () => {
    const ns = uniqueNamespace('ind');
    const r = await runFixture('zone-proc', [
      JSON.stringify({ ns, mode: 'attach', action: 'report', readyTimeoutMs: 300 }),
    ]);
    expect(r.code).to.equal(3);
    expect(r.lines[0]).to.include({ event: 'error', code: 'ERR_ZONE_TIMEOUT' });
  });

  for (const how of ['normal exit', 'SIGTERM', 'SIGINT', 'uncaught exception'] as const) {
    it(`the owner removes its segment on ${how}`, async () => {
      const ns = uniqueNamespace('exit');
      const segment = `/shmzone.${ns}.z`;
      made.push(segment);
      const action = how === 'uncaught exception' ? 'throw' : 'hold';
      const p = spawnFixture('zone-proc', [JSON.stringify({ ns, mode: 'owner', action })]);
      await p.waitFor('ready');
      expect(segmentExists(segment)).to.equal(action === 'throw' ? segmentExists(segment) : true);
      if (how === 'normal exit') p.child.stdin!.end();
      if (how === 'SIGTERM') p.child.kill('SIGTERM');
      if (how === 'SIGINT') p.child.kill('SIGINT');
      const timer = setTimeout(() => p.child.kill('SIGKILL'), 10_000);
      const { code, signal } = await p.exited;
      clearTimeout(timer);
      if (how === 'normal exit') expect(code).to.equal(0);
      if (how === 'SIGTERM') expect(signal).to.equal('SIGTERM');
      if (how === 'SIGINT') expect(signal).to.equal('SIGINT');
      if (how === 'uncaught exception') expect(code).to.equal(1);
      expect(segmentExists(segment)).to.equal(false);
    });
  }
});
