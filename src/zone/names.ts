/**
 * Zone names, namespaces and the POSIX segment name built from them.
 *
 * A segment is `/shmzone.<namespace>.<zone>`. Both parts use `[A-Za-z0-9_-]{1,64}`: no dot
 * (so the name splits back unambiguously), no slash (POSIX allows exactly one, the leading
 * one), nothing outside ASCII (portable across shells and `ls /dev/shm`). The longest name,
 * 1 + 7 + 1 + 64 + 1 + 64 = 138 bytes, stays far below NAME_MAX (255). macOS accepts far
 * less (PSHMNAMLEN): see {@link shmObjectName}.
 */
import { createHash } from 'node:crypto';
import { ZoneError, describeValue } from '../errors.js';

/** Longest zone name and namespace, in characters (= bytes: ASCII only). */
export const MAX_NAME_LENGTH = 64;
/** Prefix of every segment this library creates (without the leading `/`). */
export const SEGMENT_PREFIX = 'shmzone.';

const NAME_PATTERN = /^[A-Za-z0-9_-]+$/;

function checkPart(
  kind: 'zone name' | 'namespace',
  code: 'ERR_ZONE_NAME' | 'ERR_ZONE_NAMESPACE',
  value: unknown,
): string {
  if (typeof value !== 'string') {
    throw new ZoneError(code, `The ${kind} must be a string, got ${describeValue(value)}`);
  }
  if (value.length === 0) {
    throw new ZoneError(code, `The ${kind} must not be empty`);
  }
  if (value.length > MAX_NAME_LENGTH) {
    throw new ZoneError(
      code,
      `The ${kind} ${describeValue(value)} is ${value.length} characters long; ` +
        `at most ${MAX_NAME_LENGTH} are allowed`,
    );
  }
  if (!NAME_PATTERN.test(value)) {
    throw new ZoneError(
      code,
      `The ${kind} ${describeValue(value)} may only contain letters, digits, "_" and "-" ` +
        `(it becomes part of a file name in /dev/shm)`,
    );
  }
  return value;
}

/**
 * Checks a zone name. Throws ZoneError `ERR_ZONE_NAME` (saying why) unless it matches
 * `[A-Za-z0-9_-]{1,64}`.
 */
export function validateZoneName(name: unknown): string {
  return checkPart('zone name', 'ERR_ZONE_NAME', name);
}

/** Checks a namespace. Throws ZoneError `ERR_ZONE_NAMESPACE` unless `[A-Za-z0-9_-]{1,64}`. */
export function validateNamespace(namespace: unknown): string {
  return checkPart('namespace', 'ERR_ZONE_NAMESPACE', namespace);
}

/** `/shmzone.<namespace>.<zone>`; both parts must already be valid. */
export function segmentName(namespace: string, zone: string): string {
  return `/${SEGMENT_PREFIX}${namespace}.${zone}`;
}

/**
 * macOS's longest POSIX shm name, in bytes without the NUL: PSHMNAMLEN is 31 and xnu counts
 * the terminating NUL in it (shm_open fails with ENAMETOOLONG beyond).
 */
export const MACOS_SHM_NAME_MAX = 30;

/**
 * The name given to shm_open for `segment`. Linux takes it as it is. On macOS a name longer
 * than MACOS_SHM_NAME_MAX becomes `/shz.` + the first 25 hex digits of its SHA-256 (100 bits),
 * the same in every process. A collision cannot make two zones share memory: the zone header
 * records the full segment name and every attach checks it (readHeader, ERR_ZONE_HEADER).
 * test/zone/12.shm-object-name.test.ts.
 */
export function shmObjectName(segment: string, platform: string = process.platform): string {
  if (platform !== 'darwin' || segment.length <= MACOS_SHM_NAME_MAX) return segment;
  return `/shz.${createHash('sha256').update(segment).digest('hex').slice(0, 25)}`;
}

/**
 * Splits a segment name (with or without the leading `/`) back into its parts, or returns
 * `undefined` when it is not one of ours.
 */
export function parseSegmentName(name: string): { namespace: string; zone: string } | undefined {
  const bare = name.startsWith('/') ? name.slice(1) : name;
  if (!bare.startsWith(SEGMENT_PREFIX)) return undefined;
  const parts = bare.slice(SEGMENT_PREFIX.length).split('.');
  if (parts.length !== 2) return undefined;
  const [namespace, zone] = parts;
  if (!NAME_PATTERN.test(namespace) || !NAME_PATTERN.test(zone)) return undefined;
  if (namespace.length > MAX_NAME_LENGTH || zone.length > MAX_NAME_LENGTH) return undefined;
  return { namespace, zone };
}
