/**
 * The thread caches' way into and out of the lock (cache-layout.ts has the design): what
 * alloc() and free() call when their lock-free pop or push cannot serve, the attach of a
 * thread's block, and giving a block back. SlabPool (pool.ts) writes the lock-free paths out
 * in alloc() and free() and supplies the locked allocator.
 */
import {
  attachLocked,
  drainLocked,
  flushLocked,
  popLocked,
  reclaimLocked,
  refillLocked,
} from './cache.js';
import { C, cacheBinOf, isOnePageRun, popRun } from './cache-layout.js';
import { locate } from './chunks.js';
import { L } from './layout.js';
import { LockingPool } from './locking.js';

export abstract class CachingPool extends LockingPool {
  /** alloc() for a caller that holds the lock (pool.ts). */
  abstract allocLocked(size: number): number;
  /** free() for a caller that holds the lock (pool.ts). */
  abstract freeLocked(offset: number): void;

  /** alloc() of what the inlined pop did not serve: a cached run, or the locked path. */
  protected allocUncached(size: number): number {
    if (typeof size === 'number' && size >>> 0 === size && size > this.classes.maxSize) {
      const o = popRun(this, this.cacheWord, size);
      if (o !== 0) return o;
    }
    return this.allocCaching(size);
  }

  /**
   * alloc() through the thread cache, under the lock: attaches the caller's block first if it
   * has none (once per pool generation), allocates, and refills the bin with half its
   * capacity in the same lock hold; an allocation that fails drains the caller's own block
   * and tries once more.
   */
  protected allocCaching(size: number): number {
    this.lock();
    try {
      const bin = this.cacheBinOfSize(size);
      let bw = this.drainIfAsked(this.currentBlock());
      // Entries the lock-free pop did not take (a block adopted just now, or a damaged top
      // entry, which popLocked() reports) go first.
      if (bw !== 0 && bin >= 0 && this.u32[bw + C.B_BINS + bin * C.BIN_WORDS] !== 0)
        return popLocked(this, bw, bin);
      let off = this.allocLocked(size); // throws for a bad size before anything is attached
      if (bw === 0) bw = this.cacheBlock();
      if (bw === 0) return off;
      if (off !== 0) {
        if (bin >= 0) refillLocked(this, bw, bin, this.cacheCaps[bin] >>> 1);
      } else if (size <= this.pagesTotal * L.PAGE_SIZE && drainLocked(this, bw) !== 0) {
        // Counted once: the retry counts the request (and its failure) again.
        this.uncountFailure(size);
        off = this.allocLocked(size);
      }
      return off;
    } catch (err) {
      throw this.foreign(err);
    } finally {
      this.unlock();
    }
  }

  /**
   * free() through the thread cache, under the lock: checks the offset (a cached one
   * included), attaches the caller's block if it has none, frees, and when the offset's bin
   * is full, flushes it to half in the same lock hold.
   */
  protected freeCaching(offset: number): void {
    this.lock();
    try {
      const o = typeof offset === 'number' ? offset >>> 0 : 0;
      const bin =
        o === offset && o >= this.dataStart && o < this.dataEnd ? cacheBinOf(this, o) : -1;
      // Attach only for a valid free (locate() throws, reading only), and before it: attached
      // after, the block would take the pages just freed, and a double free would free it.
      locate(this, offset);
      const bw = this.drainIfAsked(this.cacheBlock());
      this.freeLocked(offset);
      if (
        bw !== 0 &&
        bin >= 0 &&
        this.u32[bw + C.B_BINS + bin * C.BIN_WORDS] >= this.cacheCaps[bin]
      )
        flushLocked(this, bw, bin, this.cacheCaps[bin] >>> 1);
    } catch (err) {
      throw this.foreign(err);
    } finally {
      this.unlock();
    }
  }

  /** Under the lock: the caller's block if it is of this pool generation, else 0. */
  protected currentBlock(): number {
    if (this.cacheWord !== 0 && this.cacheGen !== this.u32[this.base + L.H_GENERATION]) {
      // The pool was reset: every block went with it. Attach a new one when due.
      this.cacheWord = 0;
      this.cacheAttach = true;
    }
    return this.cacheWord;
  }

  /** Under the lock: empties the caller's block if another thread asked (B_DRAIN). */
  protected drainIfAsked(bw: number): number {
    if (bw !== 0 && this.u32[bw + C.B_DRAIN] !== 0) {
      this.u32[bw + C.B_DRAIN] = 0;
      drainLocked(this, bw);
    }
    return bw;
  }

  /** Under the lock: the caller's cache block (word index), attaching it if due; 0 = none. */
  protected cacheBlock(): number {
    if (this.currentBlock() === 0 && this.cacheAttach) {
      this.cacheAttach = false;
      this.cacheWord = attachLocked(this);
      this.cacheGen = this.generation;
      this.cacheOwner = this.owner.selfId;
    }
    return this.cacheWord;
  }

  /** Takes back the request and failure counted for a failed allocation of `size`. */
  protected uncountFailure(size: number): void {
    const u32 = this.u32;
    if (size > this.classes.maxSize) {
      u32[this.base + L.H_PAGE_REQS]--;
      u32[this.base + L.H_PAGE_FAILS]--;
    } else {
      const w = this.statsWord + this.classes.byEighth[(size + 7) >>> 3] * L.STAT_WORDS;
      u32[w + L.S_REQS]--;
      u32[w + L.S_FAILS]--;
    }
  }

  private cacheBinOfSize(size: number): number {
    if (typeof size !== 'number' || size >>> 0 !== size) return -1;
    const t = this.classes;
    const bin =
      size <= t.maxSize ? t.byEighth[(size + 7) >>> 3] : this.nClasses + ((size - 1) >>> 12);
    return bin < this.cacheCaps.length && this.cacheCaps[bin] !== 0 ? bin : -1;
  }

  /**
   * Gives the calling thread's cached chunks and its cache block back to the pool (a zone
   * does it when the thread leaves). Takes the lock; the thread caches again on its next
   * alloc() or free() only if `keepCaching`.
   */
  releaseThreadCache(keepCaching = false): void {
    const had = this.cacheWord !== 0;
    this.cacheAttach = keepCaching && this.cacheEnabled;
    // No block of its own: the slot may still hold one of a holder that died before this
    // thread took the slot (attaching reclaims it, but this thread never attached).
    if (!had && !this.slotHoldsBlock()) return;
    this.lock();
    try {
      if (!had || this.cacheGen === this.generation)
        reclaimLocked(this, (this.owner.selfId - 1) % C.DIR_SLOTS);
    } catch (err) {
      throw this.foreign(err);
    } finally {
      this.cacheWord = 0;
      this.unlock();
    }
  }

  /** Lock-free peek: the caller's directory slot names a block (a hint; checked under the lock). */
  private slotHoldsBlock(): boolean {
    if (this.owner.selfId === 0) return false;
    const dir = this.u32[this.base + L.H_CACHE_DIR];
    if (dir === 0 || !isOnePageRun(this, dir)) return false;
    return this.u32[(dir >>> 2) + ((this.owner.selfId - 1) % C.DIR_SLOTS)] !== 0;
  }

  /**
   * Gives what the cache block of owner slot `slot` holds back to the pool: its thread is
   * dead (the zone's reaper calls it). Takes the lock; needs an owner id of its own.
   */
  reclaimCache(slot: number): void {
    if (this.owner.selfId === 0 || this.u32[this.base + L.H_CACHE_DIR] === 0) return;
    this.lock();
    try {
      reclaimLocked(this, slot);
    } catch (err) {
      throw this.foreign(err);
    } finally {
      this.unlock();
    }
  }
}
