/**
 * Recovery done where no SharedDict is attached: another pool object (a newcomer's peer
 * claim, Zone.fromTransfer, the cluster primary's recoverProcess, the CLI) takes over a dead
 * dict writer's lock and rolls it back. The dict must still repair itself (every seqlock
 * stripe moved forward to an even value) and, after a pool reset, rebuild instead of reading
 * freed memory: it notices at its next lock, from the pool's shared takeover count and
 * generation, not from a listener on one pool object.
 */
import { expect } from 'chai';
import { SlabPool } from '../../src/slab/pool.js';
import { L } from '../../src/slab/layout.js';
import { SharedDict } from '../../src/dict/dict.js';
import type { DictHost } from '../../src/dict/pool.js';
import { D_POOL_GEN, D_SEQ, LINE_WORDS, SEQ_STRIPES } from '../../src/dict/layout.js';
import { KeyScratch } from '../../src/dict/hash.js';
import { seqEnter, seqLeave, stripeWord } from '../../src/dict/seqlock.js';
import { ZoneRegistry } from '../../src/zone/registry.js';
import { uniqueNamespace } from '../helpers/shm.js';
import { killAllFixtures, spawnFixture } from '../helpers/processes.js';
import { repointSlot } from '../helpers/dict-index.js';

const SIZE = 1024 * 1024;

function stripes(pool: SlabPool, root: number): number[] {
  const seqW = pool.u32[root / 4 + D_SEQ] * 2;
  return Array.from({ length: SEQ_STRIPES + 1 }, (_, s) => pool.i32[seqW + s * LINE_WORDS]);
}

function expectMovedForward(after: number[], before: number[]): void {
  after.forEach((v, s) => {
    expect(v & 1, `stripe ${s} parity`).to.equal(0);
    expect(v, `stripe ${s}`).to.be.above(before[s]);
  });
}

/** Owner 1 (pool p1) is the writer that dies; `dead` flips when it has. */
function setup(): {
  sab: SharedArrayBuffer;
  p1: SlabPool;
  host: DictHost;
  d1: SharedDict;
  before: number[];
  kill: () => void;
  isDead: (id: number) => boolean;
} {
  const sab = new SharedArrayBuffer(SIZE);
  let dead = false;
  const p1 = SlabPool.create(sab, 0, SIZE, { selfId: 1, isOwnerDead: () => false });
  const host: DictHost = { pool: p1, root: 0 };
  const d1 = new SharedDict('r', {}, host);
  for (let i = 0; i < 50; i++) d1.set(`k${i}`, `old${i}`);
  const before = stripes(p1, host.root);
  return {
    sab,
    p1,
    host,
    d1,
    before,
    kill: () => (dead = true),
    isDead: (id) => dead && id === 1,
  };
}

/** Owner 1 takes the lock, enters k0's stripe, points k0's slot at garbage (journaled). */
function dieInsideStripe(p1: SlabPool, root: number, leaveStripe: boolean): void {
  const hw = root / 4;
  const seqW = p1.u32[hw + D_SEQ] * 2;
  const ks = new KeyScratch();
  ks.load('k0');
  p1.lock();
  const sw = stripeWord(seqW, ks.hash);
  seqEnter(p1.i32, sw);
  expect(repointSlot(p1, hw, ks.hash, 12345)).to.equal(1);
  // leaveStripe: the section completed (stripe even again) but the op did not commit, so the
  // rollback changes data under an even stripe word.
  if (leaveStripe) seqLeave(p1.i32, sw);
}

function quietly<T>(fn: () => T): T {
  const warn = console.warn;
  console.warn = () => {};
  try {
    return fn();
  } finally {
    console.warn = warn;
  }
}

/**
 * Owner 1 dies inside k0's stripe after an unjournaled scribble on a free page's descriptor,
 * which the rollback cannot repair: owner 2's recovery must reset the pool. Returns owner 2's
 * pool, already recovered and checked to be reset (generation 1, the old dict free memory).
 */
function dieBeyondRepair(t: ReturnType<typeof setup>): SlabPool {
  dieInsideStripe(t.p1, t.host.root, false);
  const p1 = t.p1;
  p1.u32[p1.descWord + (p1.firstDesc + p1.pagesTotal - 3) * L.DESC_WORDS + L.D_INFO] = 9;
  t.kill();
  const p2 = SlabPool.open(t.sab, 0, { selfId: 2, isOwnerDead: t.isDead });
  expect(quietly(() => p2.recoverFrom(1))).to.equal(true);
  expect(p2.generation).to.equal(1);
  return p2;
}

describe('SharedDict after a recovery done by a pool object with no dict attached', () => {
  it('a dict attached afterwards finds every stripe moved forward to an even value', () => {
    const t = setup();
    dieInsideStripe(t.p1, t.host.root, false);
    t.kill();
    const p2 = SlabPool.open(t.sab, 0, { selfId: 2, isOwnerDead: t.isDead });
    expect(p2.recoverFrom(1)).to.equal(true); // no dict on p2
    expect(p2.stats().lock.recoveries).to.equal(1);

    const p3 = SlabPool.open(t.sab, 0, { selfId: 3, isOwnerDead: t.isDead });
    const d3 = new SharedDict('r', {}, { pool: p3, root: t.host.root });
    expectMovedForward(stripes(p3, t.host.root), t.before);
    for (let i = 0; i < 50; i++) expect(d3.get(`k${i}`)).to.equal(`old${i}`);
    expect(d3.set('k0', 'new0')).to.equal(1);
    expect(d3.get('k0')).to.equal('new0');
    // Writers leave their stripes even: the seqlock is not inverted.
    stripes(p3, t.host.root).forEach((v, s) => expect(v & 1, `stripe ${s}`).to.equal(0));
    d3.verify();
  });

  it('a dict object attached before the recovery repairs at its next operation, a read included', () => {
    const t = setup();
    // Another live "thread" with its own pool object and dict, attached before the crash.
    const p3 = SlabPool.open(t.sab, 0, { selfId: 3, isOwnerDead: t.isDead });
    const d3 = new SharedDict('r', {}, { pool: p3, root: t.host.root });
    expect(d3.get('k0')).to.equal('old0');
    const before = stripes(p3, t.host.root);
    // The section completed (stripe even), the op did not commit: rolled back under an even word.
    dieInsideStripe(t.p1, t.host.root, true);
    t.kill();
    const p2 = SlabPool.open(t.sab, 0, { selfId: 2, isOwnerDead: t.isDead });
    expect(p2.recoverFrom(1)).to.equal(true);

    // A lock-free read must not trust the words until the dict repaired after the rollback:
    // it goes through the lock, which repairs.
    expect(d3.get('k0')).to.equal('old0');
    expectMovedForward(stripes(p3, t.host.root), before);
    expect(d3.set('k1', 'new1')).to.equal(1);
    stripes(p3, t.host.root).forEach((v, s) => expect(v & 1, `stripe ${s}`).to.equal(0));
    d3.verify();
  });

  it('after a pool reset by an object with no dict, dicts rebuild once instead of reading freed memory', () => {
    const t = setup();
    const p3 = SlabPool.open(t.sab, 0, { selfId: 3, isOwnerDead: t.isDead });
    const host3: DictHost = { pool: p3, root: t.host.root };
    const d3 = new SharedDict('r', {}, host3);
    expect(d3.get('k0')).to.equal('old0');

    dieBeyondRepair(t);

    // The dict of another object notices at its next operation and rebuilds (empty), once.
    const warned: string[] = [];
    const warn = console.warn;
    console.warn = (msg: string) => warned.push(msg);
    try {
      expect(d3.get('k0')).to.equal(undefined);
      expect(d3.set('fresh', 'value')).to.equal(1);
      expect(d3.get('fresh')).to.equal('value');
      d3.verify();
      const root = host3.root;
      expect(p3.u32[root / 4 + D_POOL_GEN]).to.equal(1);
      stripes(p3, root).forEach((v, s) => expect(v & 1, `stripe ${s}`).to.equal(0));
      // Another object seeing the new ROOT (in a zone every process sees the same ROOT word)
      // adopts that dict instead of building a second one.
      const p4 = SlabPool.open(t.sab, 0, { selfId: 4, isOwnerDead: t.isDead });
      const d4 = new SharedDict('r', {}, { pool: p4, root });
      expect(d4.get('fresh')).to.equal('value');
      expect(d4.get('k0')).to.equal(undefined);
      d4.verify();
    } finally {
      console.warn = warn;
    }
    expect(warned).to.have.length(1);
    expect(warned[0]).to.match(/rebuilt EMPTY/);
  });

  it("the rebuilt-EMPTY line goes to the log given to attach (the registry's), not console.warn", () => {
    const t = setup();
    const p3 = SlabPool.open(t.sab, 0, { selfId: 3, isOwnerDead: t.isDead });
    const logged: string[] = [];
    const d3 = new SharedDict('r').attach({ pool: p3, root: t.host.root }, undefined, (line) =>
      logged.push(line),
    );
    dieBeyondRepair(t);
    const warn = console.warn;
    const warned: unknown[] = [];
    console.warn = (msg: unknown) => warned.push(msg);
    try {
      expect(d3.get('k0')).to.equal(undefined);
    } finally {
      console.warn = warn;
    }
    expect(warned).to.deep.equal([]);
    expect(logged).to.have.length(1);
    expect(logged[0]).to.match(
      /dict "r": the pool was reset \(generation 1\); the dict was rebuilt EMPTY/,
    );
  });

  it('ZoneRegistry.log is the log option in force (what sharedDict passes to attach)', () => {
    const line = (s: string): void => void s;
    expect(new ZoneRegistry({ log: line }).log).to.equal(line);
    expect(new ZoneRegistry().log).to.be.a('function');
  });

  it('a dict attached after the reset rebuilds rather than adopting the old header', () => {
    const t = setup();
    const p2 = dieBeyondRepair(t);

    const host: DictHost = { pool: p2, root: t.host.root };
    const d2 = quietly(() => new SharedDict('r', {}, host));
    expect(d2.get('k0')).to.equal(undefined);
    expect(p2.u32[host.root / 4 + D_POOL_GEN]).to.equal(1);
    for (let i = 0; i < 200; i++) expect(d2.set(`n${i}`, 'x'.repeat(i))).to.equal(1);
    for (let i = 0; i < 200; i++) expect(d2.get(`n${i}`)).to.equal('x'.repeat(i));
    d2.verify();
  });

  describe('real processes', function () {
    this.timeout(60_000);
    after(killAllFixtures);

    it('a writer SIGKILLed holding the lock, recovered by a primary that never declared the dict', async () => {
      const ns = uniqueNamespace('dictrec');
      const size = 256 * 1024;
      // The primary declares the zone but no dict on it (and so registers no dict listener).
      const registry = new ZoneRegistry({ namespace: ns, mode: 'owner', log: () => {} });
      registry.add('dz', size, { tag: 'shmzone.dict' });
      await registry.start();
      try {
        const holder = spawnFixture('dict-recovery-child', [
          JSON.stringify({ ns, size, role: 'hold' }),
        ]);
        const held = await holder.waitFor('holding');
        expect(held.odd).to.have.length(1);
        holder.child.kill('SIGKILL');
        await holder.exited;
        const rec = registry.recoverProcess(holder.pid);
        expect(rec).to.have.length(1);
        expect(rec[0].recoveredLocks).to.deep.equal([held.ownerId]);

        const checker = spawnFixture('dict-recovery-child', [
          JSON.stringify({ ns, size, role: 'check' }),
        ]);
        const out = await checker.waitFor('checked');
        expect(out.values).to.deep.equal(Array.from({ length: 50 }, (_, i) => `old${i}`));
        expect(out.stored).to.equal(1);
        expect(out.after).to.equal('new0');
        expect(out.verify).to.equal('ok');
        expect(out.odd, 'stripes left odd').to.deep.equal([]);
        await checker.exited;
      } finally {
        registry.stop();
      }
    });
  });
});
