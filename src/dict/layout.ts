/**
 * Where every word of a SharedDict lives. The dict keeps all of its state in slab chunks of
 * its zone; the zone header's ROOT word holds the byte offset of the dict header.
 *
 * Links between dict structures are *refs*: a byte offset into the zone divided by 8 (every
 * slab chunk is 8-byte aligned). A u32 ref reaches 32 GiB, so 4 GiB zones fit with room to
 * spare. Ref 0 means "none": offset 0 is the zone header, never a chunk. Word index of a ref
 * = ref * 2 (a multiplication, not a shift, so indices above 2^31 stay correct).
 *
 * Dict header (one chunk, HEADER_BYTES, two cache lines):
 * ```
 * word  0        1        2        3        4        5        6        7
 *      +--------+--------+--------+--------+--------+--------+--------+--------+
 *      | MAGIC  |VERSION | TABLE  |  MASK  |FLUSHGEN| REFBITS|REF_MASK| STATS  |  line 0:
 *      +--------+--------+--------+--------+--------+--------+--------+--------+  what
 *      |  SEQ   |POOL_GEN|REPAIRED|VERSIONS|VER_MASK| (reserved, 0)            |  readers load
 *      +--------+--------+--------+--------+--------+--------+--------+--------+
 *   16 | COUNT  |LRU_HEAD|LRU_TAIL| BYTES8 |EVICTED |EXPIRED | GRAVE  |  SETS  |  line 1:
 *      +--------+--------+--------+--------+--------+--------+--------+--------+  what
 *      | (reserved, 0)                                                         |  writers bump
 *      +--------+--------+--------+--------+--------+--------+--------+--------+
 * ```
 * Lock-free readers load TABLE, MASK and FLUSHGEN on every get; line 0 changes only when the
 * dict is built, resized, flushed or repaired. Line 1 changes on every store. Kept apart so
 * that another process's set does not cost each reader a cache miss on its next get
 * (bench/dict/contention.js, docs/performance.md "SharedDict C1").
 * TABLE/REFBITS/STATS/SEQ are refs of the areas below; MASK = slots - 1; COUNT = entries in
 * the index (live, and expired but not yet reclaimed); BYTES8 = bytes of entry and list
 * element chunks / 8; EVICTED/EXPIRED count entries removed by eviction / by expiry (u32,
 * they wrap). FLUSHGEN is the flush generation: an entry whose GEN differs is expired
 * (flushAll is O(1)). GRAVE heads a list (through E_NEXT) of list entries already unlinked
 * from the index and the LRU whose elements are being freed one commit at a time; whoever
 * takes the lock next finishes the job, so a crash there leaks nothing. REPAIRED is the pool's
 * takeover count (`pool.recoveriesWord`) the dict last repaired itself after (seqlock.ts,
 * "Recovery"). SETS counts stores. Every header word is written with `pool.write32` under the
 * lock, except SETS (see D_SETS).
 *
 * Index table (TABLE): `MASK + 1` one-word slots, open addressing, linear probing,
 * backward-shift deletion, no tombstones:
 * ```
 *      +-------------+------------------+
 *      | hash's top  |       REF        |   0 = empty slot; REF in the low `slotRefBits`
 *      +-------------+------------------+   bits, the key hash's top bits above it
 * ```
 * One word, not the hash and the ref in two: at C1's 100,000 keys the index is 1 MiB instead
 * of 2, and a get's slot load misses the caches less often (bench/dict/floor.js, rows "C1
 * loads, chained" and "C1, two-word slots"; docs/performance.md "One-word slots"). The top bits filter the probes (a
 * 64 MiB zone keeps 9 of them, a 4 GiB zone 3); a match is then checked against the entry's
 * own HASH word and key. Writers that need a slot's full hash (a backward shift, a resize)
 * read it from the entry. A slot is written with one store, so no reader sees half of one.
 *
 * Entry (one chunk per key, ENTRY_HEADER_BYTES + align8(keyLen) + value bytes):
 * ```
 * word  0        1        2        3        4        5        6        7        8        9
 *      +--------+--------+--------+--------+--------+--------+--------+--------+--------+--------+
 *      |  HASH  |  PREV  |  NEXT  |  META  |  VLEN  | FLAGS  | EXP_LO | EXP_HI |  GEN   |(resvd) |
 *      +--------+--------+--------+--------+--------+--------+--------+--------+--------+--------+
 *  +40 | key bytes ... padded to 8 | value bytes (8-aligned: a number is one float64)          |
 *      +--------------------------------------------------------------------------------------+
 * ```
 * PREV/NEXT: LRU links (refs; head = most recently written). META: key length in bits 0..15,
 * value type in bits 16..23. VLEN: value bytes, or element count for a list. EXP: absolute
 * expiry in ms since the epoch as hi * 2^32 + lo, 0 = never. For a list the value area is two
 * words: LIST_HEAD, LIST_TAIL (refs of elements).
 *
 * List element (one chunk per element, ELEMENT_HEADER_BYTES + bytes):
 * ```
 * word  0        1        2        3
 *      +--------+--------+--------+--------+
 *      |  PREV  |  NEXT  |  LEN   |  TYPE  |  then the bytes (8-aligned)
 *      +--------+--------+--------+--------+
 * ```
 *
 * SEQ area: seqlock words, one per 64-byte cache line so that a writer bumping one stripe does
 * not invalidate the lines readers of other stripes spin on. Lines 1..SEQ_STRIPES are the
 * per-hash stripes; a reader checks only its key's stripe (seqlock.ts). Line 0 is unused.
 * Odd = a writer is inside. Only ever accessed with Atomics, never journaled.
 *
 * STATS area: STAT_LINES cache lines, one per reader stripe (owner id modulo STAT_LINES):
 * float64 hits at word 0..1, float64 misses at word 2..3. Readers bump their own line with a
 * plain add (no lock, no Atomics): two peers sharing a line may lose a count, nothing else.
 *
 * VERSIONS: VER_MASK + 1 u32 words (a power of two), one per key bucket (`hash & VER_MASK`).
 * Every writer section that changes what a get of a key returns (store, delete, evict, expire,
 * incr, list change) adds 1 to its bucket's word under the lock, right after entering the
 * key's stripe (`bumpKeyVersion`, versions.ts). A per-process local cache keeps a decoded value
 * with the word it saw and serves it while the word is unchanged (local-cache.ts). Never
 * journaled, never freed while the dict lives; a recovery makes every local cache start over.
 *
 * REFBITS: one byte per hash bucket (`hash & REF_MASK`), set to 1 by lock-free readers on a
 * hit; the eviction clock gives an entry whose bit is set a second chance. Never freed while
 * the dict lives, so a reader storing into it can never hit reused memory.
 */

export const DICT_MAGIC = 0x54434453; // 'SDCT' little-endian
/**
 * Bumped whenever a reader or writer of another version would misread this one's words, even
 * with the same layout (which seqlock words a shift or a resize enters counts). A header of
 * another version is never adopted (`dictCurrent`, init.ts); the history is in
 * docs/performance.md.
 */
export const DICT_VERSION = 5;

// Header words (relative to the header's first word). Line 0: read by lock-free readers.
export const D_MAGIC = 0;
export const D_VERSION = 1;
export const D_TABLE = 2;
export const D_MASK = 3;
export const D_FLUSH_GEN = 4;
export const D_REFBITS = 5;
export const D_REF_MASK = 6;
export const D_STATS = 7;
export const D_SEQ = 8;
/** Pool generation (`pool.stats().generation`) the dict was built in: detects a reset pool. */
export const D_POOL_GEN = 9;
/**
 * The pool's takeover count when the dict last repaired itself after a recovery (stripes
 * moved forward, graveyard finished).
 */
export const D_REPAIRED = 10;
/** Ref of the VERSIONS area, and its word count - 1 (local-cache.ts). */
export const D_VERSIONS = 11;
export const D_VER_MASK = 12;
// Line 1: written by every store.
export const D_COUNT = 16;
export const D_LRU_HEAD = 17;
export const D_LRU_TAIL = 18;
export const D_BYTES8 = 19;
export const D_EVICTED = 20;
export const D_EXPIRED = 21;
/** Graveyard: unlinked list entries whose elements are still being freed (via E_NEXT). */
export const D_GRAVE = 22;
/**
 * Stores made (every set, safeSet, add, replace and incr that stored a value), a statistic:
 * bumped under the lock with a plain store and never journaled, so a writer killed after the
 * bump and rolled back leaves it one too high. Guarded by test/dict/31.sets-counter.test.ts.
 */
export const D_SETS = 23;
export const HEADER_WORDS = 32;
export const HEADER_BYTES = HEADER_WORDS * 4;

// Index slots (one word each, see "Index table" above).
export const SLOT_WORDS = 1;

/**
 * Bits of a slot that hold the ref in a zone of `zoneBytes`: enough for every 8-byte unit of
 * the zone (29 for 4 GiB). The rest hold the key hash's top bits. Every process of a zone
 * derives the same value from the zone's size.
 */
export function slotRefBits(zoneBytes: number): number {
  const units = Math.ceil(zoneBytes / 8);
  return units <= 2 ? 1 : 32 - Math.clz32(units - 1);
}

/** Mask of a slot's REF bits for a zone of `zoneBytes` (`slot & mask` is the ref). */
export function slotRefMask(zoneBytes: number): number {
  const bits = slotRefBits(zoneBytes);
  return bits >= 32 ? 0xffffffff : (2 ** bits - 1) >>> 0;
}
export const TABLE_MIN_SLOTS = 1024;
/** Grow when COUNT + 1 would exceed slots * GROW_NUM / GROW_DEN (0.75). */
export const GROW_NUM = 3;
export const GROW_DEN = 4;
/** Refuse an insert (treat as no memory) when COUNT + 1 would exceed slots * 15/16. */
export const FULL_NUM = 15;
export const FULL_DEN = 16;

// Entry words.
export const E_HASH = 0;
export const E_PREV = 1;
export const E_NEXT = 2;
export const E_META = 3;
export const E_VLEN = 4;
export const E_FLAGS = 5;
export const E_EXP_LO = 6;
export const E_EXP_HI = 7;
export const E_GEN = 8;
export const ENTRY_HEADER_WORDS = 10;
export const ENTRY_HEADER_BYTES = ENTRY_HEADER_WORDS * 4;
export const META_KEYLEN_MASK = 0xffff;
export const META_TYPE_SHIFT = 16;
export const META_TYPE_MASK = 0xff;
/** Value area of a list entry: two refs. */
export const LIST_HEAD = 0;
export const LIST_TAIL = 1;
export const LIST_VALUE_BYTES = 8;

// List element words.
export const L_PREV = 0;
export const L_NEXT = 1;
export const L_LEN = 2;
export const L_TYPE = 3;
export const ELEMENT_HEADER_WORDS = 4;
export const ELEMENT_HEADER_BYTES = ELEMENT_HEADER_WORDS * 4;

// Seqlock area.
export const LINE_WORDS = 16;
export const SEQ_STRIPES = 64;
/** Stripe of a hash: its top 6 bits (the table index uses the low bits). */
export const SEQ_STRIPE_SHIFT = 26;
export const SEQ_BYTES = (1 + SEQ_STRIPES) * LINE_WORDS * 4;

// Stats area.
export const STAT_LINES = 64;
export const STAT_HITS_F64 = 0;
export const STAT_MISSES_F64 = 1;
export const STATS_BYTES = STAT_LINES * LINE_WORDS * 4;

/**
 * Refbit bytes: a power of two, about one per 256 zone bytes, clamped to 64 KiB so the array
 * stays in L2 (every lock-free hit reads its byte; a 1 MiB array cost ~90 ns per get at
 * 100,000 keys in cache and TLB misses). Keys share bytes beyond that: a cold key sharing a
 * hot key's byte gets at most SECOND_CHANCES extra rounds, which is the approximation we pay.
 */
export const REFBITS_MIN = 4096;
export const REFBITS_MAX = 1 << 16;

/**
 * Version words: one per refbit byte (up to 256 KiB). Keys share a word beyond that; a store
 * to one then also makes the local caches re-read the keys it shares with (a miss, never a
 * stale value). A quarter as many words made C1 with 10% sets slower with the local cache
 * than without (docs/performance.md, "localCache").
 */
export function versionsFor(refbits: number): number {
  return refbits;
}

// Value types (Lua's codes where Lua has the type).
export const T_BOOLEAN = 1;
export const T_NUMBER = 3;
export const T_STRING = 4;
export const T_LIST = 5;
export const T_BYTES = 6;
/** Structured values, stored as the bytes of a codec (src/dict/values.ts): v8, JSON, the user's. */
export const T_V8 = 7;
export const T_JSON = 8;
export const T_CUSTOM = 9;

/** Keys are at most this many bytes (the META key length field). */
export const MAX_KEY_BYTES = 0xffff;

/** Round up to a multiple of 8. */
export function align8(n: number): number {
  // `n & 7` keeps the low bits even above 2^31, where `(n + 7) & ~7` would wrap.
  return n + ((8 - (n & 7)) & 7);
}

/** Largest refbits size for a zone of `capacity` bytes. */
export function refbitsFor(capacity: number): number {
  let n = REFBITS_MIN;
  while (n < REFBITS_MAX && n * 256 < capacity) n *= 2;
  return n;
}
