/**
 * Reading, validating and writing the zone header (see layout.ts for the diagram).
 *
 * The creator writes every static field first, then the peer table's tokens, then publishes
 * STATE = creating and MAGIC last with `Atomics.store`: a reader that sees the magic sees a
 * complete header. A reader validates every field (magic, version, sizes, every offset
 * against the mapping's length, string lengths, identity) before it uses any offset, so a
 * truncated, corrupt or hostile segment yields a ZoneError, never an out-of-bounds access.
 */
import { Buffer } from 'node:buffer';
import { ZoneError } from '../errors.js';
import {
  CLEAN_MARK,
  FLAG_PERSIST,
  FLAG_LOCKFILE_LIVENESS,
  FLAG_THREADS_ONLY,
  H_CLEAN,
  H_CREATED_AT,
  H_CREATOR_PID,
  H_CREATOR_START_HI,
  H_CREATOR_START_LO,
  H_FLAGS,
  H_HEADER_SIZE,
  H_MAGIC,
  H_NAMESPACE_LENGTH,
  H_NAME_LENGTH,
  H_PEER_SLOTS,
  H_PEER_SLOT_SIZE,
  H_PEER_TABLE,
  H_POOL_OFFSET,
  H_ROOT,
  H_SIZE_HI,
  H_SIZE_LO,
  H_STATE,
  H_TAG_LENGTH,
  H_TOKEN_AT,
  H_TOKEN_SIZE,
  H_VERSION,
  H_WORDS,
  HEADER_SIZE,
  LAYOUT_VERSION,
  NAMESPACE_AT,
  NAME_AT,
  PEER_SLOTS,
  STRING_FIELD_BYTES,
  TAG_AT,
  ZONE_MAGIC,
  ZoneState,
  type ZoneGeometry,
} from './layout.js';

const TWO_32 = 2 ** 32;

/** What the creator records. */
export interface HeaderInit {
  size: number;
  tag: string;
  name: string;
  namespace: string;
  persist: boolean;
  creatorPid: number;
  /** Clock ticks since boot; 0 when unknown. */
  creatorStart: number;
  geometry: ZoneGeometry;
  tokenSize: number;
  /** A threads-only zone (FLAG_THREADS_ONLY): its peer tokens are Atomics words. */
  threadsOnly?: boolean;
  /** Peer tokens in a lock file (FLAG_LOCKFILE_LIVENESS). */
  lockFileLiveness?: boolean;
}

/** A validated header. */
export interface HeaderInfo {
  size: number;
  tag: string;
  name: string;
  namespace: string;
  persist: boolean;
  state: ZoneState;
  creatorPid: number;
  creatorStart: number;
  /** Seconds since the epoch. */
  createdAt: number;
  geometry: ZoneGeometry;
}

/** What `readHeader` found. */
export type HeaderRead =
  /** MAGIC still 0: the creator has not published the header yet (or never will). */
  | { kind: 'blank'; creatorPid: number; creatorStart: number }
  | { kind: 'valid'; header: HeaderInfo };

/** Expected identity and geometry of the zone being opened. */
export interface HeaderExpectation {
  name: string;
  namespace: string;
  /** The geometry this build computes; a different one means another build or a forgery. */
  geometry: ZoneGeometry;
  tokenSize: number;
  /** Segment name, for messages. */
  segment: string;
}

/** The numeric header words. */
export function headerWords(buffer: SharedArrayBuffer): Uint32Array {
  return new Uint32Array(buffer, 0, H_WORDS);
}

/** Validates a UTF-8 tag: a string of at most 64 bytes. Returns its encoded length. */
export function tagByteLength(tag: string): number {
  return Buffer.byteLength(tag, 'utf8');
}

function writeString(buffer: SharedArrayBuffer, at: number, value: string): number {
  const bytes = Buffer.from(value, 'utf8');
  new Uint8Array(buffer, at, STRING_FIELD_BYTES).set(bytes);
  return bytes.length;
}

function readString(buffer: SharedArrayBuffer, at: number, length: number): string {
  return Buffer.from(buffer, at, length).toString('utf8');
}

/**
 * Writes every static field of a fresh (zero-filled) segment. Does not publish it: call
 * {@link publishHeader} after the peer table is ready.
 */
export function writeHeader(buffer: SharedArrayBuffer, init: HeaderInit): void {
  const w = headerWords(buffer);
  // The creator's identity goes first so that a reader of a still-blank header can tell
  // whether its creator is alive.
  w[H_CREATOR_PID] = init.creatorPid;
  w[H_CREATOR_START_LO] = init.creatorStart % TWO_32;
  w[H_CREATOR_START_HI] = Math.floor(init.creatorStart / TWO_32);
  w[H_VERSION] = LAYOUT_VERSION;
  w[H_HEADER_SIZE] = HEADER_SIZE;
  w[H_SIZE_LO] = init.size % TWO_32;
  w[H_SIZE_HI] = Math.floor(init.size / TWO_32);
  w[H_ROOT] = 0;
  w[H_FLAGS] =
    (init.persist ? FLAG_PERSIST : 0) |
    (init.threadsOnly ? FLAG_THREADS_ONLY : 0) |
    (init.lockFileLiveness ? FLAG_LOCKFILE_LIVENESS : 0);
  w[H_CREATED_AT] = Math.floor(Date.now() / 1000);
  w[H_PEER_SLOTS] = PEER_SLOTS;
  w[H_PEER_SLOT_SIZE] = init.geometry.slotSize;
  w[H_PEER_TABLE] = init.geometry.peerTable;
  w[H_TOKEN_AT] = init.geometry.tokenAt;
  w[H_TOKEN_SIZE] = init.tokenSize;
  w[H_POOL_OFFSET] = init.geometry.poolOffset;
  w[H_TAG_LENGTH] = writeString(buffer, TAG_AT, init.tag);
  w[H_NAME_LENGTH] = writeString(buffer, NAME_AT, init.name);
  w[H_NAMESPACE_LENGTH] = writeString(buffer, NAMESPACE_AT, init.namespace);
}

/** Publishes a written header: STATE = creating, then MAGIC (readers check MAGIC first). */
export function publishHeader(buffer: SharedArrayBuffer): void {
  const w = headerWords(buffer);
  // Both stores are sequentially consistent: a reader that loads MAGIC with Atomics and sees
  // it also sees every plain write above and STATE.
  Atomics.store(w, H_STATE, ZoneState.Creating);
  Atomics.store(w, H_MAGIC, ZONE_MAGIC);
}

function bad(expect: HeaderExpectation, what: string): ZoneError {
  return new ZoneError(
    'ERR_ZONE_HEADER',
    `The segment ${expect.segment} does not hold a valid shmzone header (${what}); ` +
      `it was not created by this version of shmzone, or it is damaged. Refusing to use it.`,
  );
}

/** Whether the zone in `buffer` is threads-only (FLAG_THREADS_ONLY, `mode: 'threads'`). */
export function isThreadsOnlyZone(buffer: SharedArrayBuffer): boolean {
  return (headerWords(buffer)[H_FLAGS] & FLAG_THREADS_ONLY) !== 0;
}

/**
 * For a zone with lock-file liveness (FLAG_LOCKFILE_LIVENESS): what names its lock file (the
 * segment, the creator's pid and the creation second); undefined for other zones.
 */
export function lockFileIdentity(
  buffer: SharedArrayBuffer,
): { segment: string; creatorPid: number; createdAt: number } | undefined {
  const w = headerWords(buffer);
  if ((w[H_FLAGS] & FLAG_LOCKFILE_LIVENESS) === 0) return undefined;
  const names = writtenNames(buffer); // the creator asks before it publishes the header
  if (names === undefined) return undefined;
  return {
    segment: `/shmzone.${names.namespace}.${names.zone}`,
    creatorPid: w[H_CREATOR_PID],
    createdAt: w[H_CREATED_AT],
  };
}

/**
 * The zone a mapping's header names, read before anything is known about it (finding SysV
 * zones, whose keys do not spell their names): undefined unless MAGIC is set and both names
 * are well-formed. Nothing else is trusted: the caller checks the names against where it
 * found the mapping, then validates the whole header with {@link readHeader}.
 */
export function peekZoneName(
  buffer: SharedArrayBuffer,
): { namespace: string; zone: string } | undefined {
  if (buffer.byteLength < HEADER_SIZE) return undefined;
  if (Atomics.load(headerWords(buffer), H_MAGIC) !== ZONE_MAGIC) return undefined;
  return writtenNames(buffer);
}

/** The names a written header holds (published or not), when well-formed. */
function writtenNames(buffer: SharedArrayBuffer): { namespace: string; zone: string } | undefined {
  const w = headerWords(buffer);
  if (w[H_NAME_LENGTH] > STRING_FIELD_BYTES || w[H_NAMESPACE_LENGTH] > STRING_FIELD_BYTES) {
    return undefined;
  }
  const zone = readString(buffer, NAME_AT, w[H_NAME_LENGTH]);
  const namespace = readString(buffer, NAMESPACE_AT, w[H_NAMESPACE_LENGTH]);
  return /^[A-Za-z0-9_-]+$/.test(zone) && /^[A-Za-z0-9_-]+$/.test(namespace)
    ? { namespace, zone }
    : undefined;
}

/**
 * Reads and validates the header of a mapping. Throws ZoneError `ERR_ZONE_HEADER` (garbage,
 * truncated, offsets outside the mapping, wrong name), `ERR_ZONE_VERSION` (another layout
 * version). Tag and size against the declaration are the caller's check.
 */
export function readHeader(buffer: SharedArrayBuffer, expect: HeaderExpectation): HeaderRead {
  const length = buffer.byteLength;
  if (length < HEADER_SIZE) throw bad(expect, `only ${length} bytes long`);
  const w = headerWords(buffer);
  const magic = Atomics.load(w, H_MAGIC);
  if (magic === 0) {
    const creatorStart = w[H_CREATOR_START_LO] + w[H_CREATOR_START_HI] * TWO_32;
    return { kind: 'blank', creatorPid: w[H_CREATOR_PID], creatorStart };
  }
  if (magic !== ZONE_MAGIC) throw bad(expect, `magic 0x${magic.toString(16)}`);
  const version = w[H_VERSION];
  if (version !== LAYOUT_VERSION) {
    throw new ZoneError(
      'ERR_ZONE_VERSION',
      `The segment ${expect.segment} has layout version ${version}; this shmzone reads ` +
        `version ${LAYOUT_VERSION}. Stop the processes using it (or remove it) before upgrading.`,
    );
  }
  if (w[H_HEADER_SIZE] !== HEADER_SIZE) throw bad(expect, `header size ${w[H_HEADER_SIZE]}`);
  const size = w[H_SIZE_LO] + w[H_SIZE_HI] * TWO_32;
  if (size !== length) {
    throw bad(expect, `it records ${size} bytes but is ${length} bytes long: truncated or resized`);
  }
  const g = expect.geometry;
  if (
    w[H_PEER_SLOTS] !== PEER_SLOTS ||
    w[H_PEER_SLOT_SIZE] !== g.slotSize ||
    w[H_PEER_TABLE] !== g.peerTable ||
    w[H_TOKEN_AT] !== g.tokenAt ||
    w[H_TOKEN_SIZE] !== expect.tokenSize ||
    w[H_POOL_OFFSET] !== g.poolOffset
  ) {
    throw bad(expect, 'peer table or pool geometry differs from this build');
  }
  if (g.poolOffset >= length) throw bad(expect, `pool offset ${g.poolOffset} beyond the end`);
  const state = Atomics.load(w, H_STATE);
  if (state < ZoneState.Creating || state > ZoneState.Closing) throw bad(expect, `state ${state}`);
  const root = Atomics.load(w, H_ROOT);
  if (root !== 0 && (root < g.poolOffset || root >= length)) throw bad(expect, `root ${root}`);
  for (const word of [H_TAG_LENGTH, H_NAME_LENGTH, H_NAMESPACE_LENGTH]) {
    if (w[word] > STRING_FIELD_BYTES) throw bad(expect, 'string field too long');
  }
  const name = readString(buffer, NAME_AT, w[H_NAME_LENGTH]);
  const namespace = readString(buffer, NAMESPACE_AT, w[H_NAMESPACE_LENGTH]);
  if (name !== expect.name || namespace !== expect.namespace) {
    throw bad(expect, `it names zone "${name}" of namespace "${namespace}"`);
  }
  return {
    kind: 'valid',
    header: {
      size,
      tag: readString(buffer, TAG_AT, w[H_TAG_LENGTH]),
      name,
      namespace,
      persist: (w[H_FLAGS] & FLAG_PERSIST) !== 0,
      state,
      creatorPid: w[H_CREATOR_PID],
      creatorStart: w[H_CREATOR_START_LO] + w[H_CREATOR_START_HI] * TWO_32,
      createdAt: w[H_CREATED_AT],
      geometry: g,
    },
  };
}

/** Live accessors for the header words that change after creation. */
export class HeaderView {
  private readonly words: Uint32Array;

  constructor(buffer: SharedArrayBuffer) {
    this.words = headerWords(buffer);
  }

  get state(): ZoneState {
    return Atomics.load(this.words, H_STATE);
  }

  set state(value: ZoneState) {
    // Published with a full barrier: attachers poll it without a lock.
    Atomics.store(this.words, H_STATE, value);
  }

  /** Durable zones: whether the last user stopped cleanly (see H_CLEAN). */
  get clean(): boolean {
    return Atomics.load(this.words, H_CLEAN) === CLEAN_MARK;
  }

  set clean(value: boolean) {
    Atomics.store(this.words, H_CLEAN, value ? CLEAN_MARK : 0);
  }

  /** Byte offset into the zone of the user's root structure, 0 = unset. */
  get root(): number {
    return Atomics.load(this.words, H_ROOT);
  }

  set root(offset: number) {
    // Readers in other processes load it without the lock: publish it atomically, after the
    // structure it points to was written.
    Atomics.store(this.words, H_ROOT, offset);
  }
}
