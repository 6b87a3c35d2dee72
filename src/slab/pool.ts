/**
 * SlabPool: nginx's ngx_slab over a SharedArrayBuffer, with a lock that survives dead owners
 * and an undo journal that makes every operation all-or-nothing across a crash.
 *
 * Files: layout.ts (word map), sizeclass.ts, format.ts, journal.ts, pages.ts (page runs),
 * chunks.ts (slabs, bad-free detection), locking.ts (lock, takeover, recovery; the contended
 * path in lock.ts), verify.ts, stats.ts; cache*.ts, caching-pool.ts and holding-pool.ts (thread caches). This
 * class adds creation, attachment and allocation to HoldingPool (which extends CachingPool,
 * LockingPool and PoolState, so hot paths read plain fields).
 */
import { LockError, ShmzoneArgumentError, SlabCorruptionError, describeValue } from '../errors.js';
import type { OwnerIdentity, PoolStats, SizeClassMode } from './api.js';
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
import { binCaps } from './cache.js';
import { C, cacheBinOf, pushRun } from './cache-layout.js';
import { formatPool } from './format.js';
import { journalOverflow, journalWrite } from './journal.js';
import { L, computeGeometry } from './layout.js';
import { HoldingPool } from './holding-pool.js';
import { freePages } from './pages.js';
import { DEFAULT_SIZE_CLASS_MODE, K, MODE_CODES, MODE_NAMES, sizeClasses } from './sizeclass.js';
import { collectStats } from './stats.js';
import { verifyPool } from './verify.js';
import { checkRegion, FOUR_GIB, type SlabPoolOptions } from './pool-options.js';

export type { SlabPoolOptions };

export class SlabPool extends HoldingPool {
  private constructor(
    buffer: SharedArrayBuffer,
    byteOffset: number,
    length: number,
    mode: SizeClassMode,
    owner: OwnerIdentity,
    threadCache: boolean,
  ) {
    const classes = sizeClasses(mode);
    const g = computeGeometry(byteOffset, length, classes.n);
    if (g === null) {
      throw new ShmzoneArgumentError(
        'ERR_SLAB_POOL_SIZE',
        `slab pool: ${length} bytes at ${byteOffset} cannot hold the header and one page`,
      );
    }
    super(buffer, g, classes, owner);
    this.debug = process.env.SHMZONE_DEBUG === '1';
    this.cacheCaps = binCaps(this);
    this.cacheEnabled = threadCache && !this.debug;
    this.cacheAttach = this.cacheEnabled;
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
    const pool = new SlabPool(
      buffer,
      byteOffset,
      Math.min(byteLength, FOUR_GIB - 8),
      mode,
      owner,
      options.threadCache === true,
    );
    const u32 = pool.u32;
    const b = pool.base;
    u32.fill(0, b, b + L.HEADER_WORDS);
    u32[b + L.H_VERSION] = L.POOL_VERSION;
    u32[b + L.H_LENGTH_DIV8] = pool.length / 8;
    u32[b + L.H_MODE] = MODE_CODES[mode];
    u32[b + L.H_POISON] = pool.debug ? L.POISON_ON : 0;
    formatPool(pool, 0);
    if (pool.poison) pool.cacheEnabled = pool.cacheAttach = false;
    u32[b + L.H_MAGIC] = L.POOL_MAGIC; // last: a half-built header never validates
    return pool;
  }

  /**
   * Attaches to a pool another process or thread created. Validates magic, version and that
   * every region lies inside the buffer and matches the geometry recomputed here; throws
   * SlabCorruptionError rather than reading out of bounds.
   */
  static open(
    buffer: SharedArrayBuffer,
    byteOffset: number,
    owner: OwnerIdentity,
    options: Pick<SlabPoolOptions, 'threadCache'> = {},
  ): SlabPool {
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
      pool = new SlabPool(buffer, byteOffset, length, mode, owner, options.threadCache === true);
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
    pool.poison = u32[b + L.H_POISON] === L.POISON_ON;
    if (pool.poison) pool.cacheEnabled = pool.cacheAttach = false;
    return pool;
  }

  // ---------------------------------------------------------------- geometry

  /** Bytes of the zone this pool covers (header and descriptors included). */
  get capacity(): number {
    return this.length;
  }
  get pageSize(): number {
    return L.PAGE_SIZE;
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
   * alloc() and free() repeat lock(), unlock() and the choice between the common paths
   * (allocInMap, freeInMap, freePages) and the general one, to stay within TurboFan's inlining
   * budget (docs/performance.md, "Why alloc() and free() are written out"). The copies must
   * stay what they copy: lock() and unlock() line for line (less unlock()'s holder check: the
   * lock was taken a few lines earlier), and allocLocked()'s and locate()'s choices. No journal
   * room check on these paths: the lock was free a moment ago, so the journal is empty (a
   * non-empty one was rolled back by recoverLocked first). lock.test.ts runs the lock tests
   * through each release path; fastpath.test.ts replays random sequences through alloc()/free()
   * and allocLocked()/freeLocked() and requires identical results and pool words.
   */

  /**
   * Allocates `size` bytes; returns a byte offset into the zone buffer (8-aligned; whole pages
   * for sizes above the largest class), or 0 when there is no memory (counted as a failure).
   * Throws ShmzoneArgumentError ERR_SLAB_SIZE for a size that is not a non-negative integer.
   */
  alloc(size: number): number {
    const cw = this.cacheWord;
    if (cw !== 0) {
      // The thread cache's pop of a chunk (cache-layout.ts): no lock, no journal. COUNT first,
      // then the tag: a reclaimer finds a pop this thread died in by the tagged entry above.
      const byEighth = this.byEighth;
      if (typeof size === 'number' && size >>> 0 === size && (size + 7) >>> 3 < byEighth.length) {
        const bin = byEighth[(size + 7) >>> 3];
        const u32 = this.u32;
        const w = cw + C.B_BINS + bin * C.BIN_WORDS;
        const n = u32[w];
        if (
          n !== 0 &&
          n <= C.CAP_MAX &&
          u32[this.generationWord] === this.cacheGen &&
          u32[cw + C.B_DRAIN] === 0
        ) {
          const o = u32[w + C.BIN_ENTRIES - 1 + n];
          if (
            o >= this.dataStart &&
            o < this.dataEnd &&
            u32[o >>> 2] === (C.TAG ^ o) >>> 0 &&
            u32[(o >>> 2) + 1] === this.cacheOwner
          ) {
            u32[w] = n - 1;
            u32[w + C.BIN_HITS]++;
            u32[o >>> 2] = 0;
            return o;
          }
        }
      }
      return this.allocUncached(size);
    }
    if (this.cacheAttach) return this.allocCaching(size);
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
    const cw = this.cacheWord;
    if (cw !== 0) {
      // The thread cache's push of a chunk (cache-layout.ts): no lock, no journal; PENDING
      // names the chunk while it moves, for a reclaimer should this thread die in between.
      if (typeof offset === 'number') {
        const o = offset >>> 0;
        const u32 = this.u32;
        if (
          o === offset &&
          o >= this.dataStart &&
          o < this.dataEnd &&
          u32[this.generationWord] === this.cacheGen &&
          u32[cw + C.B_DRAIN] === 0
        ) {
          // cacheBinOf()'s common cases written out (V8 does not inline it): a live chunk in
          // the head page of its slab, a live run. Anything else (an inner page) asks
          // cacheBinOf(); -1 leaves the offset to the locked path. thread-cache.test.ts frees
          // every kind, twice.
          let bin = -1;
          {
            const ds = this.dataStart;
            const d = this.firstDesc + ((o - ds) >>> L.PAGE_SHIFT);
            const dw = this.descWord + d * L.DESC_WORDS;
            const info = u32[dw + L.D_INFO];
            const c = (info >>> L.CLASS_SHIFT) & L.CLASS_MASK;
            if ((info & L.TYPE_MASK) === L.T_SLAB && c < this.nClasses) {
              const ct = this.ct;
              const k = c * K.K_STRIDE;
              const start = ds + (d - this.firstDesc) * L.PAGE_SIZE;
              const rel = o - start - ct[k + K.K_DATA_OFFSET];
              const idx = Math.imul(rel, ct[k + K.K_MAGIC]) >>> ct[k + K.K_SHIFT];
              if (rel >= 0 && Math.imul(idx, ct[k + K.K_SIZE]) === rel && idx < ct[k + K.K_COUNT]) {
                const word =
                  ct[k + K.K_BITMAP_WORDS] === 0 ? dw + L.D_MAP : (start >>> 2) + (idx >>> 5);
                if ((u32[word] & (1 << (idx & 31))) !== 0) bin = c;
              }
            } else if (info === L.T_RUN && ((o - ds) & (L.PAGE_SIZE - 1)) === 0) {
              const pages = u32[dw + L.D_MAP];
              if (pages >= 1 && pages <= C.RUN_BINS) bin = this.nClasses + pages - 1;
            } else bin = cacheBinOf(this, o);
          }
          const w = cw + C.B_BINS + bin * C.BIN_WORDS;
          // A tagged chunk may be cached already (a double free): the locked path decides.
          if (bin >= 0 && bin < this.nClasses && u32[o >>> 2] !== (C.TAG ^ o) >>> 0) {
            const n = u32[w];
            if (n < this.cacheCaps[bin]) {
              u32[cw + C.B_PENDING] = o;
              u32[o >>> 2] = (C.TAG ^ o) >>> 0;
              u32[(o >>> 2) + 1] = this.cacheOwner;
              u32[w + C.BIN_ENTRIES + n] = o;
              u32[w] = n + 1;
              u32[cw + C.B_PENDING] = 0;
              return;
            }
          }
          if (bin >= this.nClasses && pushRun(this, cw, o, bin)) return;
        }
      }
      this.freeCaching(offset);
      return;
    }
    if (this.cacheAttach) {
      this.freeCaching(offset);
      return;
    }
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
          if (rel !== 0 || info !== L.T_RUN) break common; // RUN_CACHED: freeLocked() says so
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
        // Another thread's cache may hold it (a double free): freeLocked() looks it up.
        if (u32[this.base + L.H_CACHE_DIR] !== 0 && u32[o >>> 2] === (C.TAG ^ o) >>> 0)
          break common;
        freeInMap(this, d, c, 1 << idx, 1);
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

  // ---------------------------------------------------------------- inspection

  stats(): PoolStats {
    return collectStats(this);
  }

  /** Throws SlabCorruptionError naming the first broken invariant. Call with the lock held for a stable answer. */
  verify(): void {
    verifyPool(this);
  }
}
