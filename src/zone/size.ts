/**
 * Zone sizes: a number of bytes or an nginx-style string.
 *
 * Accepted: a safe integer of bytes, or a string of digits with an optional unit `k`, `m` or
 * `g` (powers of 1024), written with or without a space, a `B` and an `i`, in any case:
 * `'32768'`, `'512k'`, `'64m'`, `'1g'`, `'4G'`, `'1MB'`, `'1mb'`, `'1 m'`, `'1 MiB'`, `'4096B'`.
 * (`MB` is 1024^2 here, as nginx's `m`: a zone size is never meant in powers of 1000.)
 *
 * Decision: unlike nginx (which maps the size as given), sizes are rounded UP to whole 4 KiB
 * pages. The segment is mapped in pages anyway and the slab pool works in pages, so a ragged
 * tail could never be used. `zone.size` reports the rounded size, and conflicts between two
 * declarations are judged on rounded sizes.
 *
 * Limits: at least {@link MIN_ZONE_SIZE} (8 pages, as nginx requires) and at most
 * {@link MAX_ZONE_SIZE} (2^32 bytes, the most one Node 20 `Uint8Array` can view).
 */
import { ZoneError, describeValue } from '../errors.js';

/** Page size of the zone and its slab pool, bytes. */
export const PAGE_SIZE = 4096;
/** Smallest zone: 8 pages = 32 KiB. */
export const MIN_ZONE_SIZE = 8 * PAGE_SIZE;
/** Largest zone: 4 GiB. */
export const MAX_ZONE_SIZE = 2 ** 32;

const SIZE_PATTERN = /^(\d{1,16}) *(?:([kmg])(?:i?b)?|b)?$/i;
const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** Rounds `bytes` up to a whole number of pages. */
export function roundToPages(bytes: number): number {
  return Math.ceil(bytes / PAGE_SIZE) * PAGE_SIZE;
}

function sizeError(zone: string | undefined, what: string): ZoneError {
  const of = zone === undefined ? 'a zone' : `zone "${zone}"`;
  return new ZoneError('ERR_ZONE_SIZE', `The size of ${of} ${what}`);
}

/**
 * Parses a size into bytes, without range checks. `0` (or `'0'`) is returned as 0 (the
 * "reference only" size of `add`). Throws ZoneError `ERR_ZONE_SIZE` for anything else that is
 * not a non-negative safe integer or a well-formed size string.
 *
 * @param zone - only used to name the zone in the error message.
 */
export function parseSizeValue(value: unknown, zone?: string): number {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw sizeError(
        zone,
        `must be a whole, non-negative number of bytes, got ${describeValue(value)}`,
      );
    }
    return value;
  }
  if (typeof value === 'string') {
    const match = SIZE_PATTERN.exec(value.trim());
    if (match === null) {
      throw sizeError(
        zone,
        `must be bytes or a number with a k, m or g unit such as "512k", "64m" or "1 MiB", ` +
          `got ${describeValue(value)}`,
      );
    }
    const bytes = Number(match[1]) * UNITS[(match[2] ?? '').toLowerCase()];
    if (!Number.isSafeInteger(bytes))
      throw sizeError(zone, `is too large: ${describeValue(value)}`);
    return bytes;
  }
  throw sizeError(zone, `must be a number or a string, got ${describeValue(value)}`);
}

/**
 * Parses and checks a zone size: returns the size in bytes rounded up to whole pages.
 * Throws ZoneError `ERR_ZONE_SIZE` when it is malformed, below {@link MIN_ZONE_SIZE} or above
 * {@link MAX_ZONE_SIZE}. With `allowZero`, 0 is returned as 0 ("reference only").
 */
export function parseSize(value: unknown, zone?: string, allowZero = false): number {
  const bytes = parseSizeValue(value, zone);
  if (bytes === 0 && allowZero) return 0;
  if (bytes < MIN_ZONE_SIZE) {
    throw sizeError(
      zone,
      `must be at least ${MIN_ZONE_SIZE} bytes (8 pages), got ${describeValue(value)}`,
    );
  }
  if (bytes > MAX_ZONE_SIZE) {
    throw sizeError(
      zone,
      `must be at most ${MAX_ZONE_SIZE} bytes (4 GiB), got ${describeValue(value)}`,
    );
  }
  return roundToPages(bytes);
}
