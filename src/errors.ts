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

const BRAND = Symbol.for('shmzone.error');

/** Base of every error shmzone throws deliberately. */
export class ShmzoneError extends Error {
  /** Stable machine-readable code, e.g. `ERR_ZONE_SIZE` or `ENOSPC`. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
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

  constructor(
    code: string,
    message: string,
    details: { errno?: number; syscall?: string; path?: string; cause?: unknown } = {},
  ) {
    super(code, message, { cause: details.cause });
    this.errno = details.errno;
    this.syscall = details.syscall;
    this.path = details.path;
  }
}

/** Misuse of the slab allocator, e.g. a double free. Nothing was changed. */
export class SlabError extends ShmzoneError {
  /** The offending offset as passed by the caller. */
  readonly offset: unknown;

  constructor(code: string, message: string, offset: unknown) {
    super(code, message);
    this.offset = offset;
  }
}

/** `verify()` found a broken invariant in shared metadata. */
export class SlabCorruptionError extends ShmzoneError {
  constructor(message: string) {
    super('ERR_SLAB_CORRUPT', message);
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
