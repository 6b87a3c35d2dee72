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
 *
 * Codes follow Lua's (boolean 1, number 3, string 4, list 5); 6 is ours.
 */
import { DictError, describeValue } from '../errors.js';
import type { DictCore } from './core.js';
import { T_BOOLEAN, T_BYTES, T_NUMBER, T_STRING } from './layout.js';

/** A value the dict can store. */
export type DictValue = string | number | boolean | Uint8Array;

/** Result of `classify`, kept in fields so that no object is allocated per call. */
export class ValueInfo {
  type = 0;
  length = 0;

  /**
   * Sets `type` and `length` for `value`. Throws DictError ERR_DICT_VALUE_TYPE for anything
   * that is not a string, number, boolean or Uint8Array.
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
        throw new DictError(
          'ERR_DICT_VALUE_TYPE',
          `The "${what}" argument must be a string, number, boolean or Uint8Array, got ${describeValue(value)}`,
        );
    }
  }
}

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
  c: DictCore,
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
    case T_BYTES: {
      const out = Buffer.allocUnsafe(length);
      c.zbuf.copy(out, 0, off, off + length);
      return out;
    }
    default:
      return undefined;
  }
}
