/**
 * Held chunks: a thread's way to build something in a chunk before it takes the lock, and to
 * give a chunk back after it let go, so that the work under the lock shrinks to linking. The
 * dict's store uses it (src/dict/store.ts): the new entry is written into a held chunk before
 * the lock, and the entry it replaces is pushed into the thread cache after.
 *
 * A held chunk is allocated as far as the pool goes (its bitmap bit set, not tagged, listed in
 * no bin) and named by its owner's block word B_HELD (cache-layout.ts), which only the owner
 * writes: so if the owner dies holding it, whoever reclaims the block frees it
 * (cache.ts reclaimLocked). The transitions, each crash-safe (test/slab/held.test.ts):
 *
 * - `takeHeld` (no lock): the cache pop of alloc(), with HELD = o between COUNT - 1 and
 *   clearing the tag. A death in between leaves `o` tagged above COUNT and in HELD: the
 *   reclaimer frees it once.
 * - `keepHeld` (under the lock): HELD = 0 through the journal, in the same commit as whatever
 *   links the chunk. A rollback restores both: unlinked and held, then freed.
 * - `holdForFree` (under the lock): HELD = o through the journal, in the commit that unlinks
 *   `o`; only when `o`'s bin has room, so the push after the lock cannot fail for lack of it.
 * - `releaseHeld` (after the lock): the cache push of free() (PENDING, tag, entry, COUNT,
 *   PENDING = 0), then HELD = 0. A death anywhere in it leaves `o` listed or PENDING, and
 *   HELD naming it too: freed once. When it cannot push (a drain asked, no room, another
 *   generation's block), it frees `o` and clears HELD in one locked, journaled step.
 */
import { binWord, C, cacheBinOf } from './cache-layout.js';
import { drainLocked, refillLocked } from './cache.js';
import { CachingPool } from './caching-pool.js';
import { L } from './layout.js';

export abstract class HoldingPool extends CachingPool {
  /** A journaled store under the lock (pool.ts). */
  abstract write32(wordIndex: number, value: number): void;

  /** True while this thread's block may name a chunk in B_HELD (the word decides which). */
  private holding = false;

  /**
   * Lock-free: pops a chunk for `size` bytes from this thread's cache and holds it (see the
   * module comment). 0 when the cache cannot serve it: none attached, an empty bin, a drain
   * asked, a reset, a chunk held already, or a size above the chunk classes.
   */
  takeHeld(size: number): number {
    const cw = this.cacheWord;
    if (cw === 0 || this.holding) return 0;
    const byEighth = this.byEighth;
    if (size >>> 0 !== size || (size + 7) >>> 3 >= byEighth.length) return 0;
    const bin = byEighth[(size + 7) >>> 3];
    const u32 = this.u32;
    const w = binWord(cw, bin);
    const n = u32[w + C.BIN_COUNT];
    if (
      n === 0 ||
      n > C.CAP_MAX ||
      u32[this.generationWord] !== this.cacheGen ||
      u32[cw + C.B_DRAIN] !== 0
    )
      return 0;
    const o = u32[w + C.BIN_ENTRIES + n - 1];
    if (
      o < this.dataStart ||
      o >= this.dataEnd ||
      u32[o >>> 2] !== (C.TAG ^ o) >>> 0 ||
      u32[(o >>> 2) + 1] !== this.cacheOwner
    )
      return 0;
    u32[w + C.BIN_COUNT] = n - 1;
    u32[w + C.BIN_HITS]++;
    u32[cw + C.B_HELD] = o;
    u32[o >>> 2] = 0;
    this.holding = true;
    return o;
  }

  /**
   * Under the lock: the held chunk, if this thread still holds `o` in this pool generation
   * (a recovery may have reset the pool since takeHeld), else 0.
   */
  heldLocked(o: number): number {
    const cw = this.cacheWord;
    return this.holding &&
      cw !== 0 &&
      o !== 0 &&
      this.u32[this.generationWord] === this.cacheGen &&
      this.u32[cw + C.B_HELD] === o
      ? o
      : 0;
  }

  /** Under the lock: the held chunk is linked by the caller's journaled writes. Journaled. */
  keepHeld(): void {
    this.write32(this.cacheWord + C.B_HELD, 0);
  }

  /**
   * Under the lock, in place of freeLocked(o) for a chunk the caller has just unlinked
   * (journaled): holds it for a push into this thread's cache after the lock, when nothing
   * is held and its bin has room. False: the caller frees it under the lock as before.
   */
  holdForFree(o: number): boolean {
    const cw = this.cacheWord;
    if (cw === 0 || this.u32[this.generationWord] !== this.cacheGen) return false;
    const u32 = this.u32;
    if (u32[cw + C.B_HELD] !== 0 || u32[cw + C.B_DRAIN] !== 0) return false;
    if (o < this.dataStart || o >= this.dataEnd || (o & 7) !== 0) return false;
    const bin = cacheBinOf(this, o);
    if (bin < 0 || bin >= this.nClasses || this.cacheCaps[bin] === 0) return false;
    if (u32[binWord(cw, bin) + C.BIN_COUNT] >= this.cacheCaps[bin]) return false;
    this.write32(cw + C.B_HELD, o);
    this.holding = true;
    return true;
  }

  /**
   * Under the lock: allocLocked(size) for a caller that builds in held chunks, which keeps
   * this thread's cache stocked: when the chunk's bin is empty, it refills it (attaching the
   * block first if due), so that the next takeHeld() finds one; when no memory is left, it
   * drains the block and tries once more, as alloc() does. Attaching and draining commit, so
   * call it only where the caller has nothing half-done in the journal (the dict: before its
   * first write of a store). The refill commits with the caller's operation, within the
   * journal's room. Journaled.
   */
  allocRefilling(size: number): number {
    const bin =
      this.cacheEnabled && size >>> 0 === size && size <= this.classes.maxSize
        ? this.byEighth[(size + 7) >>> 3]
        : -1;
    const want = bin >= 0 ? this.cacheCaps[bin] >>> 1 : 0;
    const bw = want !== 0 ? this.drainIfAsked(this.cacheBlock()) : 0;
    let off = this.allocLocked(size);
    if (off === 0) {
      if (bw !== 0 && drainLocked(this, bw) !== 0) {
        this.uncountFailure(size); // the retry counts the request (and a failure) again
        off = this.allocLocked(size);
      }
      return off;
    }
    if (bw === 0 || this.u32[binWord(bw, bin) + C.BIN_COUNT] !== 0) return off;
    const room = L.JOURNAL_CAPACITY - this.u32[this.journalCountWord];
    if (room >= (want + 2) * L.MAX_OP_WRITES) refillLocked(this, bw, bin, want);
    return off;
  }

  /**
   * After the lock (never while holding it): gives back what B_HELD names, if anything: a
   * push into this thread's cache without the lock, or a locked free (module comment).
   */
  releaseHeld(): void {
    if (!this.holding) return;
    this.holding = false;
    const cw = this.cacheWord;
    const u32 = this.u32;
    // Another generation: the block and what it held went with the reset.
    if (cw === 0 || u32[this.generationWord] !== this.cacheGen) return;
    const o = u32[cw + C.B_HELD];
    if (o === 0) return;
    const bin = o >= this.dataStart && o < this.dataEnd ? cacheBinOf(this, o) : -1;
    if (bin >= 0 && bin < this.nClasses && u32[cw + C.B_DRAIN] === 0) {
      const w = binWord(cw, bin);
      const n = u32[w + C.BIN_COUNT];
      if (n < this.cacheCaps[bin]) {
        u32[cw + C.B_PENDING] = o;
        u32[o >>> 2] = (C.TAG ^ o) >>> 0;
        u32[(o >>> 2) + 1] = this.cacheOwner;
        u32[w + C.BIN_ENTRIES + n] = o;
        u32[w + C.BIN_COUNT] = n + 1;
        u32[cw + C.B_PENDING] = 0;
        u32[cw + C.B_HELD] = 0;
        return;
      }
    }
    this.lock();
    try {
      if (u32[this.generationWord] === this.cacheGen && u32[cw + C.B_HELD] === o) {
        this.freeLocked(o);
        this.write32(cw + C.B_HELD, 0);
      }
    } catch (err) {
      throw this.foreign(err);
    } finally {
      this.unlock();
    }
  }
}
