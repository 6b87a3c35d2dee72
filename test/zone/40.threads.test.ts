/** worker_threads: a zone handed to a worker is the same memory; a terminated lock holder is recovered. */
import { expect } from 'chai';
import { Worker } from 'node:worker_threads';
import { ZoneRegistry, Zone } from '../../src/index.js';
import { uniqueNamespace } from '../helpers/shm.js';

/**
 * Starts the fixture and starts listening for its exit at once. Node drains a worker's last
 * messages and emits 'exit' in the same tick, so a listener attached after awaiting the
 * worker's message can miss the exit and hang.
 */
function worker(data: object): Worker & { exited: Promise<number> } {
  const w = new Worker(new URL('../fixtures/zone-thread.js', import.meta.url), {
    workerData: data,
  });
  const exited = new Promise<number>((resolve) => w.once('exit', resolve));
  return Object.assign(w, { exited });
}

function message<T>(w: Worker, timeoutMs = 10_000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('worker did not answer')), timeoutMs);
    w.once('message', (m: T) => {
      clearTimeout(timer);
      resolve(m);
    });
    w.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

describe('zone in worker threads', () => {
  let reg: ZoneRegistry;
  let zone: Zone;
  let logged: string[];
  beforeEach(async () => {
    logged = [];
    reg = new ZoneRegistry({
      namespace: uniqueNamespace('thr'),
      mode: 'owner',
      log: (l) => logged.push(l),
    });
    zone = reg.add('z', '64k', {
      init: (z, reused) => void (reused || (z.root = z.pool.calloc(128))),
    });
    await reg.start();
  });
  afterEach(() => reg.stop());

  it('sees the same memory and gets its own peer slot', async () => {
    const words = new Int32Array(zone.buffer, zone.root, 32);
    Atomics.store(words, 0, 7);
    const w = worker({ zone: zone.transfer(), action: 'write' });
    const m = await message<{ seenFromMain: number; peers: number; selfId: number }>(w);
    await w.exited;
    expect(m.seenFromMain).to.equal(7);
    expect(m.peers).to.equal(2);
    expect(m.selfId).to.not.equal(zone.owner.selfId);
    expect(Atomics.load(words, 1)).to.equal(4242);
    expect(new Uint8Array(zone.buffer, zone.root + 64, 64).every((b) => b === 9)).to.equal(true);
    expect(zone.livePeers()).to.have.length(1); // the worker released its slot
  });

  it('fromTransfer cap: one thread holds at most 8 slots of a zone (ERR_ZONE_THREAD_SLOTS)', () => {
    const opened: Zone[] = [];
    try {
      for (let i = 0; i < 8; i++) opened.push(Zone.fromTransfer(zone.transfer()));
      expect(zone.livePeers()).to.have.length(9); // the registry's slot and 8 more
      expect(() => Zone.fromTransfer(zone.transfer()))
        .to.throw()
        .with.property('code', 'ERR_ZONE_THREAD_SLOTS');
      expect(zone.livePeers()).to.have.length(9); // the refused call took no slot
      opened.pop()!.close();
      opened.push(Zone.fromTransfer(zone.transfer())); // a closed one gives its place back
    } finally {
      for (const z of opened) z.close();
    }
    expect(zone.livePeers()).to.have.length(1);
  });

  it('refuses a bad handle with ERR_ZONE_HANDLE', () => {
    expect(() => Zone.fromTransfer({} as never))
      .to.throw()
      .with.property('code', 'ERR_ZONE_HANDLE');
  });

  it("gives a slot's next holder a new owner id, so a stale takeover cannot steal its lock", async () => {
    // First holder of a slot: attaches, closes (its slot is vacated).
    const first = worker({ zone: zone.transfer(), action: 'write' });
    const { selfId: oldId } = await message<{ selfId: number }>(first);
    await first.exited;
    // Second holder: the same (lowest free) slot, takes the lock and keeps it.
    const second = worker({ zone: zone.transfer(), action: 'lock' });
    const { selfId: newId } = await message<{ selfId: number }>(second);
    try {
      expect((newId - 1) % 128, 'same peer slot').to.equal((oldId - 1) % 128);
      expect(newId, 'a new id for the new holder').to.not.equal(oldId);
      expect(zone.pool.lockOwner()).to.equal(newId);
      expect(zone.owner.isOwnerDead(oldId), 'the old id names a holder that is gone').to.equal(
        true,
      );
      expect(zone.owner.isOwnerDead(newId)).to.equal(false);
      // What a waiter does after deciding "oldId is dead": CAS oldId -> self. It must fail.
      expect(zone.pool.recoverFrom(oldId)).to.equal(false);
      expect(zone.pool.lockOwner()).to.equal(newId);
      expect(zone.pool.stats().lock.recoveries).to.equal(0);
    } finally {
      await second.terminate();
    }
    zone.pool.lock(); // the terminated holder's lock, taken over
    zone.pool.unlock();
    zone.pool.verify();
    expect(zone.pool.stats().lock.recoveries).to.equal(1);
  });

  it('gives a new owner id to a thread claiming the slot of a dead, unreaped holder', async () => {
    const dead = worker({ zone: zone.transfer(), action: 'idle' });
    const { selfId: deadId } = await message<{ selfId: number }>(dead);
    await dead.terminate(); // its slot stays occupied, its token owner-dead
    const next = worker({ zone: zone.transfer(), action: 'lock' });
    const { selfId: nextId } = await message<{ selfId: number }>(next);
    try {
      expect((nextId - 1) % 128, "the dead holder's slot").to.equal((deadId - 1) % 128);
      expect(nextId).to.not.equal(deadId);
      expect(zone.pool.recoverFrom(deadId)).to.equal(false);
      expect(zone.pool.lockOwner()).to.equal(nextId);
    } finally {
      await next.terminate();
    }
    zone.pool.lock();
    zone.pool.unlock();
    zone.pool.verify();
  });

  it('recovers the lock of a worker terminated inside the critical section', async () => {
    const w = worker({ zone: zone.transfer(), action: 'lock' });
    const m = await message<{ locked: boolean; selfId: number }>(w);
    expect(zone.pool.lockOwner()).to.equal(m.selfId);
    await w.terminate();
    const t0 = Date.now();
    zone.pool.lock(); // spins, finds the owner's token dead, takes over and rolls back
    zone.pool.unlock();
    expect(Date.now() - t0).to.be.below(5000);
    zone.pool.verify();
    expect(zone.pool.stats().lock.recoveries).to.equal(1);
    expect(logged).to.have.length(1);
    expect(logged[0]).to.match(/took over the lock of dead owner \d+, \d+ write\(s\) rolled back/);
    expect(zone.reapDeadPeers().map((p) => p.id)).to.deep.equal([m.selfId]);
  });
});
