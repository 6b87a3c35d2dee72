/**
 * xorshift32 exactly as ../shared/bench-workloads.md defines it: state starts at 0x9E3779B9;
 * step x ^= x << 13; x ^= x >>> 17; x ^= x << 5; the value is x >>> 0.
 * Shared by every benchmark (slab, dict) so that all contenders see the same sizes.
 */
export const XORSHIFT_SEED = 0x9e3779b9;

export class Xorshift32 {
  private x: number;

  constructor(seed: number = XORSHIFT_SEED) {
    this.x = seed | 0;
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
}
