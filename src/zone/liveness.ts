/**
 * How a peer slot's liveness token is held and probed (peers.ts), and what identifies the
 * calling process and thread.
 *
 * - {@link nativeLiveness}: the addon's robust process-shared mutex per slot (native/liveness.cc):
 *   the kernel marks it owner-dead when its thread or process dies, so any process sees the
 *   death. Every zone but a threads-only one.
 * - {@link lockFileLiveness}: byte `slot` of a lock file per zone, fcntl-locked by the
 *   holder's process (native/lockfile.cc): the kernel drops it when the process dies; a
 *   worker thread's slots are released when its environment is torn down (terminate()
 *   included). The only kind on macOS (no robust mutexes); `liveness: 'lockfile'` elsewhere.
 * - {@link threadsLiveness}: `mode: 'threads'`, no addon (src/zone/memory-source.ts). The token
 *   is an Int32 word: 0 free, else the holder's thread tag, taken with a compare-exchange. A
 *   thread of this process that exits normally or closes its zone releases it; one that is
 *   terminated (`worker.terminate()`) or crashes is NOT detected: its slot stays taken and a
 *   lock it held stays held. That is the price of working without the addon (README,
 *   "No addon"; test/zone/99.threads-only.test.ts).
 */
import { threadId } from 'node:worker_threads';
import { native, TokenAcquire, TokenState } from '../native.js';

/** The token and identity calls a peer table makes. */
export interface Liveness {
  readonly kind: 'native' | 'threads' | 'lockfile';
  /** Makes slot `slot`'s free token at byte `offset` (creator, on zero-filled memory). */
  init(buffer: SharedArrayBuffer, offset: number, slot: number): void;
  /** Takes the token for the calling thread: Acquired, AcquiredFromDead, or Busy. */
  acquire(buffer: SharedArrayBuffer, offset: number, slot: number): TokenAcquire;
  /** Gives back a token the calling thread holds. */
  release(buffer: SharedArrayBuffer, offset: number, slot: number): void;
  /** Alive (held), Dead (its holder died; now free) or Free. */
  probe(buffer: SharedArrayBuffer, offset: number, slot: number): TokenState;
  /** When `pid` started (0: not running, or unknown). */
  startTime(pid: number): number;
  /** The kernel's id of the calling thread (0: unknown). */
  tid(): number;
}

export const nativeLiveness: Liveness = {
  kind: 'native',
  init: (buffer, offset) => native.tokenInit(buffer, offset),
  acquire: (buffer, offset) => native.tokenAcquire(buffer, offset),
  release: (buffer, offset) => native.tokenRelease(buffer, offset),
  probe: (buffer, offset) => native.tokenProbe(buffer, offset),
  startTime: (pid) => native.processStartTime(pid),
  tid: () => native.gettid(),
};

/** This thread's tag in threads-only tokens: never 0, distinct per thread of the process. */
const THREAD_TAG = threadId + 1;

function word(buffer: SharedArrayBuffer, offset: number): Int32Array {
  return new Int32Array(buffer, offset, 1);
}

export const threadsLiveness: Liveness = {
  kind: 'threads',
  init: (buffer, offset) => Atomics.store(word(buffer, offset), 0, 0),
  acquire: (buffer, offset) =>
    Atomics.compareExchange(word(buffer, offset), 0, 0, THREAD_TAG) === 0
      ? TokenAcquire.Acquired
      : TokenAcquire.Busy,
  release: (buffer, offset) => void Atomics.compareExchange(word(buffer, offset), 0, THREAD_TAG, 0),
  probe: (buffer, offset) =>
    Atomics.load(word(buffer, offset), 0) === 0 ? TokenState.Free : TokenState.Alive,
  startTime: () => 0,
  tid: () => 0,
};

/**
 * Slot tokens as bytes of the lock file at `path` (lock-files.ts names it): the process opens
 * it once, at first use, and keeps it open (closing would drop its locks).
 */
export function lockFileLiveness(path: string): Liveness {
  let file: number | undefined;
  const open = (): number => (file ??= native.lockFileOpen(path, 0o600));
  return {
    kind: 'lockfile',
    init: () => void open(),
    acquire: (_buffer, _offset, slot) =>
      native.lockSlot(open(), slot) ? TokenAcquire.Acquired : TokenAcquire.Busy,
    release: (_buffer, _offset, slot) => native.unlockSlot(open(), slot),
    // A dead holder's lock is gone already: its slot reads free (occupied + free = dead).
    probe: (_buffer, _offset, slot) =>
      native.probeSlot(open(), slot) ? TokenState.Alive : TokenState.Free,
    startTime: (pid) => native.processStartTime(pid),
    tid: () => native.gettid(),
  };
}
