/**
 * The lock across real processes over a real shared segment (needs the native addon):
 * exact counting under contention, pattern stress of the allocator, a futex wake-up that
 * beats any timeout, and takeover of a lock whose owner was SIGKILLed.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RecoveryReport } from '../../src/slab/api.js';
import { SlabPool } from '../../src/slab/pool.js';
import { uniqueNamespace } from '../helpers/shm.js';
import {
  CTL_COUNTER,
  CTL_GO,
  CTL_HELD,
  CTL_READY,
  CTL_USER,
  pidIdentity,
  POOL_OFFSET,
} from './fixtures/control.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const FIXTURE = path.join(here, 'fixtures', 'lock-child.js');
const SIZE = 4 * 1024 * 1024;

interface Child {
  child: ChildProcess;
  done: Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>;
}

function start(name: string, id: number, mode: string, ...args: string[]): Child {
  const child = spawn(process.execPath, [FIXTURE, name, String(SIZE), String(id), mode, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{
    code: number | null;
    signal: string | null;
    stdout: string;
    stderr: string;
  }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

async function result<T>(c: Child): Promise<T> {
  const r = await c.done;
  expect(r.code, r.stderr).to.equal(0);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as T;
}

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

let nativeAddon: typeof import('../../src/native.js').native | null = null;
try {
  nativeAddon = (await import('../../src/native.js')).native;
} catch {
  nativeAddon = null;
}

(nativeAddon === null ? describe.skip : describe)('slab lock across processes', function () {
  this.timeout(60_000);
  let name: string;
  let buffer: SharedArrayBuffer;
  let ctl: Int32Array;
  let pool: SlabPool;
  const children: ChildProcess[] = [];

  beforeEach(() => {
    name = `/shmzone.${uniqueNamespace('slablock')}.x`;
    buffer = nativeAddon!.createSegment(name, SIZE, 0o600).buffer;
    ctl = new Int32Array(buffer, 0, 1024);
    pool = SlabPool.create(buffer, POOL_OFFSET, SIZE - POOL_OFFSET, pidIdentity(ctl, 1));
  });
  afterEach(() => {
    for (const c of children.splice(0))
      if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    nativeAddon!.unlinkSegment(name);
  });

  it('N processes x M increments under the lock end exact', async () => {
    const N = 3;
    const M = 20_000;
    const cs = Array.from({ length: N }, (_, i) => start(name, i + 2, 'count', String(M)));
    children.push(...cs.map((c) => c.child));
    await until(() => Atomics.load(ctl, CTL_READY) === N, 20_000, 'children ready');
    Atomics.store(ctl, CTL_GO, 1);
    for (const c of cs) expect(await result<{ ok: boolean }>(c)).to.deep.equal({ ok: true });
    expect(Atomics.load(ctl, CTL_COUNTER)).to.equal(N * M);
    const st = pool.stats().lock;
    expect(st.acquisitions).to.equal(N * M);
    expect(pool.lockOwner()).to.equal(0);
  });

  it('processes allocating, pattern-filling, checking and freeing never see each other’s bytes', async () => {
    const N = 3;
    const cs = Array.from({ length: N }, (_, i) => start(name, i + 2, 'stress', '4000'));
    children.push(...cs.map((c) => c.child));
    await until(() => Atomics.load(ctl, CTL_READY) === N, 20_000, 'children ready');
    Atomics.store(ctl, CTL_GO, 1);
    for (const c of cs)
      expect(await result<{ ok: boolean; bad: number }>(c)).to.include({ ok: true, bad: 0 });
    pool.verify();
    expect(pool.freeSpace()).to.equal(pool.pagesTotal * pool.pageSize);
    expect(pool.stats().slots.every((s) => s.used === 0 && s.total === 0)).to.equal(true);
  });

  it('a waiter in another process is woken by unlock through the futex, long before its timeout', async () => {
    const holder = start(name, 2, 'hold', '1500');
    children.push(holder.child);
    await until(() => Atomics.load(ctl, CTL_HELD) === 1, 20_000, 'the holder to lock');
    const waiter = start(name, 3, 'wait', '20000'); // sleeps of up to 20 s: only a wake is fast
    children.push(waiter.child);
    const t0 = Date.now();
    expect(await result<{ ok: boolean }>(holder)).to.deep.equal({ ok: true });
    const w = await result<{ latencyMs: number; sleeps: number }>(waiter);
    expect(w.sleeps).to.be.at.least(1);
    expect(w.latencyMs).to.be.below(1000);
    expect(Date.now() - t0).to.be.below(10_000);
    expect(pool.stats().lock.sleeps).to.be.at.least(1);
    expect(pool.sleepers(), 'the woken waiter took its sleeper bit off').to.equal(0);
  });

  for (const modes of [
    ['plain', 'plain'],
    ['plain', 'atomic'],
  ] as const) {
    it(`no wake-up is lost when waiters sleep on every round (${modes.join(' + ')} release)`, async () => {
      // Waiters sleep with a 60 s bound here, so a lost wake-up shows as a wait of a minute.
      const rounds = 1500;
      const cs = modes.map((m, i) => start(name, i + 2, 'handoff', m, String(rounds), '150'));
      children.push(...cs.map((c) => c.child));
      await until(() => Atomics.load(ctl, CTL_READY) === 2, 20_000, 'children ready');
      const sleeps0 = pool.stats().lock.sleeps;
      Atomics.store(ctl, CTL_GO, 1);
      const rs = [];
      for (const c of cs) rs.push(await result<{ worstWaitMs: number; release: string }>(c));
      expect(Atomics.load(ctl, CTL_COUNTER)).to.equal(2 * rounds);
      for (const r of rs) expect(r.worstWaitMs).to.be.below(10_000);
      // The sleep path (barrier, futex wait, wake) really ran, many times.
      expect(pool.stats().lock.sleeps - sleeps0).to.be.at.least(100);
      // On x86 Linux the default is the plain release the barrier makes safe.
      const x86 = process.arch === 'x64' || process.arch === 'ia32';
      const plain = x86 && process.platform === 'linux' ? 'plain' : 'atomic';
      expect(rs.map((r) => r.release)).to.deep.equal(modes.map((m) => (m === 'plain' ? plain : m)));
      expect(pool.lockOwner()).to.equal(0);
      expect(pool.sleepers()).to.equal(0);
    });
  }

  it('a lock held by a SIGKILLed process is taken over by a waiting process, its work rolled back', async () => {
    const before = pool.stats();
    const dying = start(name, 2, 'die');
    children.push(dying.child);
    await until(() => Atomics.load(ctl, CTL_HELD) === 1, 20_000, 'the owner to lock');
    expect(pool.lockOwner()).to.equal(2);
    expect(ctl[CTL_USER]).to.equal(0xbad);
    const waiter = start(name, 3, 'wait');
    children.push(waiter.child);
    await until(() => Atomics.load(ctl, CTL_READY) === 1, 20_000, 'the waiter');
    await new Promise((r) => setTimeout(r, 100)); // let it spin and sleep
    dying.child.kill('SIGKILL');
    const d = await dying.done;
    expect(d.signal).to.equal('SIGKILL');
    const w = await result<{ recoveries: RecoveryReport[] }>(waiter);
    expect(w.recoveries).to.have.length(1);
    expect(w.recoveries[0]).to.include({ deadOwnerId: 2, reset: false });
    expect(w.recoveries[0].undone).to.be.above(10);
    expect(ctl[CTL_USER]).to.equal(0);
    pool.verify();
    const after = pool.stats();
    expect(after.pagesFree).to.equal(before.pagesFree);
    expect(after.slots.map((s) => s.used)).to.deep.equal(before.slots.map((s) => s.used));
    expect(after.lock.recoveries).to.equal(1);
    expect(pool.lockOwner()).to.equal(0);
  });

  it('the parent takes over directly when it finds the dead owner (and recoverFrom works too)', async () => {
    const reports: RecoveryReport[] = [];
    pool.onRecovery((r) => reports.push(r));
    const dying = start(name, 2, 'die');
    children.push(dying.child);
    await until(() => Atomics.load(ctl, CTL_HELD) === 1, 20_000, 'the owner to lock');
    dying.child.kill('SIGKILL');
    await dying.done;
    pool.lock();
    expect(reports).to.have.length(1);
    expect(ctl[CTL_USER]).to.equal(0);
    pool.verify();
    pool.unlock();

    Atomics.store(ctl, CTL_HELD, 0);
    const dying2 = start(name, 4, 'die');
    children.push(dying2.child);
    await until(() => Atomics.load(ctl, CTL_HELD) === 1, 20_000, 'the owner to lock');
    dying2.child.kill('SIGKILL');
    await dying2.done;
    expect(pool.recoverFrom(4)).to.equal(true);
    expect(reports).to.have.length(2);
    expect(pool.lockOwner()).to.equal(0);
    pool.verify();
  });
});
