/**
 * Waiting for the zone's flight word to change without blocking the JS thread: one
 * `futexWaitAsync` (a libuv pool thread asleep on the futex, native/futex-async.cc) per JS
 * thread and zone at a time, shared by every caller in the thread that waits on that zone.
 * Sharing is what keeps the pool free for fs and dns: 50 getOrSet calls waiting in one thread
 * hold one pool thread, not 50.
 */
import { native } from '../native.js';

/** One zone's flight word, as this thread waits on it. */
export class FlightWord {
  private readonly i32: Int32Array;
  private pending: Promise<unknown> | undefined;
  private pendingFor = 0;

  constructor(
    private readonly buffer: SharedArrayBuffer,
    private readonly wordIndex: number,
  ) {
    this.i32 = new Int32Array(buffer, 0, wordIndex + 1);
  }

  /** The word now; read it BEFORE checking what you will wait for (see `changed`). */
  read(): number {
    return Atomics.load(this.i32, this.wordIndex);
  }

  /** Bumps the word and wakes every waiter on it, in every process. */
  bump(): void {
    Atomics.add(this.i32, this.wordIndex, 1);
    native.futexWake(this.buffer, this.wordIndex * 4, Infinity);
  }

  /**
   * Resolves when the word no longer equals `seen` (at once if it already differs), or after
   * at most `timeoutMs`, or spuriously: callers re-check their condition and call again.
   */
  changed(seen: number, timeoutMs: number): Promise<unknown> {
    if (this.read() !== seen) return Promise.resolve();
    if (this.pending !== undefined && this.pendingFor === seen) return this.pending;
    const wait = native.futexWaitAsync(this.buffer, this.wordIndex * 4, seen, timeoutMs);
    const settled = wait.finally(() => {
      if (this.pending === settled) this.pending = undefined;
    });
    this.pending = settled;
    this.pendingFor = seen;
    return settled;
  }
}

const words = new WeakMap<SharedArrayBuffer, FlightWord>();

/** The calling thread's FlightWord of `buffer`'s word `wordIndex` (one per zone buffer). */
export function flightWordOf(buffer: SharedArrayBuffer, wordIndex: number): FlightWord {
  let word = words.get(buffer);
  if (word === undefined) {
    word = new FlightWord(buffer, wordIndex);
    words.set(buffer, word);
  }
  return word;
}
