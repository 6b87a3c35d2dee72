/**
 * Where every word of a slab pool lives. All indices are in 32-bit words of the WHOLE zone
 * buffer unless the name says "byte"; the pool sits anywhere in the zone (8-byte aligned).
 *
 * ```
 *  pool byteOffset (8-aligned)
 *  +--------------------------------------------------------------+
 *  | header: HEADER_WORDS words (magic, version, lock, sleepers,    |
 *  |   journal count, generation, geometry, counters)  H_* below  |
 *  +--------------------------------------------------------------+
 *  | journal: JOURNAL_CAPACITY x {wordIndex, oldValue}              |
 *  +--------------------------------------------------------------+
 *  | class stats: nClasses x {total, used, reqs, fails}  S_*        |
 *  +--------------------------------------------------------------+
 *  | descriptors, DESC_WORDS each:                                  |
 *  |   [0]            NULL descriptor (never used; link value 0)    |
 *  |   [1..nClasses]  sentinels of the per-class slab lists         |
 *  |   [nClasses+1 .. nClasses+32]  free-run list sentinels:        |
 *  |                  +0 = runs of >= 32 pages, +b = runs of b pages|
 *  |   [first ..]     one per data page: page p <-> desc first + p  |
 *  +--------------------------------------------------------------+
 *  | padding up to a 4096-byte boundary OF THE ZONE BUFFER          |
 *  +--------------------------------------------------------------+  <- dataStart
 *  | data pages (pagesTotal x 4096)                                 |
 *  +--------------------------------------------------------------+  <- dataEnd
 *  | sub-page tail (unused)                                         |
 *  +--------------------------------------------------------------+  pool end
 * ```
 *
 * A descriptor is four words `[INFO, MAP, NEXT, PREV]`:
 *
 * ```
 *  INFO  bits 0..3 type, for SLAB also bits 4..11 class, bits 12..31 chunks in use
 *        (slabs with an in-page bitmap only; 0 when the bitmap is MAP: used = set bits)
 *  MAP   FREE head: run length | FREE tail: head page | RUN: length in pages
 *        SLAB with <= 32 chunks: the chunk bitmap itself (padding bits set to 1, so the
 *        slab is full exactly when MAP is all ones)
 *  NEXT  PREV  list links as descriptor indices (0 = not linked). A FULL slab keeps stale
 *        links (removed from its class list with 2 writes, not 4); they are never read
 *        and are overwritten when a free puts the slab back in the list.
 * ```
 *
 * Only heads (and the last page of a free run) have non-zero descriptors: inner pages of
 * free runs, page runs and multi-page slabs stay all zero. That keeps every operation to a
 * bounded number of writes whatever the run length, and `free()` of an inner page finds its
 * head by walking back over zero descriptors (error path, or at most 7 steps for a slab).
 */

/**
 * Every word and constant of the layout, in header order. A const enum: tsc writes `L.NAME`
 * as a literal, so the hot paths pay nothing for a name (an imported `const` is a module
 * binding V8 loads and hole-checks at every use; docs/performance.md).
 */
/* eslint-disable @typescript-eslint/no-duplicate-enum-values -- named constants, not an enumeration */
export const enum L {
  POOL_MAGIC = 0x534c4142, // 'SLAB'
  /**
   * 2: sleeper bitmap instead of a waiter count (H_SLEEPERS), and the `fine` classes.
   * 3: thread caches (H_CACHE_DIR, cache.ts): a version-2 process would free cached chunks.
   * 4: cache blocks of two pages, 32 entries a bin, and B_DRAIN (cache-layout.ts).
   * 5: H_POISON holds POISON_ON instead of 1.
   * 6: H_LOCK_RECOVERIES on a line of its own (HEADER_WORDS 48).
   * 7: B_HELD, a chunk held outside the bins (holding-pool.ts): a version-6 reclaimer leaks it.
   */
  POOL_VERSION = 7,

  PAGE_SIZE = 4096,
  PAGE_SHIFT = 12,

  // Header words, relative to the pool's first word.
  H_MAGIC = 0,
  H_VERSION = 1,
  /** Pool length in units of 8 bytes (a 4 GiB pool does not fit a byte count in 32 bits). */
  H_LENGTH_DIV8 = 2,
  /** Size-class mode: 0 = pow2, 1 = fine. */
  H_MODE = 3,
  /** The lock word: owner id, 0 = free. Atomics, except x86's plain release store (lock.ts). */
  H_LOCK = 4,
  /** Entries in the undo journal. 0 = nothing to roll back. */
  H_JOURNAL_COUNT = 6,
  H_GENERATION = 7,
  H_PAGES_TOTAL = 8,
  /** Not journaled: recomputed from the descriptors after a takeover. */
  H_PAGES_FREE = 9,
  H_DATA_START = 10,
  H_DESC_START = 11,
  H_N_CLASSES = 12,
  /**
   * POISON_ON when the pool was created with SHMZONE_DEBUG=1: every process poisons freed
   * memory and checks it on reuse. Any other value means off. A marker rather than 1: a stray
   * small value written over this word would otherwise turn the checks on over memory that
   * was never poisoned, and every allocation would then fail them
   * (test/slab/damage.test.ts, "a stray value in the poison word").
   */
  H_POISON = 13,
  POISON_ON = 0x504f4953, // 'POIS'
  H_PAGE_REQS = 14,
  H_PAGE_FAILS = 15,
  H_LOCK_ACQUISITIONS = 16,
  H_LOCK_CONTENDED = 17,
  H_LOCK_SPINS = 18,
  H_LOCK_SLEEPS = 19,
  /** Word 20 is reserved (0). */
  /**
   * Bit b (1..31) set when the free-run list for runs of exactly b pages is non-empty; bit 0
   * for the list of runs of >= FREE_BINS pages. Derived (not journaled), recomputed after a
   * takeover.
   */
  H_FREE_BIN_MASK = 21,
  /**
   * SLEEPER_WORDS words, one bit per owner slot ((id - 1) mod SLEEPER_SLOTS): set while that
   * owner sleeps, or is about to, on the lock futex; unlock wakes one sleeper when any bit is
   * set. A bit per owner rather than a count, so that a sleeper killed in its sleep can be
   * taken off by whoever reaps it (`forgetSleeper`): a count cannot tell whose share it
   * holds. Atomics.or / Atomics.and only (no lock).
   */
  H_SLEEPERS = 24,
  SLEEPER_WORDS = 4,
  /** Owner slots the sleeper bits distinguish: the zone's peer slots map one to one. */
  SLEEPER_SLOTS = SLEEPER_WORDS * 32,
  /** Byte offset of the thread caches' directory page (cache.ts), 0 = none. Journaled. */
  H_CACHE_DIR = 28,
  /**
   * Lock takeovers, bumped under the lock at the start of every recovery. Alone on the
   * header's third cache line: SharedDict's lock-free readers load it on every get
   * (`pool.recoveriesWord`), and the lines above change on every lock acquisition (the lock
   * word, the journal count, the acquisition counters). Guarded by
   * test/slab/header-lines.test.ts.
   */
  H_LOCK_RECOVERIES = 32,
  HEADER_WORDS = 48,

  /** Journal entries (two words each). One alloc or free writes at most MAX_OP_WRITES. */
  JOURNAL_CAPACITY = 1024,
  /**
   * Upper bound on journaled writes of one allocLocked/freeLocked, counted from the code.
   * Worst alloc: a new slab from a split run: allocPages 13 (unlink 4, remainder head 2, push
   * 4, tail 1, links 2) + MAP 1 + INFO 1 + class push 4 = 19. Worst free: the last chunk of a
   * full slab whose pages join both neighbours: bitmap 1 + class unlink 4 + freePages 22
   * (right: unlink 4 + clear 2; left: unlink 4 + clear tail 2 + clear head 2; head 2; push 4;
   * tail 2) = 27. 40 leaves headroom; journal.test.ts checks the real maximum.
   */
  MAX_OP_WRITES = 40,

  // Per-class statistics: STAT_WORDS words per class.
  STAT_WORDS = 4,
  S_TOTAL = 0,
  S_USED = 1,
  S_REQS = 2,
  S_FAILS = 3,

  /**
   * Free runs are kept in FREE_BINS lists by length: exact lengths 1..31, and one list for
   * >= 32 pages (first fit inside it). A request for n < 32 pages takes the first run of the
   * smallest non-empty bin >= n (found with one mask operation), so no search skips
   * fragments.
   */
  FREE_BINS = 32,

  // Descriptors: [INFO, MAP, NEXT, PREV] (see the diagram above).
  DESC_WORDS = 4,
  D_INFO = 0,
  D_MAP = 1,
  D_NEXT = 2,
  D_PREV = 3,

  /** Descriptor types (INFO bits 0..3). 0 = inner page of some run (all four words zero). */
  T_INNER = 0,
  T_FREE = 1,
  T_FREE_TAIL = 2,
  T_RUN = 3,
  T_SLAB = 4,
  TYPE_MASK = 0xf,
  CLASS_SHIFT = 4,
  CLASS_MASK = 0xff,
  USED_SHIFT = 12,
  USED_ONE = 1 << USED_SHIFT,
  /** A RUN head's INFO bit: the run is parked in a thread cache (cache-layout.ts). */
  RUN_CACHED = 1 << CLASS_SHIFT,
  /** INFO's type and class bits: what a slab head holds besides its used count. */
  INFO_KIND_MASK = USED_ONE - 1,
}
/* eslint-enable @typescript-eslint/no-duplicate-enum-values */

/** Derived geometry of one pool, computed identically by create() and open(). */
export interface Geometry {
  /** First word of the pool. */
  base: number;
  /** Pool length in bytes (rounded down to 8). */
  length: number;
  journalWord: number;
  statsWord: number;
  descWord: number;
  /** Descriptor index of page 0. */
  firstDesc: number;
  /** Descriptor index of the sentinel of the >= 32 pages free list; bin b (1..31) is + b. */
  freeSentinel: number;
  dataStart: number;
  pagesTotal: number;
}

const alignUp = (n: number, a: number): number => Math.ceil(n / a) * a;

/**
 * Lays out a pool of `length` bytes at `byteOffset` with `nClasses` size classes. Returns
 * null when not even one data page fits.
 */
export function computeGeometry(
  byteOffset: number,
  length: number,
  nClasses: number,
): Geometry | null {
  length = Math.floor(length / 8) * 8;
  const base = byteOffset / 4;
  const journalWord = base + L.HEADER_WORDS;
  const statsWord = journalWord + L.JOURNAL_CAPACITY * 2;
  const descWord = statsWord + nClasses * L.STAT_WORDS;
  const firstDesc = nClasses + 1 + L.FREE_BINS;
  const fixedEnd = (descWord + firstDesc * L.DESC_WORDS) * 4;
  const end = byteOffset + length;
  if (fixedEnd >= end) return null;
  let pages = Math.floor((end - fixedEnd) / (L.PAGE_SIZE + L.DESC_WORDS * 4));
  let dataStart = alignUp(fixedEnd + pages * L.DESC_WORDS * 4, L.PAGE_SIZE);
  while (pages > 0 && dataStart + pages * L.PAGE_SIZE > end) {
    pages--;
    dataStart = alignUp(fixedEnd + pages * L.DESC_WORDS * 4, L.PAGE_SIZE);
  }
  if (pages < 1) return null;
  return {
    base,
    length,
    journalWord,
    statsWord,
    descWord,
    firstDesc,
    freeSentinel: nClasses + 1,
    dataStart,
    pagesTotal: pages,
  };
}
