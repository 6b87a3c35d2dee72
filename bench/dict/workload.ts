/**
 * Workload C1 of docs/specs/bench-workloads.md: 100,000 keys "key:<i>", 100-byte random
 * values, uniformly random gets; the mixed variant makes 10% of operations sets.
 */
import { Xorshift32 } from '../prng.js';

export const KEYS = 100_000;
export const VALUE_BYTES = 100;

export function makeKeys(n = KEYS): string[] {
  const keys = new Array<string>(n);
  for (let i = 0; i < n; i++) keys[i] = `key:${i}`;
  return keys;
}

/** One 100-byte value per key, from the shared PRNG (same bytes in every process). */
export function makeValues(n = KEYS): Buffer[] {
  const rng = new Xorshift32();
  const out = new Array<Buffer>(n);
  for (let i = 0; i < n; i++) {
    const b = Buffer.allocUnsafe(VALUE_BYTES);
    for (let j = 0; j < VALUE_BYTES; j++) b[j] = rng.next() & 0xff;
    out[i] = b;
  }
  return out;
}

/** The key index stream of process `proc` (different seeds, so processes are not in lockstep). */
export function makeStream(ops: number, proc: number, n = KEYS): Uint32Array {
  const rng = new Xorshift32((0x9e3779b9 ^ Math.imul(proc, 0x2545f491)) >>> 0);
  const out = new Uint32Array(ops);
  for (let i = 0; i < ops; i++) out[i] = rng.below(n);
  return out;
}
