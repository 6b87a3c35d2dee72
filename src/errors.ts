/**
 * Every error shmzone throws on purpose.
 *
 * One base class with a stable string `code` (tests and callers branch on `code`, never on
 * message text) and one subclass per layer. OS failures keep the shape of Node's own `fs`
 * errors: `code` is the errno name (`ENOENT`, `ENOSPC`, ...), plus `errno`, `syscall`, `path`.
 *
 * `instanceof` is branded with `Symbol.for` so that it still answers correctly when two copies
 * of the package are loaded (a worker bundling its own copy, a monorepo with two versions).
 */

/**
 * Every code a shmzone error carries, except the errno names (`ENOSPC`, `EACCES`, ...) of a
 * {@link SegmentError} from a failed OS call. docs/errors.md has a row for each and nothing
 * else (test/errors/20.codes.test.ts); constructors take only these, so a throw site cannot
 * invent an undocumented code.
 */
export const ERROR_CODES = [
  // Zone registry, names, headers and start-up (src/zone/)
  'ERR_ZONE_CLOSED',
  'ERR_ZONE_CREATOR_DIED',
  'ERR_ZONE_HANDLE',
  'ERR_ZONE_HEADER',
  'ERR_ZONE_IN_USE',
  'ERR_ZONE_LOCK_BUSY',
  'ERR_ZONE_MISMATCH',
  'ERR_ZONE_NAME',
  'ERR_ZONE_NAMESPACE',
  'ERR_ZONE_NOT_STARTED',
  'ERR_ZONE_OPTIONS',
  'ERR_ZONE_PEERS_FULL',
  'ERR_ZONE_ROOT',
  'ERR_ZONE_SIZE',
  'ERR_ZONE_SIZE_CONFLICT',
  'ERR_ZONE_STARTED',
  'ERR_ZONE_TAG',
  'ERR_ZONE_THREAD_SLOTS',
  'ERR_ZONE_TIMEOUT',
  'ERR_ZONE_UNKNOWN',
  'ERR_ZONE_UNREADABLE',
  'ERR_ZONE_UNSIZED',
  'ERR_ZONE_VERSION',
  // Segments: the addon and src/zone/segment.ts; OS failures use the errno name instead
  'ERR_SEGMENT',
  'ERR_SEGMENT_MODE',
  'ERR_SEGMENT_NOT_FILE',
  'ERR_SEGMENT_OWNER',
  'ERR_SEGMENT_SIZE',
  // Slab pool (src/slab/)
  'ERR_SLAB_BITMAP_CHUNK',
  'ERR_SLAB_BUFFER',
  'ERR_SLAB_CHUNK_FREE',
  'ERR_SLAB_CORRUPT',
  'ERR_SLAB_JOURNAL_FULL',
  'ERR_SLAB_LENGTH',
  'ERR_SLAB_MODE',
  'ERR_SLAB_OFFSET',
  'ERR_SLAB_OFFSET_TYPE',
  'ERR_SLAB_OUTSIDE',
  'ERR_SLAB_OWNER',
  'ERR_SLAB_PAGE_FREE',
  'ERR_SLAB_POOL_SIZE',
  'ERR_SLAB_SIZE',
  'ERR_SLAB_WORD',
  'ERR_SLAB_WRONG_CHUNK',
  'ERR_SLAB_WRONG_PAGE',
  // Pool lock
  'ERR_LOCK_NOT_HELD',
  'ERR_LOCK_REENTRANT',
  // SharedDict (src/dict/)
  'ERR_DICT_ATTACHED',
  'ERR_DICT_CORRUPT',
  'ERR_DICT_FLAGS',
  'ERR_DICT_FLIGHT_HOST',
  'ERR_DICT_HANDLE',
  'ERR_DICT_KEYS',
  'ERR_DICT_KEY_EMPTY',
  'ERR_DICT_KEY_RESERVED',
  'ERR_DICT_KEY_TOO_LONG',
  'ERR_DICT_KEY_TYPE',
  'ERR_DICT_KEY_UNICODE',
  'ERR_DICT_LIMIT',
  'ERR_DICT_LOADER',
  'ERR_DICT_LOADER_VALUE',
  'ERR_DICT_NOT_NUMBER',
  'ERR_DICT_NOT_STARTED',
  'ERR_DICT_NO_MEMORY',
  'ERR_DICT_OPTION',
  'ERR_DICT_SIZE',
  'ERR_DICT_TRANSFER',
  'ERR_DICT_TTL',
  'ERR_DICT_VALUE_DECODE',
  'ERR_DICT_VALUE_ENCODE',
  'ERR_DICT_VALUE_TYPE',
  'ERR_DICT_ZONE_TOO_SMALL',
  // The tier (src/tier/)
  'ERR_TIER_CONNECTED',
  'ERR_TIER_NOT_CONNECTED',
  'ERR_TIER_URL',
  // The addon loader, metrics and the CLI (src/cli/: CliError)
  'ERR_AMBIGUOUS',
  'ERR_METRICS_ZONE',
  'ERR_NATIVE_MISSING',
  'ERR_NOT_FOUND',
  'ERR_PROM_CLIENT_MISSING',
  'ERR_UNKNOWN',
  'ERR_USAGE',
] as const;

/** One of {@link ERROR_CODES}. */
export type ShmzoneErrorCode = (typeof ERROR_CODES)[number];

const KNOWN_CODES: ReadonlySet<string> = new Set(ERROR_CODES);

/** True when `code` is one of {@link ERROR_CODES}. */
export function isErrorCode(code: string): code is ShmzoneErrorCode {
  return KNOWN_CODES.has(code);
}

const BRAND = Symbol.for('shmzone.error');

/** Base of every error shmzone throws deliberately. */
export class ShmzoneError extends Error {
  /**
   * Stable machine-readable code: one of {@link ERROR_CODES}, or an errno name such as `ENOSPC`
   * on a {@link SegmentError}.
   */
  readonly code: string;

  constructor(code: ShmzoneErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
    Object.defineProperty(this, BRAND, { value: new.target.name });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    if (typeof value !== 'object' || value === null) return false;
    const brand = (value as Record<symbol, unknown>)[BRAND];
    if (typeof brand !== 'string') return false;
    if (this === ShmzoneError) return true;
    // A subclass matches itself and its own subclasses by walking the branded name chain.
    let proto: unknown = Object.getPrototypeOf(value);
    while (proto !== null && proto !== undefined) {
      const ctor = (proto as { constructor?: { name?: string } }).constructor;
      if (ctor?.name === this.name) return true;
      proto = Object.getPrototypeOf(proto);
    }
    return false;
  }
}

/** Bad argument: wrong type, NaN, out of range. Thrown before anything shared is touched. */
export class ShmzoneArgumentError extends ShmzoneError {}

/** Registry, naming, header and start-up problems of a zone. */
export class ZoneError extends ShmzoneError {}

/**
 * An operating-system call failed. `code` is the errno name, as in Node's `fs` errors.
 * `path` is the segment name (`/shmzone.<namespace>.<zone>`).
 */
export class SegmentError extends ShmzoneError {
  readonly errno: number | undefined;
  readonly syscall: string | undefined;
  readonly path: string | undefined;

  /** `code`: an `ERR_SEGMENT*` code, or the errno name the OS gave (the addon's errno table). */
  constructor(
    code: ShmzoneErrorCode | `E${string}`,
    message: string,
    details: { errno?: number; syscall?: string; path?: string; cause?: unknown } = {},
  ) {
    // An errno name is not in ERROR_CODES: the OS, not this package, defines that set.
    super(code as ShmzoneErrorCode, message, { cause: details.cause });
    this.errno = details.errno;
    this.syscall = details.syscall;
    this.path = details.path;
  }
}

/** Misuse of the slab allocator, e.g. a double free. Nothing was changed. */
export class SlabError extends ShmzoneError {
  /** The offending offset as passed by the caller. */
  readonly offset: unknown;

  constructor(code: ShmzoneErrorCode, message: string, offset: unknown) {
    super(code, message);
    this.offset = offset;
  }
}

/** `verify()` found a broken invariant in shared metadata. */
export class SlabCorruptionError extends ShmzoneError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_SLAB_CORRUPT', message, options);
  }
}

/** Lock misuse: re-entry by the holder (`ERR_LOCK_REENTRANT`), unlock by a non-holder (`ERR_LOCK_NOT_HELD`). */
export class LockError extends ShmzoneError {}

/** SharedDict argument or state errors (key too long, bad value type, ...). */
export class DictError extends ShmzoneError {}

/** Bound to the message-formatting helpers so callers never hand-build these strings. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string')
    return JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value);
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean')
    return String(value);
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value === 'object' ? (value.constructor?.name ?? 'object') : typeof value}`;
}
