/** The lock in one process: misuse errors and counters. Cross-process tests: lock-mp.test.ts. */
import { expect } from 'chai';
import { SlabPool } from '../../src/slab/pool.js';
import { IDLE_WAKES_BEFORE_SWEEP } from '../../src/slab/lock.js';
import { L } from '../../src/slab/layout.js';
import { PEER_SLOTS } from '../../src/zone/layout.js';
import { makePool, owner, survivorAndVictim, thrown } from './util.js';

describe('slab lock (single process)', () => {
  it('is not reentrant: the holder locking again gets ERR_LOCK_REENTRANT, not a deadlock', () => {
    const pool = makePool();
    pool.lock();
    const err = thrown(() => pool.lock());
    expect(err.code).to.equal('ERR_LOCK_REENTRANT');
    expect(err.name).to.equal('LockError');
    expect(thrown(() => pool.alloc(8)).code).to.equal('ERR_LOCK_REENTRANT');
    expect(thrown(() => pool.free(pool.allocLocked(8))).code).to.equal('ERR_LOCK_REENTRANT');
    expect(pool.holdsLock()).to.equal(true);
    pool.unlock();
    expect(pool.holdsLock()).to.equal(false);
  });

  it('unlock by a non-holder throws ERR_LOCK_NOT_HELD and leaves the lock alone', () => {
    const sab = new SharedArrayBuffer(1 << 20);
    const a = SlabPool.create(sab, 0, sab.byteLength, owner(1));
    const b = SlabPool.open(sab, 0, owner(2));
    expect(thrown(() => a.unlock()).code).to.equal('ERR_LOCK_NOT_HELD');
    a.lock();
    expect(thrown(() => b.unlock()).code).to.equal('ERR_LOCK_NOT_HELD');
    expect(b.lockOwner()).to.equal(1);
    a.unlock();
    expect(b.lockOwner()).to.equal(0);
  });

  it('counts acquisitions in shared memory', () => {
    const pool = makePool();
    for (let i = 0; i < 10; i++) {
      pool.lock();
      pool.unlock();
    }
    pool.free(pool.alloc(8));
    const st = pool.stats().lock;
    expect(st).to.include({ acquisitions: 12, contended: 0, sleeps: 0, recoveries: 0 });
  });

  it("sleeper bits: one per owner slot; forgetSleeper clears only the dead owner's bit", () => {
    const pool = makePool();
    const sw = pool.base + L.H_SLEEPERS;
    // Owners 2 and 130 share slot 1; 64 and 128 are the top bits of words 1 and 3.
    for (const id of [1, 2, 64, 128, 130]) {
      const slot = (id - 1) % L.SLEEPER_SLOTS;
      Atomics.or(pool.i32, sw + (slot >>> 5), 1 << (slot & 31));
    }
    expect(pool.sleepers()).to.equal(4);
    for (const bad of [0, -1, 1.5, 2 ** 32, NaN, '2' as unknown as number]) {
      expect(thrown(() => pool.forgetSleeper(bad)).code).to.equal('ERR_SLAB_OWNER');
    }
    expect(pool.sleepers()).to.equal(4);
    expect(pool.forgetSleeper(64)).to.equal(true);
    expect(pool.forgetSleeper(64)).to.equal(false);
    expect(pool.forgetSleeper(128)).to.equal(true);
    expect(pool.sleepers()).to.equal(2);
    expect(pool.forgetSleeper(130)).to.equal(true); // the slot's bit, whoever set it
    expect(pool.forgetSleeper(3)).to.equal(false);
    expect(pool.sleepers()).to.equal(1);
    expect(pool.forgetSleeper(1)).to.equal(true);
    expect([0, 1, 2, 3].map((k) => pool.i32[sw + k])).to.deep.equal([0, 0, 0, 0]);
    // The lock works with bits set or not (a set bit costs unlock one futex call, nothing else).
    pool.free(pool.alloc(8));
  });

  // alloc() and free() write unlock() out (pool.ts, the note above alloc()): each release
  // path must wake, count idle wakes and sweep alike.
  for (const via of ['unlock()', 'alloc()', 'free()'] as const) {
    it(`${via} clears the bits of vacant slots after IDLE_WAKES_BEFORE_SWEEP wakes that woke nobody`, () => {
      // Slots 40 and the last one have bits but no sleeper: the last is vacant (its holder died
      // asleep and nobody reaped it), 40 is held by a live thread (e.g. one between setting its
      // bit and sleeping). The last slot's bit is in the last sleeper word, which unlock reads
      // written out: if it missed that word, no wake and so no sweep would ever happen.
      const last = L.SLEEPER_SLOTS - 1;
      const asked: number[] = [];
      const identity = {
        selfId: 1,
        isOwnerDead: () => false,
        isSlotVacant: (slot: number) => (asked.push(slot), slot === last),
      };
      const pool = SlabPool.create(new SharedArrayBuffer(1 << 20), 0, 1 << 20, identity, {
        threadCache: false,
      });
      // Chunks for free() to release, taken before any bit is set (those releases wake nobody).
      const chunks: number[] = [];
      if (via === 'free()')
        for (let i = 0; i < 3 * IDLE_WAKES_BEFORE_SWEEP; i++) chunks.push(pool.alloc(8));
      const sw = pool.base + L.H_SLEEPERS;
      Atomics.or(pool.i32, sw + 1, 1 << 8);
      Atomics.or(pool.i32, sw + (last >>> 5), 1 << (last & 31));
      // Each call releases the lock once; a bit is set, so one wake, which wakes nobody.
      const unlocks = (n: number): void => {
        for (let i = 0; i < n; i++) {
          if (via === 'unlock()') {
            pool.lock();
            pool.unlock();
          } else if (via === 'alloc()') {
            expect(pool.alloc(8)).to.be.above(0);
          } else {
            pool.free(chunks.pop() as number);
          }
        }
      };
      unlocks(IDLE_WAKES_BEFORE_SWEEP - 1);
      expect(asked, 'no sweep before the threshold').to.deep.equal([]);
      expect(pool.sleepers()).to.equal(2);
      unlocks(1);
      expect(asked).to.deep.equal([40, last]);
      expect(pool.i32[sw + (last >>> 5)], "the vacant slot's bit").to.equal(0);
      expect(pool.i32[sw + 1], "the live slot's bit").to.equal(1 << 8);
      // The count starts again: the live slot is asked again only after as many idle wakes.
      unlocks(IDLE_WAKES_BEFORE_SWEEP - 1);
      expect(asked).to.have.length(2);
      unlocks(1);
      expect(asked).to.deep.equal([40, last, 40]);
      expect(pool.sleepers()).to.equal(1);
      // Now only the last word has a bit: unlock must still see it (and wake for it).
      Atomics.and(pool.i32, sw + 1, 0);
      Atomics.or(pool.i32, sw + (last >>> 5), 1 << (last & 31));
      unlocks(IDLE_WAKES_BEFORE_SWEEP);
      expect(asked).to.deep.equal([40, last, 40, last]);
      expect(pool.sleepers()).to.equal(0);
    });
  }

  for (const via of ['lock()', 'alloc()', 'free()'] as const) {
    it(`${via} repairs a journal left under a free lock before it does anything else`, () => {
      // Someone cleared a dead owner's lock word without repairing (the journal still holds
      // its half-done section): whoever takes the lock next must roll it back first.
      const sab = new SharedArrayBuffer(1 << 20);
      const a = SlabPool.create(sab, 0, sab.byteLength, owner(1), { threadCache: false });
      const b = SlabPool.open(sab, 0, owner(2), { threadCache: false });
      const x = a.alloc(64);
      const y = a.alloc(64);
      b.lock();
      b.freeLocked(x);
      const z = b.allocLocked(100);
      expect(b.u32[b.journalCountWord]).to.be.above(0);
      Atomics.store(b.i32, b.lockWord, 0); // the lock word cleared, the journal left
      if (via === 'lock()') {
        a.lock();
        a.unlock();
      } else if (via === 'alloc()') {
        expect(a.alloc(8)).to.be.above(0);
      } else {
        a.free(y);
      }
      const st = a.stats();
      expect(st.lock.recoveries).to.equal(1);
      expect(a.usableSize(x), 'the free was rolled back').to.equal(64);
      expect(() => a.usableSize(z), 'the allocation was rolled back').to.throw();
      expect(a.u32[a.journalCountWord]).to.equal(0);
      expect(a.lockOwner()).to.equal(0);
      a.verify();
    });
  }

  it("sleeper bits map one to one onto the zone's peer slots", () => {
    // forgetSleeper and the sweep (isSlotVacant(slot of the bit)) rely on it.
    expect(L.SLEEPER_SLOTS).to.equal(PEER_SLOTS);
  });

  it('a thread-id style lock word: a waiter spins, finds the owner dead, takes over', () => {
    const sab = new SharedArrayBuffer(1 << 20);
    const a = SlabPool.create(sab, 0, sab.byteLength, owner(7));
    let asked = 0;
    const b = SlabPool.open(
      sab,
      0,
      owner(8, (id) => {
        asked++;
        return id === 7;
      }),
    );
    a.lock();
    b.lock();
    expect(asked).to.equal(1);
    expect(b.holdsLock()).to.equal(true);
    b.unlock();
    const st = b.stats().lock;
    expect(st.contended).to.equal(1);
    expect(st.recoveries).to.equal(1);
    expect(st.spins).to.be.above(1000);
  });
});

describe('slab debug mode (SHMZONE_DEBUG=1)', () => {
  let saved: string | undefined;
  before(() => {
    saved = process.env.SHMZONE_DEBUG;
    process.env.SHMZONE_DEBUG = '1';
  });
  after(() => {
    if (saved === undefined) delete process.env.SHMZONE_DEBUG;
    else process.env.SHMZONE_DEBUG = saved;
  });

  it('poisons freed chunks and reports a write after free when the chunk is reused', () => {
    const pool = makePool(256 * 1024);
    const a = pool.alloc(64);
    pool.alloc(64);
    pool.free(a);
    expect(pool.u8[a]).to.equal(0xa5);
    pool.u8[a + 3] = 1; // use after free
    const err = thrown(() => pool.alloc(64));
    expect(err.code).to.equal('ERR_SLAB_CORRUPT');
    expect(err.message).to.match(/use after free/);
    expect(pool.lockOwner()).to.equal(0);
    pool.verify();
  });

  it('poisons freed pages and checks them when a run is reused', () => {
    const pool = makePool(256 * 1024);
    const a = pool.alloc(8192);
    pool.free(a);
    pool.u8[a + 5000] = 0;
    expect(thrown(() => pool.alloc(8192)).code).to.equal('ERR_SLAB_CORRUPT');
  });

  it('after a takeover, memory the dead owner wrote and the rollback freed is re-poisoned', () => {
    const { survivor, victim } = survivorAndVictim(256 * 1024);
    victim.lock();
    const a = victim.allocLocked(64);
    const b = victim.allocLocked(9000);
    victim.u8.fill(7, a, a + 64); // payload of an allocation that will be rolled back
    victim.u8.fill(7, b, b + 9000);
    survivor.lock(); // takes over
    survivor.unlock();
    expect(survivor.alloc(64)).to.equal(a); // no use-after-free alarm
    expect(survivor.alloc(9000)).to.equal(b);
    survivor.verify();
  });

  it('a free rolled back by a takeover leaves the memory as it was (poison waits for the commit)', () => {
    const { survivor, victim } = survivorAndVictim(256 * 1024);
    const small = survivor.alloc(8); // the only chunk of a small slab: its bitmap is in the page
    const entry = survivor.alloc(200); // stands for a dict entry the victim unlinks and frees
    survivor.u8.fill(9, entry, entry + 200);
    const generation = survivor.generation;

    victim.lock();
    victim.freeLocked(small); // frees the slab page, whose first bytes are its bitmap
    victim.freeLocked(entry);
    expect(victim.u8[entry], 'not poisoned before the commit').to.equal(9);
    // The victim dies here, before unlock: the takeover must restore both frees intact.
    survivor.lock();
    try {
      survivor.verify();
      expect(survivor.generation, 'repaired, not reset').to.equal(generation);
      expect(survivor.usableSize(small)).to.equal(8);
      expect([...survivor.u8.subarray(entry, entry + 200)].every((b) => b === 9)).to.equal(true);
    } finally {
      survivor.unlock();
    }
    // A committed free is poisoned.
    survivor.free(entry);
    expect(survivor.u8[entry + 100]).to.equal(0xa5);
  });

  it('verifies after every mutation: corruption is caught at the next call', () => {
    const pool = makePool(256 * 1024);
    pool.alloc(100);
    pool.u32[pool.statsWord + 1] += 1; // class 0 "used"
    expect(thrown(() => pool.alloc(100)).code).to.equal('ERR_SLAB_CORRUPT');
  });
});
