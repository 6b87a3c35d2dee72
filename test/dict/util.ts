/**
 * Helpers of the dict tests: a dict over a real in-process slab pool, and a fake clock.
 */
import { SlabPool } from '../../src/slab/pool.js';
import { SharedDict, type SharedDictOptions } from '../../src/dict/dict.js';
import type { DictHost } from '../../src/dict/pool.js';

export const KiB = 1024;
export const MiB = 1024 * 1024;

/** A clock the test moves by hand. */
export class FakeClock {
  t = 1_700_000_000_000;
  readonly now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

export interface TestDict {
  dict: SharedDict;
  pool: SlabPool;
  host: DictHost;
  clock: FakeClock;
}

/**
 * A dict in a fresh `size`-byte pool over in-process shared memory; `threadCache: true` gives
 * the pool thread caches, as in a zone, so that stores build entries before the lock.
 */
export function makeDict(
  size = 4 * MiB,
  options: SharedDictOptions & { sizeClasses?: 'pow2' | 'fine'; threadCache?: boolean } = {},
): TestDict {
  const { sizeClasses, threadCache, ...opts } = options;
  const sab = new SharedArrayBuffer(size);
  const pool = SlabPool.create(
    sab,
    0,
    size,
    { selfId: 1, isOwnerDead: () => false },
    { ...(sizeClasses ? { sizeClasses } : {}), threadCache: threadCache === true },
  );
  const clock = new FakeClock();
  const host: DictHost = { pool, root: 0 };
  const dict = new SharedDict('test', { now: clock.now, ...opts }, host);
  return { dict, pool, host, clock };
}

/** A second SharedDict object over the same memory (another "thread"). */
export function attachAgain(t: TestDict, options: SharedDictOptions = {}): SharedDict {
  return new SharedDict('test', { now: t.clock.now, ...options }, t.host);
}

/** The error a function throws (fails the test if it does not throw). */
export function thrown(fn: () => unknown): Error & { code?: string } {
  try {
    fn();
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected a throw');
}

/** The error a promise rejects with (fails the test if it resolves). */
export async function rejection(p: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await p;
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected a rejection');
}
