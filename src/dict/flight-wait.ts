/**
 * Waiting for the zone's flight word to change without blocking the JS thread: one
 * `futexWaitAsync` (a libuv pool thread asleep on the futex, native/futex-async.cc) per JS
 * thread and zone at a time, shared by every caller in the thread that waits on that zone.
 * Sharing is what keeps the pool free for fs and dns: 50 getOrSet calls waiting in one thread
 * hold one pool thread, not 50. A threads-only zone (no addon; every waiter is a thread of this
 * process) waits with the engine's `Atomics.waitAsync` and wakes with `Atomics.notify`.
 */
import { native } from '../native.js';

/** `Atomics.waitAsync` (Node 16+; ES2024, newer than the `lib` this project compiles with). */
const atomicsWaitAsync = (
  Atomics as unknown as {
    waitAsync(
      i32: Int32Array,
      index: number,
      value: number,
      timeoutMs: number,
    ): { async: boolean; value: Promise<string> | string };
  }
).waitAsync;

/** Resolves when i32[index] is woken or no longer `value`, or after `timeoutMs`. */
function engineWaitAsync(
  i32: Int32Array,
  index: number,
  value: number,
  timeoutMs: number,
): Promise<unknown> {
  const r = atomicsWaitAsync(i32, index, value, timeoutMs);
  if (!r.async) return Promise.resolve(r.value);
  // A pending waitAsync does not keep the event loop alive, and its own timeout is a V8
  // task that Node (24 at least) does not wait for: a worker awaiting only this could exit
  // with its await unsettled. So our own timer bounds the wait and keeps the loop alive;
  // whichever comes first settles it (a timeout is a spurious wake: callers re-check).
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, Math.min(timeoutMs, 2 ** 31 - 1), 'timed-out');
    void (r.value as Promise<string>).then((outcome) => {
      clearTimeout(timer);
      resolve(outcome);
    });
  });
}

/** One zone's flight word, as this thread waits on it. */
export class FlightWord {
  private readonly i32: Int32Array;
  private pending: Promise<unknown> | undefined;
  private pendingFor = 0;

  /** `threadsOnly`: a threads-only zone's word (the engine's waits, not the addon's). */
  constructor(
    private readonly buffer: SharedArrayBuffer,
    private readonly wordIndex: number,
    private readonly threadsOnly: boolean,
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
    if (this.threadsOnly) Atomics.notify(this.i32, this.wordIndex);
    else native.futexWake(this.buffer, this.wordIndex * 4, Infinity);
  }

  /**
   * Resolves when the word no longer equals `seen` (at once if it already differs), or after
   * at most `timeoutMs`, or spuriously: callers re-check their condition and call again.
   */
  changed(seen: number, timeoutMs: number): Promise<unknown> {
    if (this.read() !== seen) return Promise.resolve();
    if (this.pending !== undefined && this.pendingFor === seen) return this.pending;
    const wait = this.threadsOnly
      ? engineWaitAsync(this.i32, this.wordIndex, seen, timeoutMs)
      : native.futexWaitAsync(this.buffer, this.wordIndex * 4, seen, timeoutMs);
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
export function flightWordOf(
  buffer: SharedArrayBuffer,
  wordIndex: number,
  threadsOnly: boolean,
): FlightWord {
  let word = words.get(buffer);
  if (word === undefined) {
    word = new FlightWord(buffer, wordIndex, threadsOnly);
    words.set(buffer, word);
  }
  return word;
}
