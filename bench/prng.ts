/**
 * xorshift32 exactly as ../shared/bench-workloads.md defines it: state starts at 0x9E3779B9;
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
   * `next() % n` for 1 <= n < 2^31, computed with 31-bit integer remainders. The value can be
   * >= 2^31, and V8 then computes `%` as a float64 remainder, a call into C that cost ~6 ns per
   * use here (12 ns of every W2 step, measured with a do-nothing allocator); nginx's C harness
   * pays one integer division. Same result: (2h + b) mod n = (2 (h mod n) + b) mod n.
   */
  below(n: number): number {
    const u = this.next();
    return (((u >>> 1) % n) * 2 + (u & 1)) % n;
  }
}
