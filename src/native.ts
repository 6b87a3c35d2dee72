/**
 * The typed contract of everything the compiled addon (`build/Release/shmzone.node`) exports,
 * and `native`, the addon itself for the zone layer. native-loader.ts finds and loads it;
 * nothing else in the library touches the `.node` file.
 *
 * The addon only talks to the operating system: segments, mappings, futexes and liveness
 * tokens. Allocator, header and dict logic all live in TypeScript.
 *
 * Errors thrown by the addon are plain `Error`s carrying `code` (errno name), `errno`,
 * `syscall` and `path`; `src/zone/segment.ts` turns them into `SegmentError`s. Unlike Node's
 * `fs` errors, `errno` is the POSITIVE raw errno value (ENOSPC = 28 on Linux), i.e. what the
 * syscall set, not libuv's negated number. The message reads like Node's:
 * `ENOSPC: no space left on device, posix_fallocate '/shmzone.ns.zone'`. Errors the addon
 * decides itself (`ERR_SEGMENT_OWNER`, `ERR_SEGMENT_MODE`, `ERR_SEGMENT_SIZE`) have `code`,
 * `syscall` ('fstat') and `path` but no `errno`. Bad argument types/ranges throw `TypeError` /
 * `RangeError` from C++ as a last line of defence (validate in TypeScript first).
 *
 * Addon build: binding.gyp + native/*.cc; `npm install` runs native/build.mjs.
 */
import { requireNativeAddon } from './native-loader.js';

/** What `fstat` said about a segment, from the open descriptor (never from the path). */
export interface SegmentStat {
  /** Size in bytes. */
  size: number;
  /** Owner uid. */
  uid: number;
  /** Permission bits (`st_mode & 0o777`). */
  mode: number;
}

/** One entry of `listSegments`. */
export interface SegmentListing extends SegmentStat {
  /** Name without the leading slash, e.g. `shmzone.ns.cache`. */
  name: string;
  /** Last modification, ms since the epoch. */
  mtimeMs: number;
  /** What the name is, not followed: a segment is a `file`; anything else was planted there. */
  type: 'file' | 'symlink' | 'other';
}

/** A fresh or attached mapping: the whole segment as one `SharedArrayBuffer`. */
export interface Mapping extends SegmentStat {
  buffer: SharedArrayBuffer;
}

/** Result codes of `futexWait`. */
export const enum FutexResult {
  Woken = 0,
  NotEqual = 1,
  TimedOut = 2,
}

/** Result codes of `tokenProbe`. */
export const enum TokenState {
  /** A live thread holds the token. */
  Alive = 0,
  /** The holder died (kernel reported owner-dead). The token was made consistent and freed. */
  Dead = 1,
  /** Nobody held the token. */
  Free = 2,
}

/** Result codes of `tokenAcquire`. */
export const enum TokenAcquire {
  /** The calling thread now holds the token; it was free. */
  Acquired = 0,
  /** The calling thread now holds the token; its previous holder had died holding it. */
  AcquiredFromDead = 1,
  /** Another live thread (or a prober, for an instant) holds it. */
  Busy = 2,
}

export interface NativeAddon {
  /**
   * Creates a POSIX shared memory segment: `shm_open(name, O_RDWR|O_CREAT|O_EXCL, mode)`,
   * `fchmod(mode)` (undo the umask), `ftruncate(size)`, `posix_fallocate(0, size)` on Linux
   * (a full /dev/shm fails here with ENOSPC instead of SIGBUS later), `mmap(MAP_SHARED)`.
   * On any failure after `shm_open` the fd is closed and the name unlinked before throwing.
   * `name` starts with `/`, has no other `/`, at most 255 bytes. `size` is an integer >= 1
   * (0 never reaches mmap: RangeError). `mode` in [0, 0o777]. Zero-filled memory.
   * Throws e.g. `EEXIST` (shm_open), `ENOSPC` (posix_fallocate), `EACCES`, `EMFILE`, `ENOMEM` (mmap).
   */
  createSegment(name: string, size: number, mode: number): Mapping;
  /**
   * Opens an existing segment and maps all of it, after checking with `fstat` on the fd,
   * before `mmap`: owner uid == geteuid() (else code `ERR_SEGMENT_OWNER`), no permission bit
   * outside `maxMode` (else `ERR_SEGMENT_MODE`), size >= `minSize` (else `ERR_SEGMENT_SIZE`;
   * an empty segment always fails this way). Never truncates. Missing name: `ENOENT`.
   */
  openSegment(name: string, maxMode: number, minSize: number): Mapping;
  /**
   * Creates a file-backed segment at absolute `path`: `open(O_CREAT|O_EXCL|O_NOFOLLOW, mode)`,
   * `fchmod(mode)`, `posix_fallocate(0, size)` (a full disk fails here with ENOSPC, never a
   * SIGBUS later), `mmap(MAP_SHARED)`. On failure the path is unlinked. Throws `EEXIST`, `ENOSPC`...
   */
  createFileSegment(path: string, size: number, mode: number): Mapping;
  /**
   * Opens and maps an existing file segment after the checks of `openSegment`, plus
   * `ERR_SEGMENT_NOT_FILE` for anything but a regular file (a symlink: `ELOOP`).
   */
  openFileSegment(path: string, maxMode: number, minSize: number): Mapping;
  /**
   * Creates a SysV segment: `shmget(key, size, IPC_CREAT|IPC_EXCL|mode)`, `shmat`. Throws
   * `EEXIST` when the key is taken; the segment is removed again if attaching fails.
   */
  createSysvSegment(key: number, size: number, mode: number): Mapping & { id: number };
  /**
   * Attaches the segment of `key` after `IPC_STAT` checks: owner and creator uid ==
   * geteuid() (`ERR_SEGMENT_OWNER`), mode within `maxMode` (`ERR_SEGMENT_MODE`), size >=
   * `minSize` (`ERR_SEGMENT_SIZE`). Missing key: `ENOENT`.
   */
  openSysvSegment(key: number, maxMode: number, minSize: number): Mapping & { id: number };
  /** `IPC_STAT` of the segment of `key`, without attaching; `attached` is shm_nattch. */
  statSysvSegment(key: number): SegmentStat & { id: number; attached: number };
  /** `IPC_RMID` of the segment of `key`: the key is free at once, attachments stay valid. */
  removeSysvSegment(key: number): void;
  /** `msync(MS_SYNC)` of the first `length` bytes of a mapping (0: all of it). */
  syncMapping(buffer: SharedArrayBuffer, length: number): void;
  /** `fstat` of a segment by name without mapping it. */
  statSegment(name: string): SegmentStat;
  /** `shm_unlink(name)`. Throws `ENOENT` if it is already gone. Existing mappings stay valid. */
  unlinkSegment(name: string): void;
  /** Every segment whose name (without `/`) starts with `prefix` (Linux: reads /dev/shm). */
  listSegments(prefix: string): SegmentListing[];
  /**
   * memfd zones (Linux; ENOSYS elsewhere): a sealed anonymous file of `size` bytes, fully
   * reserved, mapped; `fd` stays open in this process for others to open through
   * /proc/<pid>/fd/<fd>.
   */
  createMemfd(name: string, size: number, mode: number): Mapping & { fd: number };
  /**
   * Maps the memfd behind `path` (/proc/<pid>/fd/<n>) after checking it is a sealed regular
   * file of this uid, within `maxMode`, at least `minSize` bytes; closes its own descriptor.
   */
  openMemfd(path: string, maxMode: number, minSize: number): Mapping;
  /**
   * Lock-file liveness (native/lockfile.cc): this process's descriptor of the lock file at
   * `path` (created with `mode`; refused unless a regular file of this uid within `mode`).
   */
  lockFileOpen(path: string, mode: number): number;
  /** Write-locks byte `slot` for the calling thread; false when anyone holds it. */
  lockSlot(file: number, slot: number): boolean;
  /** Unlocks byte `slot` held by this process. */
  unlockSlot(file: number, slot: number): void;
  /** Whether a live thread (of any process) holds byte `slot`. */
  probeSlot(file: number, slot: number): boolean;
  /** Closes this process's descriptor of `path` unless it holds a slot there; true if closed. */
  lockFileClose(path: string): boolean;
  /**
   * Frees the shared pages behind `buffer` (one of this addon's mappings) now: MADV_REMOVE.
   * The mapping stays and reads zeros. False for a buffer that is not a mapping of ours, or
   * one holding a liveness token of this process. Only for the last user of an unlinked zone.
   */
  releasePages(buffer: SharedArrayBuffer): boolean;

  /**
   * Sleeps while the 32-bit word at `byteOffset` of `buffer` equals `expected`, on a
   * process-shared futex (no FUTEX_PRIVATE_FLAG), at most `timeoutMs` (< 0 or Infinity = no
   * limit; 0 = just compare). `byteOffset` must be 4-aligned and inside the buffer (RangeError);
   * `expected` is compared as a 32-bit pattern (an Int32 or a Uint32 value both work). `Woken`
   * may be spurious: re-check the word. Blocks the calling thread. Not Linux: polls every ~1 ms.
   */
  futexWait(
    buffer: SharedArrayBuffer,
    byteOffset: number,
    expected: number,
    timeoutMs: number,
  ): FutexResult;
  /**
   * `futexWait` on a libuv pool thread: the calling JS thread is not blocked, the Promise
   * resolves with the FutexResult (rejects with an errno-coded Error if the futex call fails).
   * Arguments are checked as futexWait's, synchronously. The wait holds one pool thread (4 by
   * default, shared with fs and dns) until it returns: keep few outstanding and bound
   * `timeoutMs` (src/dict/flight-wait.ts does both).
   */
  futexWaitAsync(
    buffer: SharedArrayBuffer,
    byteOffset: number,
    expected: number,
    timeoutMs: number,
  ): Promise<FutexResult>;
  /**
   * Wakes up to `count` sleepers on that word, in any process (`Infinity` = all). Returns how
   * many woke (not Linux: always 0; pollers notice the change themselves).
   */
  futexWake(buffer: SharedArrayBuffer, byteOffset: number, count: number): number;

  /**
   * Registers this process for `barrier()` calls made by any process (Linux membarrier(2),
   * MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED; idempotent). Returns false when the kernel
   * cannot (not Linux, too old, denied by seccomp).
   */
  barrierRegister(): boolean;
  /**
   * Makes every running thread of every registered process execute a full memory barrier
   * before this returns (MEMBARRIER_CMD_GLOBAL_EXPEDITED): the heavy side of the pool lock's
   * asymmetric fence (src/slab/lock.ts). A few microseconds. Returns false when unavailable.
   */
  barrier(): boolean;

  /** Bytes one liveness token occupies (a process-shared robust pthread mutex, padded). */
  readonly tokenSize: number;
  /**
   * Initialises a token in place (process-shared, robust). Only on zeroed/unused memory.
   * `byteOffset` must be 8-aligned with `tokenSize` bytes inside the buffer (else RangeError).
   * Caveat: a mapping in which this process still holds a token is never unmapped (glibc links
   * held robust mutexes through their memory); release tokens before dropping a zone.
   * macOS has no robust mutexes: a dead holder stays `Alive` there.
   */
  tokenInit(buffer: SharedArrayBuffer, byteOffset: number): void;
  /** Try-locks the token for the calling thread, which then holds it until release or death. */
  tokenAcquire(buffer: SharedArrayBuffer, byteOffset: number): TokenAcquire;
  /** Unlocks a token the calling thread holds (else throws `EPERM`). */
  tokenRelease(buffer: SharedArrayBuffer, byteOffset: number): void;
  /** Asks whether the token's holder is alive, without keeping it. */
  tokenProbe(buffer: SharedArrayBuffer, byteOffset: number): TokenState;

  /** Kernel thread id of the calling thread (`gettid`). */
  gettid(): number;
  /** Process start time in clock ticks since boot (`/proc/<pid>/stat` field 22), 0 if gone. */
  processStartTime(pid: number): number;

  /**
   * Test-only fault injection: the `nth` (1-based) next call of `syscall` (`shm_open`,
   * `fchmod`, `ftruncate`, `posix_fallocate`, `fstat`, `mmap`) fails with `errno` (a name such
   * as `ENOSPC`). `nth` 0 clears it. Process-wide (all threads). Unknown names: RangeError.
   */
  injectFault(syscall: string, nth: number, errno: string): void;
}

/**
 * The addon, loaded on first use (a property read), never at import: importing the library
 * works without it, and the first call that needs it throws ShmzoneError ERR_NATIVE_MISSING
 * naming the fix (test/native/missing.test.ts). Not on a hot path: the slab lock holds its
 * own reference from tryNativeAddon().
 */
export const native: NativeAddon = new Proxy({} as NativeAddon, {
  get: (_target, key) => Reflect.get(requireNativeAddon(), key) as unknown,
});
