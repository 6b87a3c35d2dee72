/**
 * Key bytes and their 32-bit hash.
 *
 * String keys are UTF-8 encoded into one reusable scratch buffer (never shared memory, never
 * a per-call allocation). Short ASCII keys are encoded and hashed in one JS loop, which beats
 * a call into `TextEncoder.encodeInto` for the typical `user:1234` key; anything else goes
 * through `encodeInto`.
 *
 * The hash is FNV-1a over the bytes followed by murmur3's fmix32 finaliser: FNV-1a alone
 * leaves the high bits (our seqlock stripe) and the low bits (the table index) poorly mixed
 * for keys that differ only in their last byte.
 */
import { DictError, describeValue } from '../errors.js';
import { MAX_KEY_BYTES } from './layout.js';

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
/** Strings up to this many UTF-16 units try the ASCII loop first. */
const ASCII_LOOP_MAX = 64;

/** A key, encoded: bytes in `bytes[0..length)`, and its hash. Reused by every call. */
export class KeyScratch {
  /** Large enough for the longest string that could still be a valid key. */
  readonly bytes: Uint8Array = new Uint8Array(MAX_KEY_BYTES * 3 + 4); // no <T>: TS < 5.7
  private readonly encoder = new TextEncoder();
  length = 0;
  hash = 0;

  /**
   * Encode and hash `key`. Throws DictError ERR_DICT_KEY_TYPE, ERR_DICT_KEY_EMPTY,
   * ERR_DICT_KEY_TOO_LONG or ERR_DICT_KEY_UNICODE (before anything shared is touched).
   */
  load(key: string | Uint8Array): void {
    if (typeof key === 'string') {
      const n = key.length;
      if (n <= ASCII_LOOP_MAX) {
        const bytes = this.bytes;
        let h = FNV_OFFSET;
        let i = 0;
        for (; i < n; i++) {
          const c = key.charCodeAt(i);
          if (c >= 0x80) break;
          bytes[i] = c;
          h = Math.imul(h ^ c, FNV_PRIME);
        }
        if (i === n) {
          if (n === 0) throw keyEmpty();
          this.length = n;
          this.hash = fmix32(h);
          return;
        }
      }
      if (n > MAX_KEY_BYTES) throw keyTooLong(n);
      // UTF-8 has no encoding for a lone surrogate: encodeInto writes U+FFFD, which would
      // merge every such key with its neighbours (test/dict/60.keys.test.ts, "lone surrogate").
      if (hasLoneSurrogate(key)) throw keyNotUnicode(key);
      const r = this.encoder.encodeInto(key, this.bytes);
      if (r.written > MAX_KEY_BYTES) throw keyTooLong(r.written);
      if (r.written === 0) throw keyEmpty();
      this.length = r.written;
      this.hash = hashBytes(this.bytes, 0, r.written);
      return;
    }
    if (!(key instanceof Uint8Array)) {
      throw new DictError(
        'ERR_DICT_KEY_TYPE',
        `The "key" argument must be a string or a Uint8Array, got ${describeValue(key)}`,
      );
    }
    const n = key.length;
    if (n === 0) throw keyEmpty();
    if (n > MAX_KEY_BYTES) throw keyTooLong(n);
    this.bytes.set(key);
    this.length = n;
    this.hash = hashBytes(key, 0, n);
  }
}

/** FNV-1a + fmix32 of `bytes[start..end)`, as an unsigned 32-bit integer. */
export function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let h = FNV_OFFSET;
  for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i], FNV_PRIME);
  return fmix32(h);
}

/** murmur3's 32-bit finaliser: every input bit affects every output bit. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** True when `s` holds a UTF-16 surrogate that is not half of a pair. */
export function hasLoneSurrogate(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c >= 0xdc00) return true;
    const next = s.charCodeAt(i + 1); // NaN past the end
    if (!(next >= 0xdc00 && next <= 0xdfff)) return true;
    i++;
  }
  return false;
}

function keyNotUnicode(key: string): DictError {
  return new DictError(
    'ERR_DICT_KEY_UNICODE',
    `The "key" argument holds a lone UTF-16 surrogate, which UTF-8 cannot encode: ${JSON.stringify(key.slice(0, 64))}`,
  );
}

function keyEmpty(): DictError {
  return new DictError('ERR_DICT_KEY_EMPTY', 'The "key" argument must not be empty');
}

function keyTooLong(bytes: number): DictError {
  return new DictError(
    'ERR_DICT_KEY_TOO_LONG',
    `The "key" argument must be at most ${MAX_KEY_BYTES} bytes in UTF-8, got ${bytes}`,
  );
}
