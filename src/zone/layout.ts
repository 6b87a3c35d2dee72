/**
 * Layout of a zone segment: the header at byte 0, the peer table after it, the slab pool from
 * the first page boundary after the peer table to the end of the segment.
 *
 * ```
 * byte 0      word:  0        1        2        3        4        5        6        7
 *            +--------+--------+--------+--------+--------+--------+--------+--------+
 *            | MAGIC  |VERSION |HDR_SIZE|SIZE_LO |SIZE_HI | STATE  |(resvd) |  ROOT  |
 * byte 32    +--------+--------+--------+--------+--------+--------+--------+--------+
 *            | FLAGS  |CR_PID  |CR_ST_LO|CR_ST_HI|CREATED |N_SLOTS |SLOT_SZ |PEER_OFF|
 * byte 64    +--------+--------+--------+--------+--------+--------+--------+--------+
 *            |TOKEN_AT|TOK_SIZE|POOL_OFF|TAG_LEN |NAME_LEN| NS_LEN | (reserved, 0)   |
 * byte 96    +--------+--------+--------+--------+--------+--------+--------+--------+
 *            | FLIGHT | CLEAN  | words 26..31 reserved, 0                            |
 * byte 128   +--------+--------+--------+--------+--------+--------+--------+--------+
 *            | TAG (UTF-8, up to 64 bytes) | NAME (64 bytes) | NAMESPACE (64 bytes) |
 * byte 320   +-----------------------------+-----------------+----------------------+
 *            | reserved, 0                                                          |
 * byte 512   +----------------------------------------------------------------------+
 *            | PEER TABLE: N_SLOTS slots of SLOT_SZ bytes (below)                   |
 * PEER_OFF + +----------------------------------------------------------------------+
 * N*SLOT_SZ  | padding to the next 4 KiB page                                       |
 * POOL_OFF   +----------------------------------------------------------------------+
 *            | slab pool (src/slab/), SIZE - POOL_OFF bytes                         |
 * SIZE       +----------------------------------------------------------------------+
 *
 * peer slot  word:  0        1        2        3        4        5        6        7
 *            +--------+--------+--------+--------+--------+--------+--------+--------+
 *            | STATE  |  PID   |THREADID|  TID   |ST_LO   |ST_HI   |ATTACHED|(resvd) |
 * +32        +--------+--------+--------+--------+--------+--------+--------+--------+
 *            | liveness token: robust process-shared pthread mutex, TOK_SIZE bytes   |
 *            +----------------------------------------------------------------------+
 * ```
 *
 * All words are unsigned 32-bit, native endianness (zones never leave the host). SIZE is
 * split in two words because 4 GiB (the largest zone) needs 33 bits. CR_ST / ST are process
 * start times in clock ticks since boot (`/proc/<pid>/stat` field 22), split the same way.
 * CREATED and ATTACHED are seconds since the epoch. ROOT is a byte offset into the zone (0 =
 * unset), nginx's `shpool->data`. STATE, ROOT, MAGIC and peer STATE are only accessed
 * with Atomics; the rest is written once by the creator before MAGIC is published. In a
 * blank header (MAGIC 0) CR_PID 0xffffffff marks a segment claimed for removal after its
 * creator died (startup.ts claimBlank).
 */
import { PAGE_SIZE, roundToPages } from './size.js';

/** "SHMZ" read as a little-endian 32-bit word. */
export const ZONE_MAGIC = 0x5a4d4853;
/**
 * Bumped on every change of this layout, the slab pool's or a dict's that a process of
 * another version would misread (owner ids with their slot's generation, one sleeper bit per
 * owner slot, the `fine` size classes, thread caches and their block layout (its held chunk
 * too), the poison marker, where the header words that lock-free readers load sit, the dict's
 * key versions, its one-word index slots); an attacher refuses another version
 * (ERR_ZONE_VERSION, before the pool's own check could call a durable file damaged). The
 * history of each bump is in docs/performance.md.
 */
export const LAYOUT_VERSION = 10;

// Header word indices.
export const H_MAGIC = 0;
export const H_VERSION = 1;
export const H_HEADER_SIZE = 2;
export const H_SIZE_LO = 3;
export const H_SIZE_HI = 4;
export const H_STATE = 5;
// Word 6 is reserved (0): the zone's generation is the slab pool's (`zone.generation`).
export const H_ROOT = 7;
export const H_FLAGS = 8;
export const H_CREATOR_PID = 9;
export const H_CREATOR_START_LO = 10;
export const H_CREATOR_START_HI = 11;
export const H_CREATED_AT = 12;
export const H_PEER_SLOTS = 13;
export const H_PEER_SLOT_SIZE = 14;
export const H_PEER_TABLE = 15;
export const H_TOKEN_AT = 16;
export const H_TOKEN_SIZE = 17;
export const H_POOL_OFFSET = 18;
export const H_TAG_LENGTH = 19;
export const H_NAME_LENGTH = 20;
export const H_NAMESPACE_LENGTH = 21;
/** Words in the numeric part of the header. */
/**
 * Flight word: bumped (then futex-woken) whenever a getOrSet load on the zone ends, so that
 * waiters in every process re-check their key (src/dict/flight.ts). Atomics only; wraps.
 */
export const H_FLIGHT_WAKE = 24;
/**
 * Durable zones (files): CLEAN_MARK when the last user stopped cleanly after writing the zone
 * back; every user clears it (and writes the header back) when it joins.
 */
export const H_CLEAN = 25;
export const CLEAN_MARK = 0x4e4c4343;
export const H_WORDS = 32;

// Byte offsets and lengths of the string fields.
export const TAG_AT = 128;
export const NAME_AT = 192;
export const NAMESPACE_AT = 256;
/** Longest tag, in UTF-8 bytes (names and namespaces are at most 64 ASCII characters). */
export const STRING_FIELD_BYTES = 64;
/** Bytes of the fixed header; the peer table starts here. */
export const HEADER_SIZE = 512;

/** FLAGS bit: the zone outlives its processes (`persist: true`). */
export const FLAG_PERSIST = 0x1;
/**
 * FLAGS bit: a threads-only zone (`mode: 'threads'`): an ordinary SharedArrayBuffer of one
 * process, whose peer tokens are Atomics words rather than the addon's mutexes (liveness.ts).
 */
export const FLAG_THREADS_ONLY = 0x2;
/**
 * FLAGS bit: peer tokens are bytes of a lock file (`liveness: 'lockfile'`, the only kind on
 * macOS; liveness.ts, lock-files.ts), not the addon's robust mutexes.
 */
export const FLAG_LOCKFILE_LIVENESS = 0x4;

/**
 * Bytes of a peer slot's liveness token: the addon's kTokenSize (native/shmzone.h; the loader
 * checks that the addon agrees), fixed so that the geometry is known without the addon.
 */
export const TOKEN_SIZE = 64;

/** Values of the STATE word. */
export const enum ZoneState {
  /** Header written, pool or `init` still running. Attachers wait. */
  Creating = 1,
  /** Fully initialised; attachers may use it. */
  Ready = 2,
  /** Abandoned: its creator died before ready and someone took over creation. Never reused. */
  Corrupt = 3,
  /** Its last user is removing it; newcomers retry by name. */
  Closing = 4,
}

/** Peer slots per zone: threads (over all processes) that can use one zone at a time. */
export const PEER_SLOTS = 128;
// Peer slot word indices.
export const P_STATE = 0;
export const P_PID = 1;
export const P_THREAD_ID = 2;
export const P_TID = 3;
export const P_START_LO = 4;
export const P_START_HI = 5;
export const P_ATTACHED_AT = 6;
/**
 * Generation of the slot: the owner id of its holder is 1 + slot + PEER_SLOTS * GEN. Moves on
 * (modulo OWNER_GENERATIONS) each time the slot is vacated, so an id is never handed out twice
 * in a row; kept when the rest of the slot is cleared.
 */
export const P_GEN = 7;
/** Generations per slot before ids repeat: keeps every owner id below 2^31 (a positive int32). */
export const OWNER_GENERATIONS = 2 ** 24;
/** Bytes of a slot's numeric fields; the token follows, 32-byte aligned. */
export const PEER_FIELDS_SIZE = 32;

/** Values of a peer slot's STATE word. */
export const enum PeerState {
  Free = 0,
  Live = 1,
  /**
   * Claimed by a starting process that has not yet decided, under the pool lock, to use the
   * zone: it does not count as a user, so two processes starting at once over a stale zone do
   * not each keep it alive for the other (test/zone/50, "two racing starts").
   */
  Joining = 2,
  /**
   * Its holder died and a reaper (or a claimer taking the slot over) holds its token while
   * clearing it, which can wait for the pool lock: not a user, so a starter deciding under
   * that lock does not count the reaper's hold as a live holder; still occupied, so if the
   * reaper dies too, the next one takes it over (test/zone/50, "a whole process group").
   */
  Reaped = 3,
}

/** Geometry derived from the addon's token size; recorded in the header and checked on attach. */
export interface ZoneGeometry {
  slotSize: number;
  tokenAt: number;
  peerTable: number;
  poolOffset: number;
}

/** Computes where the peer table, tokens and pool go for a given token size (bytes). */
export function zoneGeometry(tokenSize: number): ZoneGeometry {
  // Slots are multiples of 32 bytes starting at byte 512, so the token, 32 bytes into its
  // slot, is 32-byte aligned: more than any pthread_mutex_t needs (8 on Linux x86-64/arm64).
  const slotSize = Math.ceil((PEER_FIELDS_SIZE + tokenSize) / 32) * 32;
  const peerTable = HEADER_SIZE;
  const poolOffset = roundToPages(peerTable + PEER_SLOTS * slotSize);
  return { slotSize, tokenAt: PEER_FIELDS_SIZE, peerTable, poolOffset };
}

/** Byte offset of peer slot `slot` (0-based). */
export function slotOffset(geometry: ZoneGeometry, slot: number): number {
  return geometry.peerTable + slot * geometry.slotSize;
}

export { PAGE_SIZE };
