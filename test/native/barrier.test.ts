/**
 * The membarrier pair behind the pool lock's plain release (native/barrier.cc, and
 * "Plain release" in src/slab/lock.ts): on Linux both calls succeed, registering is
 * idempotent, and every pool object of this process then releases with a plain store.
 *
 * What the barrier guarantees (a store still in another CPU's store buffer is drained before
 * the call returns) cannot be provoked on demand: the window is a few nanoseconds wide. The
 * lock's multi-process tests (test/slab/lock-mp.test.ts) run the sleep/wake path it guards,
 * with plain and atomic releasers mixed, and fail on a lost wake-up.
 */
import { expect } from 'chai';
import { native } from '../../src/native.js';
import { forceAtomicRelease, PLAIN_RELEASE } from '../../src/slab/lock.js';
import { SlabPool } from '../../src/slab/pool.js';

const linux = process.platform === 'linux';
const x86 = process.arch === 'x64' || process.arch === 'ia32';

describe('native membarrier', () => {
  (linux ? it : it.skip)('registers (idempotently) and runs a global expedited barrier', () => {
    expect(native.barrierRegister()).to.equal(true);
    expect(native.barrierRegister()).to.equal(true);
    expect(native.barrier()).to.equal(true);
  });

  it('pools release plainly exactly on x86 Linux, and atomically when forced', () => {
    expect(PLAIN_RELEASE).to.equal(linux && x86);
    const bytes = 1 << 20;
    const identity = { selfId: 7, isOwnerDead: (): boolean => false };
    const plain = SlabPool.create(new SharedArrayBuffer(bytes), 0, bytes, identity);
    forceAtomicRelease(true);
    let atomic: SlabPool;
    try {
      atomic = SlabPool.create(new SharedArrayBuffer(bytes), 0, bytes, identity);
    } finally {
      forceAtomicRelease(false);
    }
    expect(plain.lockRelease).to.equal(linux && x86 ? 'plain' : 'atomic');
    expect(atomic.lockRelease).to.equal('atomic');
    // Both release for real: the next lock finds the word free.
    for (const p of [plain, atomic]) {
      const off = p.alloc(100);
      expect(p.lockOwner()).to.equal(0);
      p.free(off);
      expect(p.lockOwner()).to.equal(0);
      p.verify();
    }
  });
});
