/**
 * Where every word of a slab pool lives. All indices are in 32-bit words of the WHOLE zone
 * buffer unless the name says "byte"; the pool sits anywhere in the zone (8-byte aligned).
 *
 * ```
 *  pool byteOffset (8-aligned)
 *  +--------------------------------------------------------------+
 *  | header: HEADER_WORDS words (magic, version, lock, waiters,     |
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

export const POOL_MAGIC = 0x534c4142; // 'SLAB'
export const POOL_VERSION = 1;

export const PAGE_SIZE = 4096;
export const PAGE_SHIFT = 12;

/** Header words, relative to the pool's first word. */
export const H_MAGIC = 0;
export const H_VERSION = 1;
/** Pool length in units of 8 bytes (a 4 GiB pool does not fit a byte count in 32 bits). */
export const H_LENGTH_DIV8 = 2;
/** Size-class mode: 0 = pow2, 1 = fine. */
export const H_MODE = 3;
/** The lock word: owner id, 0 = free. Only ever touched with Atomics. */
export const H_LOCK = 4;
/** Number of threads sleeping (or about to) on the lock futex. Atomics only. */
export const H_WAITERS = 5;
/** Entries in the undo journal. 0 = nothing to roll back. */
export const H_JOURNAL_COUNT = 6;
export const H_GENERATION = 7;
export const H_PAGES_TOTAL = 8;
/** Not journaled: recomputed from the descriptors after a takeover. */
export const H_PAGES_FREE = 9;
/**
 * Bit b (1..31) set when the free-run list for runs of exactly b pages is non-empty; bit 0 for
 * the list of runs of >= FREE_BINS pages. Derived (not journaled), recomputed after a takeover.
 */
export const H_FREE_BIN_MASK = 21;
export const H_DATA_START = 10;
export const H_DESC_START = 11;
export const H_N_CLASSES = 12;
/** 1 when the pool was created with SHMZONE_DEBUG=1: every process poisons freed memory. */
export const H_POISON = 13;
export const H_PAGE_REQS = 14;
export const H_PAGE_FAILS = 15;
export const H_LOCK_ACQUISITIONS = 16;
export const H_LOCK_CONTENDED = 17;
export const H_LOCK_SPINS = 18;
export const H_LOCK_SLEEPS = 19;
export const H_LOCK_RECOVERIES = 20;
export const HEADER_WORDS = 32;

/** Journal entries (two words each). One alloc or free writes at most MAX_OP_WRITES. */
export const JOURNAL_CAPACITY = 1024;
/**
 * Upper bound on journaled writes of one allocLocked/freeLocked, counted from the code.
 * Worst alloc: a new slab from a split run: allocPages 13 (unlink 4, remainder head 2, push 4,
 * tail 1, links 2) + MAP 1 + INFO 1 + class push 4 = 19. Worst free: the last chunk of a full
 * slab whose pages join both neighbours: bitmap 1 + class unlink 4 + freePages 22 (right:
 * unlink 4 + clear 2; left: unlink 4 + clear tail 2 + clear head 2; head 2; push 4; tail 2)
 * = 27. 40 leaves headroom; a test checks the real maximum.
 */
export const MAX_OP_WRITES = 40;

export const STAT_WORDS = 4;
export const S_TOTAL = 0;
export const S_USED = 1;
export const S_REQS = 2;
export const S_FAILS = 3;

/**
 * Free runs are kept in FREE_BINS lists by length: exact lengths 1..31, and one list for
 * >= 32 pages (first fit inside it). A request for n < 32 pages takes the first run of the
 * smallest non-empty bin >= n (found with one mask operation), so no search skips fragments.
 */
export const FREE_BINS = 32;

export const DESC_WORDS = 4;
export const D_INFO = 0;
export const D_MAP = 1;
export const D_NEXT = 2;
export const D_PREV = 3;

/** Descriptor types (INFO bits 0..3). 0 = inner page of some run (all four words zero). */
export const T_INNER = 0;
export const T_FREE = 1;
export const T_FREE_TAIL = 2;
export const T_RUN = 3;
export const T_SLAB = 4;
export const TYPE_MASK = 0xf;
export const CLASS_SHIFT = 4;
export const CLASS_MASK = 0xff;
export const USED_SHIFT = 12;
export const USED_ONE = 1 << USED_SHIFT;

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
  const journalWord = base + HEADER_WORDS;
  const statsWord = journalWord + JOURNAL_CAPACITY * 2;
  const descWord = statsWord + nClasses * STAT_WORDS;
  const firstDesc = nClasses + 1 + FREE_BINS;
  const fixedEnd = (descWord + firstDesc * DESC_WORDS) * 4;
  const end = byteOffset + length;
  if (fixedEnd >= end) return null;
  let pages = Math.floor((end - fixedEnd) / (PAGE_SIZE + DESC_WORDS * 4));
  let dataStart = alignUp(fixedEnd + pages * DESC_WORDS * 4, PAGE_SIZE);
  while (pages > 0 && dataStart + pages * PAGE_SIZE > end) {
    pages--;
    dataStart = alignUp(fixedEnd + pages * DESC_WORDS * 4, PAGE_SIZE);
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
