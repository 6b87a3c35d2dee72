/**
 * xorshift32 exactly as docs/specs/bench-workloads.md defines it: state starts at 0x9E3779B9;
 * step x ^= x << 13; x ^= x >>> 17; x ^= x << 5; the value is x >>> 0.
 * Shared by every benchmark (slab, dict) so that all contenders see the same sizes.
 */
export const XORSHIFT_SEED = 0x9e3779b9;

export class Xorshift32 {
  private x: number;

  /** A zero state would stay zero forever: seed 0 falls back to the workloads' seed. */
  constructor(seed: number = XORSHIFT_SEED) {
    this.x = seed | 0 || XORSHIFT_SEED | 0;
  }

  /** Next unsigned 32-bit value. */
  next(): number {
    let x = this.x;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.x = x;
    return x >>> 0;
  }

  /**
   * `next() % n` for 1 <= n < 2^31, as one unsigned 32-bit integer division (what nginx's C
   * harness compiles `rng_next(r) % n` to). V8 picks its integer remainder only when it can
   * prove both operands are unsigned 32-bit integers: `next()` ends in `>>> 0`, and `n >>> 0`
   * says so of the divisor (the value is unchanged). A plain `% n` on a value >= 2^31 is a
   * float64 remainder, a call into C; the earlier work-around, two 31-bit remainders, cost two
   * divisions in each draw's dependency chain (measured: 8-10 ns of every W2 step, two draws,
   * with the pool's own code unchanged).
   */
  below(n: number): number {
    return (this.next() % (n >>> 0)) >>> 0;
  }
}
