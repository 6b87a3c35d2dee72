/**
 * Allocator workloads W1-W4 of docs/specs/bench-workloads.md, and W5 (cache-like, below), over
 * a minimal allocator face. bench/c/workloads.h is the same in C for the nginx and glibc
 * yardsticks.
 * Each function runs one timed pass and returns ns per step (W4: the utilisation ratio).
 */
import { Xorshift32 } from '../prng.js';

/**
 * One pass's cost per step. `cpu` (process CPU time) is the headline figure: the team's
 * machine is shared, and with other jobs running, wall time counts time spent descheduled.
 * On an idle machine the two agree for these single-threaded loops.
 */
export interface PassTime {
  wall: number;
  cpu: number;
}

class Clock {
  private readonly wall0 = process.hrtime.bigint();
  private readonly cpu0 = cpuNs();
  per(steps: number): PassTime {
    return {
      wall: Number(process.hrtime.bigint() - this.wall0) / steps,
      cpu: (cpuNs() - this.cpu0) / steps,
    };
  }
}

function cpuNs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
}

export interface Allocator {
  /** Byte offset/address, 0 = no memory. */
  alloc(size: number): number;
  free(offset: number): void;
}

export interface WorkloadSize {
  /** W1: rounds of 10,000 alloc-then-free (10,000 pairs each). */
  w1Rounds: number;
  /** W2 / W3: steps after filling the live set. */
  w2Steps: number;
  w3Steps: number;
  /** W5: steps after filling the live set. */
  w5Steps: number;
}

export const FULL: WorkloadSize = {
  w1Rounds: 1000,
  w2Steps: 10_000_000,
  w3Steps: 1_000_000,
  w5Steps: 2_000_000,
};
export const QUICK: WorkloadSize = {
  w1Rounds: 100,
  w2Steps: 1_000_000,
  w3Steps: 100_000,
  w5Steps: 200_000,
};

function fail(what: string): never {
  throw new Error(`${what}: the allocator ran out of memory (the workload must never fail)`);
}

/** W1 fixed64: rounds of 10,000 x alloc(64), then free in allocation order. ns per pair. */
export function w1(a: Allocator, rounds: number): PassTime {
  const live = new Float64Array(10_000);
  const clock = new Clock();
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < 10_000; i++) {
      const off = a.alloc(64);
      if (off === 0) fail('W1');
      live[i] = off;
    }
    for (let i = 0; i < 10_000; i++) a.free(live[i]);
  }
  return clock.per(rounds * 10_000);
}

/** W2 mixed-small: 10,000 live blocks of 8..2048 B; each step frees one, allocates one. */
export function w2(a: Allocator, steps: number): PassTime {
  return replace(a, steps, 10_000, 8, 2041, 'W2');
}

/** W3 pages: 1,000 live blocks of 4 KiB..64 KiB. */
export function w3(a: Allocator, steps: number): PassTime {
  return replace(a, steps, 1_000, 4096, 61441, 'W3');
}

function replace(
  a: Allocator,
  steps: number,
  liveCount: number,
  base: number,
  spread: number,
  what: string,
): PassTime {
  const rand = new Xorshift32();
  const live = new Float64Array(liveCount);
  for (let i = 0; i < liveCount; i++) {
    const off = a.alloc(base + rand.below(spread));
    if (off === 0) fail(what);
    live[i] = off;
  }
  const clock = new Clock();
  for (let k = 0; k < steps; k++) {
    const i = rand.below(liveCount);
    a.free(live[i]);
    const off = a.alloc(base + rand.below(spread));
    if (off === 0) fail(what);
    live[i] = off;
  }
  const ns = clock.per(steps);
  for (let i = 0; i < liveCount; i++) a.free(live[i]);
  return ns;
}

/** W5's sizes: 70% 16..512 B, 25% 513 B..8 KiB, 5% 8 KiB..64 KiB (a cache's values). */
function cacheSize(rand: Xorshift32): number {
  const r = rand.below(100);
  if (r < 70) return 16 + rand.below(497);
  if (r < 95) return 513 + rand.below(7680);
  return 8193 + rand.below(57344);
}

const W5_LIVE = 4096;

/**
 * W5 cache-like: 4,096 live blocks of cacheSize() in a ring; each step frees the oldest (one
 * step in eight a random one instead: FIFO-ish lifetimes, as a TTL or LRU cache evicts) and
 * allocates a new block in its slot. ns per step.
 */
export function w5(a: Allocator, steps: number): PassTime {
  const rand = new Xorshift32();
  const live = new Float64Array(W5_LIVE);
  for (let i = 0; i < W5_LIVE; i++) {
    const off = a.alloc(cacheSize(rand));
    if (off === 0) fail('W5');
    live[i] = off;
  }
  let head = 0;
  const clock = new Clock();
  for (let k = 0; k < steps; k++) {
    let i: number;
    if (rand.below(8) === 0) i = rand.below(W5_LIVE);
    else {
      i = head;
      head = (head + 1) % W5_LIVE;
    }
    a.free(live[i]);
    const off = a.alloc(cacheSize(rand));
    if (off === 0) fail('W5');
    live[i] = off;
  }
  const ns = clock.per(steps);
  for (let i = 0; i < W5_LIVE; i++) a.free(live[i]);
  return ns;
}

/** W4 utilisation: sizes 8..4096 until the first failure; bytes requested / zone size. */
export function w4(
  a: Allocator,
  zoneBytes: number,
): { ratio: number; allocations: number; firstFailSize: number } {
  const rand = new Xorshift32();
  let requested = 0;
  let n = 0;
  for (;;) {
    const size = 8 + rand.below(4089);
    if (a.alloc(size) === 0)
      return { ratio: requested / zoneBytes, allocations: n, firstFailSize: size };
    requested += size;
    n++;
  }
}
