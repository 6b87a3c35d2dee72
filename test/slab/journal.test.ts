/**
 * The crash journal and takeover, in one process: a pool view with owner id 2 plays the thread
 * that dies holding the lock (it simply never unlocks), a view with id 1 whose identity says
 * "2 is dead" takes over.
 */
import { expect } from 'chai';
import type { RecoveryReport } from '../../src/slab/api.js';
import { SlabPool } from '../../src/slab/pool.js';
import { L } from '../../src/slab/layout.js';
import { firstDifference, owner, survivorAndVictim, thrown, xorshift32 } from './util.js';

const SIZE = 1024 * 1024;

function setup(): {
  survivor: SlabPool;
  victim: SlabPool;
  reports: RecoveryReport[];
  userWord: number;
} {
  // 4096 bytes after the pool hold the user's word (see `userWord`).
  const { survivor, victim } = survivorAndVictim(SIZE, SIZE + 4096);
  const reports: RecoveryReport[] = [];
  survivor.onRecovery((r) => reports.push(r));
  return { survivor, victim, reports, userWord: SIZE / 4 + 10 };
}

/** The structure that rollback must restore: descriptors, counters, the user's word. */
function structure(pool: SlabPool, userWord: number): Uint8Array {
  const parts = [
    pool.u8.slice(pool.descWord * 4, pool.dataStart),
    pool.u8.slice(userWord * 4, userWord * 4 + 4),
  ];
  const st = pool.stats();
  const counters = new Uint32Array([st.pagesFree, ...st.slots.flatMap((s) => [s.total, s.used])]);
  parts.push(new Uint8Array(counters.buffer));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

describe('slab journal and takeover', () => {
  it('rolls back a dead owner’s half-done work: allocations, frees, page splits/joins and client writes', () => {
    const { survivor, victim, reports, userWord } = setup();
    const rand = xorshift32(7);
    const kept: number[] = [];
    for (let i = 0; i < 200; i++) kept.push(survivor.alloc(8 + (rand() % 6000)));
    for (let i = 0; i < 200; i += 3) survivor.free(kept[i]);
    const before = structure(survivor, userWord);

    victim.lock();
    victim.write32(userWord, 0xdeadbeef);
    const fresh: number[] = [];
    for (let i = 0; i < 20; i++) {
      fresh.push(victim.allocLocked(8 + (rand() % 9000)));
      victim.freeLocked(kept[1 + 3 * i]);
    }
    expect(victim.u32[victim.journalCountWord]).to.be.above(40);
    expect(firstDifference(before, structure(survivor, userWord))).to.not.equal(-1);
    // victim "dies" here: the lock word keeps id 2, the journal keeps its entries.

    survivor.lock();
    expect(survivor.holdsLock()).to.equal(true);
    expect(reports).to.have.length(1);
    expect(reports[0]).to.include({ deadOwnerId: 2, reset: false });
    expect(reports[0].undone).to.be.above(40);
    survivor.verify();
    expect(firstDifference(before, structure(survivor, userWord))).to.equal(-1);
    survivor.unlock();
    // What the dead owner freed is still allocated; what it allocated is not.
    for (let i = 0; i < 20; i++) expect(survivor.usableSize(kept[1 + 3 * i])).to.be.above(0);
    for (const off of fresh) {
      if (off === 0 || kept.includes(off)) continue;
      expect(() => survivor.usableSize(off)).to.throw();
    }
    expect(survivor.stats().lock.recoveries).to.equal(1);
  });

  it('a slab emptied and a new one carved on its page, in one uncommitted section, roll back intact', () => {
    // The new slab's in-page bitmap lands where the emptied slab's bitmap was. Its words that
    // no free of the section journaled must be journaled by the carving itself, or the
    // rollback brings the old slab back with the new slab's bits in its bitmap.
    const { survivor, victim, reports } = setup();
    const a = victim.alloc(8); // an 8 B slab (504 chunks, 16 bitmap words at the page start)
    const b = victim.alloc(8);
    victim.lock();
    victim.freeLocked(a);
    victim.freeLocked(b); // the slab is empty: its page goes back to the free runs
    const x = victim.allocLocked(16); // a 16 B slab (254 chunks, 8 bitmap words)
    expect(x - (x % L.PAGE_SIZE), 'carved on the same page').to.equal(a - (a % L.PAGE_SIZE));
    // victim "dies" here, before any commit.
    survivor.lock();
    expect(reports).to.have.length(1);
    expect(reports[0]).to.include({ deadOwnerId: 2, reset: false });
    survivor.verify();
    expect(survivor.usableSize(a)).to.equal(8);
    expect(survivor.usableSize(b)).to.equal(8);
    expect(survivor.stats().slots.reduce((n, s) => n + s.used, 0)).to.equal(2);
    survivor.unlock();
    survivor.free(a);
    survivor.free(b);
    expect(survivor.freeSpace()).to.equal(survivor.stats().pagesTotal * L.PAGE_SIZE);
  });

  it('commit() is a checkpoint: rollback stops there', () => {
    const { survivor, victim, userWord } = setup();
    victim.lock();
    victim.write32(userWord, 5);
    victim.commit();
    victim.write32(userWord, 6);
    victim.allocLocked(100);
    survivor.lock();
    expect(survivor.u32[userWord]).to.equal(5);
    survivor.verify();
    expect(survivor.stats().slots.reduce((n, s) => n + s.used, 0)).to.equal(0);
    survivor.unlock();
  });

  it('recoverFrom(dead) takes over, rolls back and unlocks; false when that id does not hold the lock', () => {
    const { survivor, victim, reports } = setup();
    const a = survivor.alloc(3 * L.PAGE_SIZE);
    victim.lock();
    victim.freeLocked(a);
    victim.allocLocked(10);
    expect(survivor.recoverFrom(3)).to.equal(false);
    expect(survivor.recoverFrom(2)).to.equal(true);
    expect(survivor.lockOwner()).to.equal(0);
    expect(survivor.usableSize(a)).to.equal(3 * L.PAGE_SIZE);
    expect(reports).to.have.length(1);
    expect(survivor.recoverFrom(2)).to.equal(false);
    survivor.verify();
    expect(thrown(() => survivor.recoverFrom(0)).code).to.equal('ERR_SLAB_OWNER');
  });

  it('a live owner is never taken over (isOwnerDead false): the lock stays theirs', () => {
    const sab = new SharedArrayBuffer(SIZE);
    const a = SlabPool.create(sab, 0, SIZE, owner(1));
    const b = SlabPool.open(
      sab,
      0,
      owner(2, () => false),
    );
    a.lock();
    expect(b.recoverFrom(3)).to.equal(false);
    expect(b.lockOwner()).to.equal(1);
    a.unlock();
  });

  it('when rollback cannot repair, the pool is re-initialised empty under a new generation, reported', () => {
    const { survivor, victim, reports } = setup();
    survivor.alloc(100);
    victim.lock();
    victim.allocLocked(5000);
    // Unjournaled scribble: rollback cannot undo it, verify must fail.
    victim.u32[
      victim.descWord + (victim.firstDesc + victim.pagesTotal - 3) * L.DESC_WORDS + L.D_INFO
    ] = 9;
    survivor.lock();
    expect(reports).to.have.length(1);
    expect(reports[0]).to.include({ deadOwnerId: 2, reset: true });
    expect(reports[0].reason).to.match(/non-zero descriptor/);
    expect(survivor.generation).to.equal(1);
    expect(survivor.holdsLock()).to.equal(true);
    survivor.verify();
    expect(survivor.freeSpace()).to.equal(survivor.pagesTotal * L.PAGE_SIZE);
    survivor.unlock();
    expect(survivor.stats().generation).to.equal(1);
  });

  it('a reset made before any listener was added is reported to the first one', () => {
    const { survivor, victim } = survivorAndVictim(SIZE);
    victim.lock();
    victim.u32[victim.journalCountWord] = 0xffff; // rollback cannot run: reset
    victim.unlock = () => undefined; // victim dies holding the lock
    survivor.lock();
    survivor.unlock();
    expect(survivor.generation).to.equal(1);
    const late: RecoveryReport[] = [];
    survivor.onRecovery((r) => late.push(r));
    expect(late).to.have.length(1);
    expect(late[0]).to.include({ deadOwnerId: 2, reset: true });
    expect(late[0].reason).to.match(/journal count 65535/);
    survivor.onRecovery((r) => late.push(r));
    expect(late, 'delivered once').to.have.length(1);
  });

  it('a full journal rolls back to the last commit and throws ERR_SLAB_JOURNAL_FULL', () => {
    const { survivor, userWord } = setup();
    survivor.lock();
    survivor.write32(userWord, 1);
    survivor.commit();
    for (let i = 0; i < L.JOURNAL_CAPACITY; i++) survivor.write32(userWord + (i % 8), i + 2);
    expect(thrown(() => survivor.write32(userWord, 7)).code).to.equal('ERR_SLAB_JOURNAL_FULL');
    expect(survivor.u32[userWord]).to.equal(1);
    expect(survivor.u32[userWord + 1]).to.equal(0);
    survivor.verify();
    survivor.unlock();
  });

  it('one alloc or free never makes more than L.MAX_OP_WRITES journaled writes', () => {
    const { survivor } = setup();
    const rand = xorshift32(99);
    const live: number[] = [];
    let most = 0;
    survivor.lock();
    for (let step = 0; step < 5000; step++) {
      survivor.commit();
      if (live.length > 0 && rand() % 2 === 0) {
        const i = rand() % live.length;
        survivor.freeLocked(live[i]);
        live[i] = live[live.length - 1];
        live.pop();
      } else {
        const off = survivor.allocLocked(rand() % 3 === 0 ? rand() % 40000 : rand() % 4000);
        if (off !== 0) live.push(off);
      }
      most = Math.max(most, survivor.u32[survivor.journalCountWord]);
    }
    survivor.unlock();
    expect(most).to.be.at.most(L.MAX_OP_WRITES);
  });

  it('write32 rejects word indices outside the zone', () => {
    const { survivor } = setup();
    survivor.lock();
    expect(thrown(() => survivor.write32(-1, 0)).code).to.equal('ERR_SLAB_WORD');
    expect(thrown(() => survivor.write32(survivor.u32.length, 0)).code).to.equal('ERR_SLAB_WORD');
    expect(thrown(() => survivor.write32(1.5, 0)).code).to.equal('ERR_SLAB_WORD');
    survivor.unlock();
  });
});
