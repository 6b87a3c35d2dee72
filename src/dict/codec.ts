/**
 * Values as bytes: which type a JS value is stored as, how many bytes it takes, writing it
 * into a fresh chunk and reading it back.
 *
 * | type          | code | bytes                 | comes back as              |
 * | ------------- | ---- | --------------------- | -------------------------- |
 * | boolean       | 1    | 1 (0 or 1)            | boolean                    |
 * | number        | 3    | 8 (float64, 8-aligned)| number (NaN, ±Infinity too) |
 * | string        | 4    | UTF-8                 | string                     |
 * | Uint8Array    | 6    | raw                   | Buffer (a fresh copy)      |
 * | anything else | 7-9  | the dict's codec's    | the decoded value          |
 *
 * Codes follow Lua's (boolean 1, number 3, string 4, list 5); 6 and up are ours. Codes 7
 * (v8), 8 (JSON) and 9 (the user's codec) name the codec of a structured value (values.ts).
 */
import { DictError, describeValue } from '../errors.js';
import type { DictCore } from './core.js';
import { T_BOOLEAN, T_BYTES, T_CUSTOM, T_JSON, T_NUMBER, T_STRING, T_V8 } from './layout.js';
import { EncodedValue, type ValueCodecs } from './values.js';

/** A value the dict stores in its own encoding (anything else goes through its codec). */
export type DictValue = string | number | boolean | Uint8Array;

/** Result of `classify`, kept in fields so that no object is allocated per call. */
export class ValueInfo {
  type = 0;
  length = 0;
  /** The dict's codec for structured values; null: only the four plain types are accepted. */
  codecs: ValueCodecs | null = null;
  /** The codec's bytes of the last structured value classified (type T_V8..T_CUSTOM). */
  encoded: Uint8Array = EMPTY;

  /**
   * Sets `type` and `length` for `value`. A structured value (object, array, bigint) is
   * encoded by `codecs` (DictError ERR_DICT_VALUE_ENCODE when it refuses) and its bytes kept
   * in `encoded`. Throws DictError ERR_DICT_VALUE_TYPE for a function, a symbol, undefined,
   * null, or a structured value when there is no codec.
   */
  classify(value: unknown, what = 'value'): void {
    switch (typeof value) {
      case 'string':
        this.type = T_STRING;
        this.length = value.length < 64 ? utf8Length(value) : Buffer.byteLength(value, 'utf8');
        return;
      case 'number':
        this.type = T_NUMBER;
        this.length = 8;
        return;
      case 'boolean':
        this.type = T_BOOLEAN;
        this.length = 1;
        return;
      default:
        if (value instanceof Uint8Array) {
          this.type = T_BYTES;
          this.length = value.length;
          return;
        }
        if (
          this.codecs !== null &&
          ((typeof value === 'object' && value !== null) || typeof value === 'bigint')
        ) {
          const bytes = this.codecs.encode(value);
          this.type = this.codecs.type;
          this.length = bytes.length;
          this.encoded = bytes;
          return;
        }
        throw new DictError(
          'ERR_DICT_VALUE_TYPE',
          `The "${what}" argument must be a string, number, boolean or Uint8Array, got ${describeValue(value)}`,
        );
    }
  }
}

const EMPTY = new Uint8Array(0);

/** UTF-8 byte length of a short string, in JS (no call out). */
function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 2; // a surrogate pair: 2 units -> 4 bytes
        i++;
      } else n += 2; // lone high surrogate -> U+FFFD, 3 bytes
    } else n += 2;
  }
  return n;
}

/**
 * Write `value` (already classified as `type`, `length` bytes) at byte `off` of a chunk that
 * nothing links to yet: plain stores, no journal.
 */
export function writeValue(
  c: Pick<DictCore, 'u8' | 'f64' | 'zbuf'>,
  off: number,
  type: number,
  length: number,
  value: DictValue,
): void {
  switch (type) {
    case T_NUMBER:
      c.f64[off / 8] = value as number;
      return;
    case T_BOOLEAN:
      c.u8[off] = value ? 1 : 0;
      return;
    case T_STRING:
      if (length > 0) c.zbuf.write(value as string, off, length, 'utf8');
      return;
    default:
      c.u8.set(value as Uint8Array, off);
  }
}

/**
 * Read a value of `type` and `length` bytes at byte `off`. Allocates only the result. Safe
 * on torn data as long as `off + length` is inside the zone (the caller checks): decoding
 * never throws, invalid UTF-8 becomes U+FFFD.
 */
export function readValue(
  c: DictCore,
  off: number,
  type: number,
  length: number,
): DictValue | undefined {
  switch (type) {
    case T_NUMBER:
      return c.f64[off / 8];
    case T_BOOLEAN:
      return c.u8[off] !== 0;
    case T_STRING:
      return length === 0 ? '' : c.zbuf.toString('utf8', off, off + length);
    case T_BYTES:
      return bytesOut(c, off, length);
    case T_V8:
    case T_JSON:
    case T_CUSTOM:
      // Still encoded: decoded by the caller once the read is validated (values.ts).
      return new EncodedValue(type, bytesOut(c, off, length)) as unknown as DictValue;
    default:
      return undefined;
  }
}

/**
 * Small binary values are returned as Buffers over slices of our own 8-aligned pool (as
 * `Buffer.allocUnsafe` does with Node's pool), so that the copy can run as a word loop over
 * typed-array views: measured on a 100-byte value, allocUnsafe + zbuf.copy took ~114 ns
 * (zbuf.copy builds a Uint8Array over the source and calls TypedArray.set), Int32 words ~55
 * ns, Float64 words ~40 ns.
 * Larger values get a Buffer of their own (one memcpy, and no pool chunk pinned by them).
 */
const POOL_BYTES = 16 * 1024;
const POOL_MAX = 1024;

/**
 * A Buffer over a slice of the pool. Node's own FastBuffer is `class extends Uint8Array` with
 * Buffer.prototype as its prototype; this is the same construction (Buffer.isBuffer, every
 * Buffer method, `instanceof Buffer` all hold), reachable without Node internals. Measured
 * ~18 ns cheaper per call than `Buffer.from(arrayBuffer, offset, length)`.
 */
class PooledBuffer extends Uint8Array {}
Object.setPrototypeOf(PooledBuffer.prototype, Buffer.prototype);

/** The pool: current 16 KiB buffer, a Float64Array over it, and the next free byte. */
export class BytePool {
  buf: ArrayBuffer = new ArrayBuffer(POOL_BYTES);
  // Written without a type argument: Float64Array is generic only from TypeScript 5.7 on,
  // and this class is in the published .d.ts (test/packaging/consumers.test.ts, TS 5.0).
  f64: Float64Array = new Float64Array(this.buf);
  pos = 0;

  /** Room for `slot` bytes (a multiple of 8, at most POOL_MAX); returns their offset. */
  take(slot: number): number {
    if (this.pos + slot > POOL_BYTES) {
      // Not zero-filled (as Node's own Buffer pool): every byte a caller can reach through a
      // returned Buffer's range is copied in before it is returned. `new ArrayBuffer` would
      // memset the 16 KiB (measured 5% of an in-cache get).
      this.buf = Buffer.allocUnsafeSlow(POOL_BYTES).buffer as ArrayBuffer;
      this.f64 = new Float64Array(this.buf);
      this.pos = 0;
    }
    const at = this.pos;
    this.pos = at + slot;
    return at;
  }
}
export const BYTE_POOL = new BytePool();
export { POOL_MAX, PooledBuffer };

/**
 * A fresh Buffer holding bytes `off..off + length` of the zone (`off` 8-aligned, the range
 * inside the zone: the caller checks). Never throws on torn data.
 */
export function bytesOut(c: DictCore, off: number, length: number): Buffer {
  if (length > POOL_MAX) {
    const out = Buffer.allocUnsafe(length);
    c.zbuf.copy(out, 0, off, off + length);
    return out;
  }
  const slot = (length + 7) & ~7;
  const pool = BYTE_POOL;
  const at = pool.take(slot);
  // Whole 8-byte words, padding included: the pool slot is rounded up to 8 bytes and the
  // source range ends inside the zone rounded up to 8 too (`off` is 8-aligned, the zone size
  // a multiple of 8), so no word crosses into anything else. Float64 words, not Int32: half
  // the loads, stores and bounds checks (~55 -> ~40 ns for 100 bytes with the Buffer). Bit
  // patterns, NaNs included, go through unchanged: V8 moves a Float64Array element into
  // another as a raw 64-bit move on x64 (no arithmetic, no NaN canonicalisation, which only
  // happens on stores into double-elements JS arrays); test 26.values-bits checks every NaN
  // class in interpreted and optimised code.
  const src = c.f64;
  const dst = pool.f64;
  const sw = off / 8;
  const dw = at >>> 3;
  const n = slot >>> 3;
  for (let k = 0; k < n; k++) dst[dw + k] = src[sw + k];
  return new PooledBuffer(pool.buf, at, length) as unknown as Buffer;
}

/**
 * Copy zone bytes `off..off + length` to `u8[at..]` (`off` and `at` multiples of 4; `i32`
 * and `u8` views of one buffer): whole words, then the tail bytes.
 */
export function copyOut(
  c: DictCore,
  off: number,
  length: number,
  i32: Int32Array,
  u8: Uint8Array,
  at: number,
): void {
  const src = c.i32;
  const sw = off >>> 2;
  const dw = at >>> 2;
  const words = length >>> 2;
  for (let k = 0; k < words; k++) i32[dw + k] = src[sw + k];
  const zu8 = c.u8;
  for (let k = words << 2; k < length; k++) u8[at + k] = zu8[off + k];
}
