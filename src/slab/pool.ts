/**
 * SlabPool: nginx's ngx_slab over a SharedArrayBuffer, with a lock that survives dead owners
 * and an undo journal that makes every operation all-or-nothing across a crash.
 *
 * Files: layout.ts (word map), sizeclass.ts, journal.ts, pages.ts (page runs), chunks.ts
 * (slabs, bad-free detection), lock.ts (contended path), verify.ts, stats.ts. This class holds
 * the per-process view (it extends PoolState, so hot paths read plain fields) and composes them.
 */
import {
  LockError,
  ShmzoneArgumentError,
  ShmzoneError,
  SlabCorruptionError,
  describeValue,
} from '../errors.js';
import type { OwnerIdentity, PoolStats, RecoveryReport, SizeClassMode } from './api.js';
import {
  allocChunk,
  allocRun,
  freeChunk,
  freeRun,
  locate,
  allocInMap,
  freeInMap,
  locatedSize,
  LOC_CHUNK,
} from './chunks.js';
import { journalCommit, journalOverflow, journalRollback, journalWrite } from './journal.js';
import { L, computeGeometry } from './layout.js';
import {
  contendedResult,
  lockContended,
  plainReleaseForNewPools,
  sleeperBit,
  sleeperWord,
  sleepersNow,
  wakeOne,
  IDLE_WAKES_BEFORE_SWEEP,
  clearVacantSleepers,
} from './lock.js';
import { binSentinel, freePages } from './pages.js';
import { flushPoison, POISON_BYTE, repoisonFree } from './poison.js';
import { DEFAULT_SIZE_CLASS_MODE, K, MODE_CODES, MODE_NAMES, sizeClasses } from './sizeclass.js';
import { PoolState } from './state.js';
import { collectStats } from './stats.js';
import { recount, verifyPool } from './verify.js';

export interface SlabPoolOptions {
  /** Size-class scheme; default `fine` (see sizeclass.ts for the measurement). */
  sizeClasses?: SizeClassMode;
}

const FOUR_GIB = 2 ** 32;

function checkRegion(buffer: unknown, byteOffset: unknown): asserts buffer is SharedArrayBuffer {
  if (!(buffer instanceof SharedArrayBuffer)) {
    throw new ShmzoneArgumentError(
      'ERR_SLAB_BUFFER',
      `slab pool: buffer must be a SharedArrayBuffer, got ${describeValue(buffer)}`,
    );
  }
  if (
    typeof byteOffset !== 'number' ||
    !Number.isInteger(byteOffset) ||
    byteOffset < 0 ||
    byteOffset % 8 !== 0
  ) {
    throw new ShmzoneArgumentError(
      'ERR_SLAB_OFFSET',
      `slab pool: byteOffset must be a non-negative multiple of 8, got ${describeValue(byteOffset)}`,
    );
  }
  if (byteOffset >= buffer.byteLength) {
    throw new ShmzoneArgumentError(
      'ERR_SLAB_OFFSET',
      `slab pool: byteOffset ${byteOffset} is not inside the ${buffer.byteLength}-byte buffer`,
    );
  }
}

/** An owner id passed in by a caller: a positive 32-bit integer, or ERR_SLAB_OWNER. */
function checkOwnerId(method: string, id: unknown): asserts id is number {
  if (typeof id !== 'number' || id >>> 0 !== id || id === 0) {
    throw new ShmzoneArgumentError(
      'ERR_SLAB_OWNER',
      `slab ${method}: owner id must be a positive integer, got ${describeValue(id)}`,
    );
  }
}

export class SlabPool extends PoolState {
  readonly owner: OwnerIdentity;
  private readonly listeners: Array<(report: RecoveryReport) => void> = [];
  /** A recovery made before onRecovery() was first called, for that first listener. */
  private unreported: RecoveryReport | undefined;
  /** Bound once: the contended path calls it with the owner it saw. */
  private readonly tryTakeOver: (ownerId: number) => boolean;
  /** Unlock with a plain store (x86 with the waiters' barrier; lock.ts, "Plain release"). */
  private readonly plainRelease = plainReleaseForNewPools();
  /** Wakes in a row that woke nobody (see wakeSleeper). */
  private idleWakes = 0;

  private constructor(
    buffer: SharedArrayBuffer,
    byteOffset: number,
    length: number,
    mode: SizeClassMode,
    owner: OwnerIdentity,
  ) {
    const classes = sizeClasses(mode);
    const g = computeGeometry(byteOffset, length, classes.n);
    if (g === null) {
      throw new ShmzoneArgumentError(
        'ERR_SLAB_POOL_SIZE',
        `slab pool: ${length} bytes at ${byteOffset} cannot hold the header and one page`,
      );
    }
    super(buffer, g, classes);
    this.owner = owner;
    this.debug = process.env.SHMZONE_DEBUG === '1';
    this.tryTakeOver = (ownerId: number): boolean => {
      if (ownerId === this.owner.selfId || !this.owner.isOwnerDead(ownerId)) return false;
      return this.takeOver(ownerId);
    };
  }

  /**
   * Lays out a fresh pool in [byteOffset, byteOffset + byteLength) of the zone buffer (which
   * must be zero-filled or at least not in use). Nobody else may use the region meanwhile.
   * Throws ShmzoneArgumentError (ERR_SLAB_BUFFER, ERR_SLAB_OFFSET, ERR_SLAB_LENGTH,
   * ERR_SLAB_POOL_SIZE, ERR_SLAB_MODE).
   */
  static create(
    buffer: SharedArrayBuffer,
    byteOffset: number,
    byteLength: number,
    owner: OwnerIdentity,
    options: SlabPoolOptions = {},
  ): SlabPool {
    checkRegion(buffer, byteOffset);
    if (
      typeof byteLength !== 'number' ||
      !Number.isInteger(byteLength) ||
      byteLength <= 0 ||
      byteOffset + byteLength > buffer.byteLength
    ) {
      throw new ShmzoneArgumentError(
        'ERR_SLAB_LENGTH',
        `slab pool: byteLength must be a positive integer with byteOffset + byteLength <= ${buffer.byteLength}, got ${describeValue(byteLength)}`,
      );
    }
    const mode = options.sizeClasses ?? DEFAULT_SIZE_CLASS_MODE;
    if (!(mode in MODE_CODES)) {
      throw new ShmzoneArgumentError(
        'ERR_SLAB_MODE',
        `slab pool: sizeClasses must be 'pow2' or 'fine', got ${describeValue(mode)}`,
      );
    }
    const pool = new SlabPool(buffer, byteOffset, Math.min(byteLength, FOUR_GIB - 8), mode, owner);
    const u32 = pool.u32;
    const b = pool.base;
    u32.fill(0, b, b + L.HEADER_WORDS);
    u32[b + L.H_VERSION] = L.POOL_VERSION;
    u32[b + L.H_LENGTH_DIV8] = pool.length / 8;
    u32[b + L.H_MODE] = MODE_CODES[mode];
    u32[b + L.H_POISON] = pool.debug ? 1 : 0;
    pool.format(0);
    u32[b + L.H_MAGIC] = L.POOL_MAGIC; // last: a half-built header never validates
    return pool;
  }

  /**
   * Attaches to a pool another process or thread created. Validates magic, version and that
   * every region lies inside the buffer and matches the geometry recomputed here; throws
   * SlabCorruptionError rather than reading out of bounds.
   */
  static open(buffer: SharedArrayBuffer, byteOffset: number, owner: OwnerIdentity): SlabPool {
    checkRegion(buffer, byteOffset);
    if (byteOffset + L.HEADER_WORDS * 4 > buffer.byteLength)
      throw new SlabCorruptionError(`slab open: no room for a pool header at ${byteOffset}`);
    const head = new Uint32Array(buffer, byteOffset, L.HEADER_WORDS);
    if (head[L.H_MAGIC] !== L.POOL_MAGIC)
      throw new SlabCorruptionError(
        `slab open: no pool at ${byteOffset} (magic 0x${head[L.H_MAGIC].toString(16)})`,
      );
    if (head[L.H_VERSION] !== L.POOL_VERSION)
      throw new SlabCorruptionError(
        `slab open: layout version ${head[L.H_VERSION]}, expected ${L.POOL_VERSION}`,
      );
    const length = head[L.H_LENGTH_DIV8] * 8;
    if (length === 0 || byteOffset + length > buffer.byteLength)
      throw new SlabCorruptionError(`slab open: pool length ${length} runs past the buffer`);
    const mode = MODE_NAMES[head[L.H_MODE]];
    if (mode === undefined)
      throw new SlabCorruptionError(`slab open: unknown size-class mode ${head[L.H_MODE]}`);
    let pool: SlabPool;
    try {
      pool = new SlabPool(buffer, byteOffset, length, mode, owner);
    } catch {
      throw new SlabCorruptionError(`slab open: pool length ${length} cannot hold a pool`);
    }
    const u32 = pool.u32;
    const b = pool.base;
    if (
      u32[b + L.H_PAGES_TOTAL] !== pool.pagesTotal ||
      u32[b + L.H_DATA_START] !== pool.dataStart ||
      u32[b + L.H_DESC_START] !== pool.descWord ||
      u32[b + L.H_N_CLASSES] !== pool.classes.n
    ) {
      throw new SlabCorruptionError(
        'slab open: header geometry does not match the recorded pool length',
      );
    }
    pool.poison = u32[b + L.H_POISON] === 1;
    return pool;
  }

  /** Writes an empty pool: header counters, stats, descriptors, one free run. */
  private format(generation: number): void {
    const u32 = this.u32;
    const b = this.base;
    const D = this.descWord;
    u32[b + L.H_GENERATION] = generation;
    u32[b + L.H_PAGES_TOTAL] = this.pagesTotal;
    u32[b + L.H_PAGES_FREE] = this.pagesTotal;
    u32[b + L.H_DATA_START] = this.dataStart;
    u32[b + L.H_DESC_START] = D;
    u32[b + L.H_N_CLASSES] = this.classes.n;
    u32[b + L.H_PAGE_REQS] = 0;
    u32[b + L.H_PAGE_FAILS] = 0;
    u32[this.journalCountWord] = 0;
    u32.fill(0, this.statsWord, this.statsWord + this.classes.n * L.STAT_WORDS);
    u32.fill(0, D, D + (this.firstDesc + this.pagesTotal) * L.DESC_WORDS);
    for (let sent = 1; sent < this.firstDesc; sent++) {
      u32[D + sent * L.DESC_WORDS + L.D_NEXT] = sent;
      u32[D + sent * L.DESC_WORDS + L.D_PREV] = sent;
    }
    // One free run of every page, in the bin of its length.
    const h = this.firstDesc;
    const hw = D + h * L.DESC_WORDS;
    const sent = binSentinel(this, this.pagesTotal);
    u32[hw + L.D_INFO] = L.T_FREE;
    u32[hw + L.D_MAP] = this.pagesTotal;
    u32[hw + L.D_NEXT] = sent;
    u32[hw + L.D_PREV] = sent;
    u32[D + sent * L.DESC_WORDS + L.D_NEXT] = h;
    u32[D + sent * L.DESC_WORDS + L.D_PREV] = h;
    u32[b + L.H_FREE_BIN_MASK] = this.pagesTotal < L.FREE_BINS ? 1 << this.pagesTotal : 1;
    if (this.pagesTotal > 1) {
      const tw = D + (h + this.pagesTotal - 1) * L.DESC_WORDS;
      u32[tw + L.D_INFO] = L.T_FREE_TAIL;
      u32[tw + L.D_MAP] = h;
    }
    this.poison = u32[b + L.H_POISON] === 1;
    if (this.poison) this.u8.fill(POISON_BYTE, this.dataStart, this.dataEnd);
  }

  // ---------------------------------------------------------------- geometry

  /** Bytes of the zone this pool covers (header and descriptors included). */
  get capacity(): number {
    return this.length;
  }
  get pageSize(): number {
    return L.PAGE_SIZE;
  }
  /** Bumped each time the pool was re-initialised empty after a failed repair. */
  get generation(): number {
    return this.u32[this.base + L.H_GENERATION];
  }
  /**
   * Word index (into `u32`) of the shared count of lock takeovers, bumped under the lock at the
   * start of every repair: SharedDict compares it with what it last repaired after.
   */
  get recoveriesWord(): number {
    return this.base + L.H_LOCK_RECOVERIES;
  }
  /** Bytes in completely free pages (lua's free_space()). */
  freeSpace(): number {
    return this.u32[this.base + L.H_PAGES_FREE] * L.PAGE_SIZE;
  }

  // ---------------------------------------------------------------- allocation

  /*
   * Why alloc() and free() write out the lock, the unlock and the dispatch to the common
   * allocation steps instead of calling lock(), allocLocked()/freeLocked() and unlock().
   *
   * TurboFan (Node 20) inlines callees into an optimized function only up to 920 bytecodes in
   * all, charging each inlined callee its full bytecode size (plus what that callee has
   * already inlined if it was optimized first); the function's own bytecode is not charged.
   * The path of a W2 step through lock(), allocLocked(), allocChunk(), locate(), freeChunk(),
   * the journal and the list functions and unlock() adds up to more than twice that, so some
   * of it always stayed calls, and which ones changed from process to process with the order
   * in which functions got optimized. Here the lock, the unlock and the choice of path are
   * this function's own bytecode, and the common case calls only allocInMap() or freeInMap()
   * (chunks.ts, shared with the general path) and the journal and list writes below them,
   * which fit:
   * - alloc(): a size class whose bitmap is its slab descriptor's MAP word (128 B and up) with
   *   a slab in its list goes to allocInMap(); sizes above the largest class go straight to
   *   allocRun();
   * - free(): a live chunk of such a class on its slab's first page (locate()'s fast checks,
   *   repeated) goes to freeInMap(), the start of a page run (locateRun()'s check) to
   *   freePages().
   * Everything else (debug mode and poisoned pools, in-page bitmaps, new slabs, inner pages,
   * every bad argument) takes the general allocLocked()/allocChunk()/freeLocked() path.
   * `node dist/bench/run.js slab`, W2 with the lock: 86 -> 74-77 ns per step with the lock
   * and unlock written out, then 67.5-70.8 ns with this dispatch (docs/performance.md). With
   * the dispatch as it is but lock() and unlock() called, W2 measured 8% slower (74.5 against
   * 68.6 ns, separate processes, alternating): the copies still pay.
   *
   * No journal room check on these paths: the lock was free a moment ago, so the journal is
   * empty (a non-empty one was rolled back by recoverLocked before we got here).
   *
   * The copies must stay what they copy: lock() and unlock() line for line (less unlock()'s
   * "do we hold it" check: we took the lock a few lines earlier), and allocLocked()'s and
   * locate()'s choices. lock.test.ts runs its lock tests through each release path, and
   * fastpath.test.ts replays random sequences through alloc()/free() and through
   * allocLocked()/freeLocked() and requires identical results and pool words.
   */

  /**
   * Allocates `size` bytes; returns a byte offset into the zone buffer (8-aligned; whole pages
   * for sizes above the largest class), or 0 when there is no memory (counted as a failure).
   * Throws ShmzoneArgumentError ERR_SLAB_SIZE for a size that is not a non-negative integer.
   */
  alloc(size: number): number {
    const self = this.owner.selfId; // lock(), written out (see above)
    if (Atomics.compareExchange(this.i32, this.lockWord, 0, self) !== 0) this.lockSlow(self);
    else {
      this.u32[this.base + L.H_LOCK_ACQUISITIONS]++;
      if (this.u32[this.journalCountWord] !== 0) this.recoverLocked(0);
    }
    try {
      if (this.debug || this.poison || typeof size !== 'number' || size >>> 0 !== size)
        return this.allocLocked(size);
      const t = this.classes;
      if (size > t.maxSize) return allocRun(this, size);
      const c = t.byEighth[(size + 7) >>> 3];
      const ct = this.ct;
      const k = c * K.K_STRIDE;
      const u32 = this.u32;
      const D = this.descWord;
      const d = u32[D + (c + 1) * L.DESC_WORDS + L.D_NEXT];
      if (d === c + 1 || ct[k + K.K_BITMAP_WORDS] !== 0) return allocChunk(this, c);
      u32[this.statsWord + c * L.STAT_WORDS + L.S_REQS]++; // allocChunk() counts its own
      return allocInMap(this, c, d);
    } catch (err) {
      throw this.foreign(err);
    } finally {
      // unlock(), written out (see above)
      const i32 = this.i32;
      if (this.debug || this.poison) this.checkedCommit();
      else this.u32[this.journalCountWord] = 0;
      if (this.plainRelease) i32[this.lockWord] = 0;
      else Atomics.store(i32, this.lockWord, 0);
      const sw = this.sleepersWord;
      if ((i32[sw] | i32[sw + 1] | i32[sw + 2] | i32[sw + 3]) !== 0) this.wakeSleeper();
    }
  }

  /** alloc(), then zero the requested bytes (as nginx: not the rounded chunk). */
  calloc(size: number): number {
    this.lock();
    try {
      return this.callocLocked(size);
    } catch (err) {
      throw this.foreign(err);
    } finally {
      this.unlock();
    }
  }

  /** Frees an offset alloc() returned. Throws SlabError (codes in chunks.ts) and changes nothing if it is not one. */
  free(offset: number): void {
    const self = this.owner.selfId; // lock(), written out (see above alloc())
    if (Atomics.compareExchange(this.i32, this.lockWord, 0, self) !== 0) this.lockSlow(self);
    else {
      this.u32[this.base + L.H_LOCK_ACQUISITIONS]++;
      if (this.u32[this.journalCountWord] !== 0) this.recoverLocked(0);
    }
    try {
      common: {
        // locate()'s checks for the two common cases (see above alloc()); anything they do not
        // prove leaves the block for freeLocked(), which classifies it from scratch.
        if (this.debug || this.poison || typeof offset !== 'number') break common;
        const o = offset >>> 0;
        const ds = this.dataStart;
        if (o !== offset || o < ds || o >= this.dataEnd) break common;
        const u32 = this.u32;
        const d = this.firstDesc + ((o - ds) >>> L.PAGE_SHIFT);
        const w = this.descWord + d * L.DESC_WORDS;
        const info = u32[w + L.D_INFO];
        const type = info & L.TYPE_MASK;
        const rel = (o - ds) & (L.PAGE_SIZE - 1); // from the start of the page
        if (type === L.T_RUN) {
          if (rel !== 0) break common;
          freePages(this, d, u32[w + L.D_MAP]); // freeRun()
          return;
        }
        const c = (info >>> L.CLASS_SHIFT) & L.CLASS_MASK;
        if (type !== L.T_SLAB || c >= this.nClasses) break common;
        const ct = this.ct;
        const k = c * K.K_STRIDE;
        // Bitmap in MAP: chunk 0 at the page start (K_DATA_OFFSET 0), so rel is the offset in
        // the chunk area; the products stay below 2^31 (sizeclass.ts).
        if (ct[k + K.K_BITMAP_WORDS] !== 0) break common;
        const idx = (rel * ct[k + K.K_MAGIC]) >>> ct[k + K.K_SHIFT];
        if (idx * ct[k + K.K_SIZE] !== rel || idx >= ct[k + K.K_COUNT]) break common;
        if ((u32[w + L.D_MAP] & (1 << idx)) === 0) break common; // already free: freeLocked() says so
        freeInMap(this, d, c, idx);
        return;
      }
      this.freeLocked(offset);
    } catch (err) {
      throw this.foreign(err);
    } finally {
      // unlock(), written out (see above alloc())
      const i32 = this.i32;
      if (this.debug || this.poison) this.checkedCommit();
      else this.u32[this.journalCountWord] = 0;
      if (this.plainRelease) i32[this.lockWord] = 0;
      else Atomics.store(i32, this.lockWord, 0);
      const sw = this.sleepersWord;
      if ((i32[sw] | i32[sw + 1] | i32[sw + 2] | i32[sw + 3]) !== 0) this.wakeSleeper();
    }
  }

  /** alloc() for a caller that holds the lock. Journaled; call commit() at consistent points. */
  allocLocked(size: number): number {
    if (typeof size !== 'number' || size >>> 0 !== size) return this.allocUnusual(size);
    if (this.u32[this.journalCountWord] > L.JOURNAL_CAPACITY - L.MAX_OP_WRITES)
      journalOverflow(this);
    const t = this.classes;
    const off =
      size <= t.maxSize ? allocChunk(this, t.byEighth[(size + 7) >>> 3]) : allocRun(this, size);
    if (this.debug) verifyPool(this);
    return off;
  }

  callocLocked(size: number): number {
    const off = this.allocLocked(size);
    if (off !== 0) this.u8.fill(0, off, off + size);
    return off;
  }

  freeLocked(offset: number): void {
    const kind = locate(this, offset); // throws before any write
    if (this.u32[this.journalCountWord] > L.JOURNAL_CAPACITY - L.MAX_OP_WRITES)
      journalOverflow(this);
    if (kind === LOC_CHUNK) freeChunk(this);
    else freeRun(this);
    if (this.debug) verifyPool(this);
  }

  /** Usable bytes at a live offset (chunk size, or run pages x 4096). Validates like free(). */
  usableSize(offset: number): number {
    return locatedSize(this, locate(this, offset));
  }

  private allocUnusual(size: number): number {
    if (typeof size === 'number' && Number.isInteger(size) && size >= FOUR_GIB) {
      this.u32[this.base + L.H_PAGE_REQS]++;
      this.u32[this.base + L.H_PAGE_FAILS]++;
      return 0;
    }
    throw new ShmzoneArgumentError(
      'ERR_SLAB_SIZE',
      `slab alloc: size must be a non-negative integer, got ${describeValue(size)}`,
    );
  }

  // ---------------------------------------------------------------- journal

  /**
   * Journaled store to any 32-bit word of the zone buffer, for metadata of the caller (dict,
   * zone) written while holding the lock: rolled back if this thread dies before commit().
   */
  write32(wordIndex: number, value: number): void {
    if (
      typeof wordIndex !== 'number' ||
      wordIndex >>> 0 !== wordIndex ||
      wordIndex >= this.u32.length
    ) {
      throw new ShmzoneArgumentError(
        'ERR_SLAB_WORD',
        `slab write32: word index ${describeValue(wordIndex)} is outside the zone`,
      );
    }
    if (this.debug && !this.holdsLock())
      throw new LockError('ERR_LOCK_NOT_HELD', 'slab write32: the lock is not held');
    journalWrite(this, wordIndex, value);
  }

  /** Marks the current state consistent: forgets the journal (one store). */
  commit(): void {
    journalCommit(this);
    // Debug mode: what was freed since the last commit is free for good only now.
    if (this.pendingPoison.length !== 0) flushPoison(this);
  }

  /**
   * unlock()'s commit in debug mode or in a poisoned pool: verify, then commit(). Out of line:
   * unlock() is written out in alloc() and free(), and every bytecode there counts.
   */
  private checkedCommit(): void {
    if (this.debug) verifyPool(this);
    this.commit();
  }

  // ---------------------------------------------------------------- lock

  lock(): void {
    const self = this.owner.selfId;
    // Acquire: lock cmpxchg is a full barrier; plain reads/writes below cannot move above it.
    // (alloc() and free() repeat this fast path: see the note above alloc().)
    if (Atomics.compareExchange(this.i32, this.lockWord, 0, self) !== 0) this.lockSlow(self);
    else {
      this.u32[this.base + L.H_LOCK_ACQUISITIONS]++;
      // A non-empty journal under a free lock means someone force-unlocked a dead owner
      // without repairing: repair now.
      if (this.u32[this.journalCountWord] !== 0) this.recoverLocked(0);
    }
  }

  /** lock() when the compare-exchange failed: held by us (an error), by another, or by the dead. */
  private lockSlow(self: number): void {
    if (Atomics.load(this.i32, this.lockWord) === self) {
      throw new LockError(
        'ERR_LOCK_REENTRANT',
        `slab lock: owner ${self} already holds this lock (it is not reentrant)`,
      );
    }
    lockContended(this.buffer, this.i32, this.lockWord, this.sleepersWord, self, this.tryTakeOver);
    const u32 = this.u32;
    const b = this.base;
    u32[b + L.H_LOCK_ACQUISITIONS]++;
    u32[b + L.H_LOCK_CONTENDED]++;
    u32[b + L.H_LOCK_SPINS] += contendedResult.spins;
    u32[b + L.H_LOCK_SLEEPS] += contendedResult.sleeps;
    if (u32[this.journalCountWord] !== 0) this.recoverLocked(0);
  }

  /** Commits and releases the lock. (alloc() and free() repeat it: see the note above alloc().) */
  unlock(): void {
    const i32 = this.i32;
    const lw = this.lockWord;
    // A plain read is enough: if we hold the lock the word is ours and stable; if we do not,
    // whatever value a racy read returns, it cannot be our id (only we store it).
    if (i32[lw] !== this.owner.selfId) this.notHeld();
    if (this.debug || this.poison) this.checkedCommit();
    else this.u32[this.journalCountWord] = 0; // commit
    // Release: every store above is visible before the lock reads free. On x86 a plain store
    // does that (TSO keeps stores in order, and TurboFan keeps typed-array stores in program
    // order); elsewhere, or without the waiters' barrier, an xchg (lock.ts, "Plain release").
    if (this.plainRelease) i32[lw] = 0;
    else Atomics.store(i32, lw, 0);
    // Read after the release store. After a plain release these loads may be satisfied before
    // the store is visible; waiters make up for it with their barrier (lock.ts explains why no
    // wake-up is lost either way). Plain reads: Atomics.* are builtin calls in Node 20. The
    // four words are SLEEPER_WORDS, written out (a loop here costs the hot path).
    const sw = this.sleepersWord;
    if ((i32[sw] | i32[sw + 1] | i32[sw + 2] | i32[sw + 3]) !== 0) this.wakeSleeper();
  }

  /**
   * unlock() saw a sleeper bit: wake one sleeper. After IDLE_WAKES_BEFORE_SWEEP wakes in a row
   * that woke nobody, clear the bits of vacant slots: a thread killed in its sleep whose slot
   * nobody reaps would otherwise cost every unlock a system call for good (lock.ts, "Sleepers").
   */
  private wakeSleeper(): void {
    if (wakeOne(this.buffer, this.lockWord) !== 0) {
      this.idleWakes = 0;
      return;
    }
    if (++this.idleWakes < IDLE_WAKES_BEFORE_SWEEP) return;
    this.idleWakes = 0;
    if (this.owner.isSlotVacant !== undefined) {
      clearVacantSleepers(this.i32, this.sleepersWord, this.owner);
    }
  }

  /**
   * Clears the sleeper bit of `deadOwnerId`, an owner that died (possibly asleep on the lock,
   * where it could not clear its bit itself; without this every unlock would make a futex
   * call for nobody). Returns whether the bit was set. The caller must know that no live
   * thread has that owner's slot: the zone's peer table calls it while it holds the dead
   * slot's token, before the slot is reused.
   */
  forgetSleeper(deadOwnerId: number): boolean {
    checkOwnerId('forgetSleeper', deadOwnerId);
    const bit = sleeperBit(deadOwnerId);
    return (Atomics.and(this.i32, sleeperWord(this.sleepersWord, deadOwnerId), ~bit) & bit) !== 0;
  }

  /** Owner slots flagged as sleeping (or about to sleep) on the lock now. */
  sleepers(): number {
    return sleepersNow(this.i32, this.sleepersWord);
  }

  /**
   * unlock() without holding the lock. Out of line: V8 counts a function's whole bytecode
   * against its callers' inlining budget, cold message building included.
   */
  private notHeld(): never {
    throw new LockError(
      'ERR_LOCK_NOT_HELD',
      `slab unlock: owner ${this.owner.selfId} does not hold the lock (held by ${Atomics.load(this.i32, this.lockWord)})`,
    );
  }

  /** How this pool object releases the lock: 'plain' store or 'atomic' xchg (lock.ts). */
  get lockRelease(): 'plain' | 'atomic' {
    return this.plainRelease ? 'plain' : 'atomic';
  }

  holdsLock(): boolean {
    return Atomics.load(this.i32, this.lockWord) === this.owner.selfId;
  }

  /** Owner id in the lock word (0 = free). */
  lockOwner(): number {
    return Atomics.load(this.i32, this.lockWord);
  }

  /**
   * Called under the lock after every takeover from a dead owner and every reset of damaged
   * memory; the first listener also hears of one made before it was added.
   */
  onRecovery(listener: (report: RecoveryReport) => void): void {
    this.listeners.push(listener);
    const pending = this.unreported;
    if (pending === undefined) return;
    this.unreported = undefined;
    this.report(pending);
  }

  /**
   * For a caller that knows `deadOwnerId` is dead (cluster primary on worker exit, a thread
   * inheriting a dead peer's slot): if the lock word holds that id, take the lock over, roll
   * back, verify, unlock. Returns true if it did. The caller must not itself be inside a
   * locked section with the same id.
   */
  recoverFrom(deadOwnerId: number): boolean {
    checkOwnerId('recoverFrom', deadOwnerId);
    const self = this.owner.selfId;
    if (Atomics.compareExchange(this.i32, this.lockWord, deadOwnerId, self) !== deadOwnerId)
      return false;
    try {
      this.recoverLocked(deadOwnerId);
    } finally {
      this.unlock();
    }
    return true;
  }

  /** CAS dead -> self; on success repair. Only after isOwnerDead(dead) said so. */
  private takeOver(dead: number): boolean {
    // LMDB's double check: the CAS only succeeds if the word still holds the dead id.
    if (Atomics.compareExchange(this.i32, this.lockWord, dead, this.owner.selfId) !== dead)
      return false;
    this.recoverLocked(dead);
    return true;
  }

  /** Under the lock: undo the journal, rebuild derived counters, verify; reset if that fails. */
  private recoverLocked(deadOwnerId: number): void {
    // Counted first, not last: if this thread dies in the middle of the repair, the takeover
    // it started still shows, and whoever takes over from it counts its own (the rollback is
    // idempotent, the journal is only emptied once it is complete).
    this.u32[this.base + L.H_LOCK_RECOVERIES]++;
    let undone = 0;
    let reason: string | undefined;
    try {
      undone = journalRollback(this);
      recount(this);
      verifyPool(this);
    } catch (err) {
      reason = (err as Error).message;
    }
    const reset = reason !== undefined;
    if (!reset && this.poison) repoisonFree(this);
    if (reset) this.format(this.generation + 1);
    this.report(
      reason === undefined
        ? { deadOwnerId, undone, reset }
        : { deadOwnerId, undone, reset, reason },
    );
  }

  /**
   * Tells the recovery listeners (the registry logs through its `log` option). A repair made
   * before anyone listened (while the zone was being opened) is kept for the first listener.
   */
  private report(report: RecoveryReport): void {
    if (this.listeners.length === 0) {
      this.unreported = report;
      return;
    }
    for (const listener of this.listeners) {
      try {
        listener(report);
      } catch {
        // A listener's failure must not break the locked path that is repairing the pool.
      }
    }
  }

  /**
   * Under the lock: a user of the pool found its own structures in it damaged (a stray or
   * hostile write; the dict's checks, src/dict/damage.ts). Re-initialises the pool EMPTY
   * under a new generation, as a failed repair does, and tells the recovery listeners (the
   * registry logs it) with `deadOwnerId` 0. Whatever was pending in the journal is dropped.
   */
  resetDamaged(reason: string): void {
    if (!this.holdsLock()) this.notHeld();
    this.u32[this.base + L.H_LOCK_RECOVERIES]++;
    this.format(this.generation + 1);
    this.report({ deadOwnerId: 0, undone: 0, reset: true, reason });
  }

  /**
   * An allocation path found damaged metadata (state.ts): under the lock, undo what this
   * section wrote and reset the pool EMPTY as resetDamaged() does (logged through the recovery
   * listeners), then throw SlabCorruptionError; the next call finds an empty, working pool.
   */
  override damaged(what: string): never {
    throw new SlabCorruptionError(this.resetAfterDamage(what));
  }

  /**
   * An error that is not a ShmzoneError leaving an allocator call (a RangeError from a garbage
   * index no check caught): damage, handled as damaged() does. Others pass unchanged.
   */
  private foreign(err: unknown): unknown {
    if (err instanceof ShmzoneError) return err;
    const what = err instanceof Error ? err.message : String(err);
    return new SlabCorruptionError(this.resetAfterDamage(what), { cause: err });
  }

  /** damaged()'s repair; returns the error message. */
  private resetAfterDamage(what: string): string {
    const reason = `slab pool at byte ${this.byteOffset}: damaged shared memory: ${what}`;
    if (!this.holdsLock()) return reason;
    try {
      journalRollback(this);
    } catch {
      // A count or entry out of range: the reset below rewrites the journal as well.
    }
    this.resetDamaged(reason);
    return `${reason}; the pool was re-initialised EMPTY, generation ${this.generation}`;
  }

  // ---------------------------------------------------------------- inspection

  stats(): PoolStats {
    return collectStats(this);
  }

  /** Throws SlabCorruptionError naming the first broken invariant. Call with the lock held for a stable answer. */
  verify(): void {
    verifyPool(this);
  }
}
