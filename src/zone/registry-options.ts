/**
 * A registry's options: what `new ZoneRegistry(options)` and `configure()` accept, their
 * checks (ShmzoneArgumentError `ERR_ZONE_OPTIONS`, nothing changed on a bad one) and defaults.
 */
import { ShmzoneArgumentError, describeValue } from '../errors.js';
import { checkBackend } from './backend.js';
import { validateNamespace } from './names.js';
import { posixShm, type SegmentSource } from './open.js';

/** How this process takes part in its zones. */
export type ZoneMode = 'auto' | 'owner' | 'attach' | 'standalone' | 'threads';

/** Options of a registry (constructor or `configure()`, before start). */
export interface ZoneRegistryOptions {
  /**
   * Namespace of the segments, `[A-Za-z0-9_-]{1,64}`. Default (default-namespace.ts): owner
   * mode: a fresh, unpredictable `p<pid>-<random>` per primary, exported to forked workers in
   * `SHMZONE_NAMESPACE`; attach and standalone modes: `SHMZONE_NAMESPACE` from the
   * environment, else (standalone) `s-<script>-<hash of uid and entry script>`.
   */
  namespace?: string;
  /**
   * - `owner`: create the zones (O_EXCL), remove them at exit (normal exit, SIGINT, SIGTERM,
   *   SIGHUP, uncaught exception). Replaces a stale segment of a dead process; refuses
   *   (`ERR_ZONE_IN_USE`) one that live processes use.
   * - `attach`: never create; wait until the owner made them ready (cluster workers, tools).
   *   Leaves "last-out": a process that leaves (`stop()`, or its exit) as the zone's last live
   *   user removes it unless `persist`, also when the owner is dead. So when a cluster primary
   *   dies without cleaning up (SIGKILL), its workers, which Node ends when their IPC channel
   *   to the primary disconnects, remove its zones as they exit; no code of yours is needed.
   * - `standalone`: no primary (PM2, independent services): the first process creates, the
   *   others attach; a creator that died before ready is taken over; the last one out removes
   *   the zone unless `persist`.
   * - `threads`: one process and its worker threads only, without the addon: zones are
   *   ordinary SharedArrayBuffers (memory-source.ts), shared with workers through
   *   `zone.transfer()`; no other process can see them. A thread terminated while it holds
   *   a zone's lock is not detected in this mode (liveness.ts). `backend`, `directory` and
   *   `hugePages` do not apply.
   * - `auto` (default): `attach` in a cluster worker whose primary exported a namespace;
   *   `standalone` under PM2 (its `pm_id` and `name` in the environment: src/zone/pm2.ts);
   *   otherwise `owner`.
   */
  mode?: ZoneMode;
  /** Zones outlive their processes (warm restarts reuse them when size and tag match). Default false. */
  persist?: boolean;
  /** An existing zone with another size or tag: fail (`'error'`, default) or re-create it when unused. */
  onMismatch?: 'error' | 'recreate';
  /** Permission bits of created segments; attach refuses looser ones. Default 0o600. */
  segmentMode?: number;
  /** Bound on waiting for a zone to appear and become ready, ms. Default 10000. */
  readyTimeoutMs?: number;
  /** Where one-line recovery notices go, the dicts' included. Default `console.warn`. */
  log?: (line: string) => void;
  /**
   * Where the zones' memory lives (docs/backends.md): `'posix'` (default), POSIX shared
   * memory in /dev/shm; `'file'`, a preallocated file per zone in `directory`, which keeps
   * its entries across a stop and start of every process (zones are persistent); `'sysv'`,
   * SysV shared memory keyed by zone (listed by `ipcs -m`); `'memfd'` (Linux, cluster mode:
   * a primary in owner mode and the workers it forks), nameless sealed memory that nothing
   * can squat and nothing leaves behind (memfd-source.ts).
   */
  backend?: 'posix' | 'file' | 'sysv' | 'memfd';
  /**
   * For `backend: 'file'`: an absolute path to an existing directory of this user. With
   * `hugePages`: the hugetlbfs mount to use (default: the first in /proc/mounts).
   */
  directory?: string;
  /**
   * How a dead peer is recognised (src/zone/liveness.ts): `'robust'`, a robust process-shared
   * mutex per peer slot that the kernel marks owner-dead when its thread or process dies
   * (Linux; the default there); `'lockfile'`, a byte-range lock per slot in a lock file of
   * this user (`<tmpdir>/shmzone-<uid>/`), which the kernel drops when the process dies and a
   * worker thread's end releases (the only kind on macOS, which has no robust mutexes).
   * Every process of a zone follows what its creator chose.
   */
  liveness?: 'robust' | 'lockfile';
  /**
   * Back the zones with 2 MiB huge pages (hugetlbfs; sizes rounded up to 2 MiB), reserved at
   * start: too few free pages fail it with ENOSPC naming `vm.nr_hugepages`. Default false.
   */
  hugePages?: boolean;
}

/** The options with defaults applied and the backend resolved to its segment source. */
export interface ResolvedOptions {
  namespace: string | undefined;
  mode: ZoneMode;
  persist: boolean;
  onMismatch: 'error' | 'recreate';
  segmentMode: number;
  readyTimeoutMs: number;
  log: (line: string) => void;
  source: SegmentSource;
  /** `liveness: 'lockfile'` (the default on macOS). */
  lockFileLiveness: boolean;
}

/** Throws ERR_ZONE_OPTIONS: option `name` must be `must` (nothing was changed). */
function badOption(name: string, must: string, value: unknown): never {
  throw new ShmzoneArgumentError(
    'ERR_ZONE_OPTIONS',
    `The ${name} option must be ${must}, got ${describeValue(value)}`,
  );
}

/** `options` over `base`, each checked. */
export function checkOptions(options: ZoneRegistryOptions, base: ResolvedOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) {
    throw new ShmzoneArgumentError(
      'ERR_ZONE_OPTIONS',
      `Registry options must be an object, got ${describeValue(options)}`,
    );
  }
  const out = { ...base };
  const { mode, persist, onMismatch, segmentMode: m, readyTimeoutMs: t, log } = options;
  if (options.namespace !== undefined) out.namespace = validateNamespace(options.namespace);
  if (mode !== undefined) {
    if (!['auto', 'owner', 'attach', 'standalone', 'threads'].includes(mode))
      badOption('mode', `'auto', 'owner', 'attach', 'standalone' or 'threads'`, mode);
    out.mode = mode;
  }
  if (persist !== undefined) {
    if (typeof persist !== 'boolean') badOption('persist', 'a boolean', persist);
    out.persist = persist;
  }
  if (onMismatch !== undefined) {
    if (onMismatch !== 'error' && onMismatch !== 'recreate')
      badOption('onMismatch', `'error' or 'recreate'`, onMismatch);
    out.onMismatch = onMismatch;
  }
  if (
    options.backend !== undefined ||
    options.directory !== undefined ||
    options.hugePages !== undefined
  ) {
    out.source = checkBackend(options.backend, options.directory, options.hugePages);
  }
  if (m !== undefined) {
    if (!Number.isInteger(m) || m < 0o400 || m > 0o777 || (m & 0o600) !== 0o600) {
      badOption(
        'segmentMode',
        'permission bits between 0o600 and 0o777 that include owner read and write',
        m,
      );
    }
    out.segmentMode = m;
  }
  if (t !== undefined) {
    if (!Number.isSafeInteger(t) || t < 0)
      badOption('readyTimeoutMs', 'a whole number of ms >= 0', t);
    out.readyTimeoutMs = t;
  }
  if (out.source.kind === 'memfd' && (out.mode === 'standalone' || out.mode === 'threads')) {
    throw new ShmzoneArgumentError(
      'ERR_ZONE_OPTIONS',
      `backend: 'memfd' is for cluster mode (a primary in owner mode and its workers): ` +
        `nameless memory cannot be found by independent processes; got mode '${out.mode}'`,
    );
  }
  if (out.mode === 'threads' && out.source !== posixShm) {
    throw new ShmzoneArgumentError(
      'ERR_ZONE_OPTIONS',
      `mode: 'threads' keeps zones in this process's memory: the backend, directory and hugePages options do not apply`,
    );
  }
  if (options.liveness !== undefined) {
    if (options.liveness !== 'robust' && options.liveness !== 'lockfile')
      badOption('liveness', `'robust' or 'lockfile'`, options.liveness);
    if (options.liveness === 'robust' && process.platform === 'darwin')
      badOption('liveness', `'lockfile' on macOS, which has no robust mutexes`, options.liveness);
    out.lockFileLiveness = options.liveness === 'lockfile';
  }
  if (log !== undefined) {
    if (typeof log !== 'function') badOption('log', 'a function', log);
    out.log = log;
  }
  return out;
}

export const DEFAULT_OPTIONS: ResolvedOptions = {
  namespace: undefined,
  mode: 'auto',
  persist: false,
  onMismatch: 'error',
  segmentMode: 0o600,
  source: posixShm,
  lockFileLiveness: process.platform === 'darwin',
  readyTimeoutMs: 10_000,
  log: (line) => console.warn(line),
};
