/**
 * The benchmarks' PRNG must draw exactly the sequence docs/specs/bench-workloads.md defines,
 * since every peer we compare with (nginx's C harness included) runs the same one.
 */
import { expect } from 'chai';
import { Xorshift32, XORSHIFT_SEED } from '../../bench/prng.js';

describe('bench PRNG (xorshift32)', () => {
  it('produces the reference sequence from 0x9E3779B9', () => {
    // The spec's step on an unsigned 32-bit state, written out with BigInt as the reference.
    let x = BigInt(XORSHIFT_SEED);
    const mask = 0xffffffffn;
    const rng = new Xorshift32();
    for (let i = 0; i < 1000; i++) {
      x ^= (x << 13n) & mask;
      x ^= x >> 17n;
      x ^= (x << 5n) & mask;
      expect(rng.next()).to.equal(Number(x));
    }
  });

  it('below(n) equals next() % n for every workload modulus, values above 2^31 included', () => {
    const a = new Xorshift32();
    const b = new Xorshift32();
    let high = 0;
    for (let i = 0; i < 200_000; i++) {
      const n = [10_000, 2041, 1000, 61441, 4089, 100_000, 1, 2 ** 31 - 1][i % 8];
      const u = a.next();
      if (u >= 2 ** 31) high++;
      expect(b.below(n)).to.equal(u % n);
    }
    expect(high).to.be.greaterThan(50_000); // the case the integer remainder exists for
  });

  it('a zero seed does not give the all-zero stream', () => {
    const rng = new Xorshift32(0);
    expect(rng.next()).to.equal(new Xorshift32().next());
  });
});
