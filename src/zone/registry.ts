/**
 * The zone registry, in the manner of nginx's `ngx_shared_memory_add` + `ngx_init_cycle`:
 * zones are declared with `add()` (name, size, tag, init) before start; `start()` creates and
 * initialises them (owner, first standalone process) or attaches to them and waits until they
 * are ready (cluster workers, later standalone processes); `stop()` leaves them.
 *
 * ```ts
 * import { zones } from 'shmzone';
 * const counters = zones.add('counters', '1m', {
 *   tag: 'myapp',
 *   init(zone, reused) { if (!reused) zone.root = zone.pool.calloc(64); },
 * });
 * await zones.start();
 * ```
 */
import { ShmzoneArgumentError, ZoneError, describeValue } from '../errors.js';
import {
  exportNamespace,
  inheritedNamespace,
  isClusterWorker,
  watchClusterWorkers,
} from './cluster.js';
import { tagByteLength } from './header.js';
import { STRING_FIELD_BYTES } from './layout.js';
import { ownerNamespace, standaloneNamespace } from './default-namespace.js';
import { segmentName, validateNamespace, validateZoneName } from './names.js';
import type { PeerInfo } from './peers.js';
import { parseSize } from './size.js';
import { detectPm2, pm2Namespace } from './pm2.js';
import { HUGE_PAGE_SIZE, verifyAdopted } from './backend.js';
import { abandonCreated, markReady, type OpenedZone, type ZoneSpec } from './open.js';
import {
  checkOptions,
  DEFAULT_OPTIONS,
  type ResolvedOptions,
  type ZoneRegistryOptions,
} from './registry-options.js';
import { startZone, type StartRole } from './startup.js';
import { memorySource } from './memory-source.js';
import { Zone, type ZoneDeclaration } from './zone.js';

/** What `recoverProcess()` did in one zone. */
export interface ProcessRecovery {
  zone: string;
  reaped: PeerInfo[];
  /** Owner ids whose pool lock was taken over and rolled back. */
  recoveredLocks: number[];
}

/** A set of zones started and stopped together. `zones` is the default one. */
export class ZoneRegistry {
  private options: ResolvedOptions;
  private readonly declared = new Map<string, Zone>();
  private phase: 'declaring' | 'starting' | 'started' | 'stopped' = 'declaring';
  private starting: Promise<void> | undefined;
  private role: StartRole | undefined;
  private resolvedNamespace: string | undefined;
  /** Drawn once, so `namespace` read before start() names what start() will use. */
  private readonly ownerDefault = ownerNamespace();
  private unwatch: (() => void) | undefined;
  private recovering = false;

  constructor(options: ZoneRegistryOptions = {}) {
    this.options = checkOptions(options, DEFAULT_OPTIONS);
  }

  /** Changes options before `start()`. Throws ZoneError `ERR_ZONE_STARTED` afterwards. */
  configure(options: ZoneRegistryOptions): this {
    this.assertDeclaring('configure');
    this.options = checkOptions(options, this.options);
    return this;
  }

  private assertDeclaring(what: string): void {
    if (this.phase !== 'declaring') {
      throw new ZoneError(
        'ERR_ZONE_STARTED',
        `Cannot ${what} after the registry was started; declare every zone before start()`,
      );
    }
  }

  /**
   * Declares a zone (nginx's `ngx_shared_memory_add`). The same name with the same size and
   * tag returns the same Zone (a further `init` is appended and run too). Size: bytes or
   * `'512k'`/`'64m'`/`'1g'`, rounded up to pages; 0 = a reference only, which adopts a size
   * declared later.
   *
   * Throws ZoneError `ERR_ZONE_NAME`, `ERR_ZONE_SIZE`, `ERR_ZONE_TAG` (another tag),
   * `ERR_ZONE_SIZE_CONFLICT` (another non-zero size), `ERR_ZONE_STARTED` (after start);
   * ShmzoneArgumentError `ERR_ZONE_OPTIONS` (bad tag or init).
   */
  add(name: string, size: number | string, declaration: ZoneDeclaration = {}): Zone {
    validateZoneName(name);
    const bytes = parseSize(size, name, true);
    if (typeof declaration !== 'object' || declaration === null) {
      throw new ShmzoneArgumentError(
        'ERR_ZONE_OPTIONS',
        `The declaration of zone "${name}" must be an object, got ${describeValue(declaration)}`,
      );
    }
    const tag = declaration.tag ?? '';
    if (typeof tag !== 'string' || tagByteLength(tag) > STRING_FIELD_BYTES) {
      throw new ShmzoneArgumentError(
        'ERR_ZONE_OPTIONS',
        `The tag of zone "${name}" must be a string of at most ${STRING_FIELD_BYTES} UTF-8 bytes, got ${describeValue(tag)}`,
      );
    }
    if (declaration.verify !== undefined && typeof declaration.verify !== 'function') {
      throw new ShmzoneArgumentError(
        'ERR_ZONE_OPTIONS',
        `The verify of zone "${name}" must be a function, got ${describeValue(declaration.verify)}`,
      );
    }
    if (declaration.init !== undefined && typeof declaration.init !== 'function') {
      throw new ShmzoneArgumentError(
        'ERR_ZONE_OPTIONS',
        `The init of zone "${name}" must be a function, got ${describeValue(declaration.init)}`,
      );
    }
    this.assertDeclaring(`add zone "${name}"`);
    let zone = this.declared.get(name);
    if (zone === undefined) {
      zone = new Zone(name, bytes, tag);
      this.declared.set(name, zone);
    } else {
      if (zone.tag !== tag) {
        throw new ZoneError(
          'ERR_ZONE_TAG',
          `The zone "${name}" is already declared for a different use (tag ${JSON.stringify(zone.tag)}, not ${JSON.stringify(tag)})`,
        );
      }
      if (zone.size === 0) {
        zone._setSize(bytes);
      } else if (bytes !== 0 && bytes !== zone.size) {
        throw new ZoneError(
          'ERR_ZONE_SIZE_CONFLICT',
          `The size ${bytes} of zone "${name}" conflicts with already declared size ${zone.size}`,
        );
      }
    }
    if (declaration.init !== undefined) zone._inits.push(declaration.init);
    if (declaration.verify !== undefined) zone._verifiers.push(declaration.verify);
    if (declaration.pool !== undefined) zone._poolOptions = declaration.pool;
    return zone;
  }

  /** The declared zone `name`. Throws ZoneError `ERR_ZONE_UNKNOWN` when there is none. */
  get(name: string): Zone {
    const zone = this.declared.get(name);
    if (zone === undefined) {
      throw new ZoneError(
        'ERR_ZONE_UNKNOWN',
        `No zone named ${describeValue(name)} is declared in this registry`,
      );
    }
    return zone;
  }

  /** True when `name` is declared. */
  has(name: string): boolean {
    return this.declared.has(name);
  }

  /** Every declared zone, in declaration order. */
  list(): Zone[] {
    return [...this.declared.values()];
  }

  /** True once `start()` has completed (until `stop()`). */
  get started(): boolean {
    return this.phase === 'started';
  }

  /** The namespace in use (resolved at start; before it, what start would use). */
  /** The `log` option in force (default: console.warn); the dicts of this registry log through it. */
  get log(): (line: string) => void {
    return this.options.log;
  }

  get namespace(): string {
    return this.resolvedNamespace ?? this.resolveNamespace(this.resolveRole());
  }

  /** The effective mode (`auto` resolved). */
  get mode(): StartRole {
    return this.role ?? this.resolveRole();
  }

  private resolveRole(): StartRole {
    const mode = this.options.mode;
    if (mode !== 'auto') return mode;
    if (isClusterWorker() && inheritedNamespace() !== undefined) return 'attach';
    return detectPm2() !== undefined ? 'standalone' : 'owner';
  }

  private resolveNamespace(role: StartRole): string {
    if (this.options.namespace !== undefined) return this.options.namespace;
    if (role === 'owner' || role === 'threads') return this.ownerDefault;
    const inherited = inheritedNamespace();
    if (inherited !== undefined) return validateNamespace(inherited);
    if (role === 'standalone') {
      const pm2 = detectPm2();
      return pm2 !== undefined
        ? pm2Namespace(pm2.app, this.declared.values())
        : standaloneNamespace();
    }
    throw new ZoneError(
      'ERR_ZONE_NAMESPACE',
      'Attach mode needs a namespace: pass { namespace } or set SHMZONE_NAMESPACE (a cluster primary exports it)',
    );
  }

  /**
   * Creates or attaches every declared zone, runs their `init` callbacks and resolves when
   * all are ready. Calling it again returns the same promise. On failure every zone this call
   * opened is left again (and removed if this process created it) before the error is thrown.
   * Throws ZoneError `ERR_ZONE_UNSIZED` (a zone only referenced with size 0) and every error
   * of `startZone` (`ERR_ZONE_TIMEOUT`, `ERR_ZONE_MISMATCH`, `ERR_ZONE_IN_USE`, ...).
   */
  start(): Promise<void> {
    if (this.starting !== undefined) return this.starting;
    if (this.phase === 'stopped') {
      return Promise.reject(
        new ZoneError(
          'ERR_ZONE_STARTED',
          'This registry was stopped; create a new ZoneRegistry to start again',
        ),
      );
    }
    this.starting = this.startAll();
    return this.starting;
  }

  private async startAll(): Promise<void> {
    for (const zone of this.declared.values()) {
      if (zone.size === 0) {
        throw new ZoneError(
          'ERR_ZONE_UNSIZED',
          `Zero size shared memory zone "${zone.name}": it is referenced but never declared with a size`,
        );
      }
    }
    const role = this.resolveRole();
    const namespace = this.resolveNamespace(role);
    this.role = role;
    this.resolvedNamespace = namespace;
    this.phase = 'starting';
    if (role === 'owner') exportNamespace(namespace);
    const done: Zone[] = [];
    try {
      for (const zone of this.declared.values()) {
        await this.startOne(zone, role, namespace);
        done.push(zone);
      }
    } catch (err) {
      for (const zone of done.reverse()) zone.close();
      this.phase = 'stopped';
      throw err;
    }
    if (role === 'owner') this.unwatch = watchClusterWorkers((pid) => this.recoverProcess(pid));
    this.phase = 'started';
  }

  private async startOne(zone: Zone, role: StartRole, namespace: string): Promise<void> {
    const o = this.options;
    const source = role === 'threads' ? memorySource : o.source;
    if (source.kind === 'hugetlbfs') {
      zone._setSize(Math.ceil(zone.size / HUGE_PAGE_SIZE) * HUGE_PAGE_SIZE);
    }
    const spec: ZoneSpec = {
      name: zone.name,
      namespace,
      segment: segmentName(namespace, zone.name),
      source,
      size: zone.size,
      tag: zone.tag,
      persist: o.persist || source.flush !== undefined,
      segmentMode: o.segmentMode,
      readyTimeoutMs: o.readyTimeoutMs,
      onMismatch: o.onMismatch,
      poolOptions: zone._poolOptions,
      lockFileLiveness: o.lockFileLiveness,
      log: o.log,
    };
    zone._beginStart(namespace);
    let opened: OpenedZone;
    try {
      opened = await startZone(spec, role);
    } catch (err) {
      zone._failStart();
      throw err;
    }
    const persist = opened.persist || o.persist;
    zone._open(
      opened,
      persist ? 'keep' : role === 'owner' || role === 'threads' ? 'owner' : 'last-out',
    );
    opened.pool.onRecovery((report) => {
      // recoverProcess() logs its own line (with the pid); this one covers takeovers by a
      // waiter of this process.
      if (this.recovering) return;
      if (report.deadOwnerId === 0) {
        o.log(
          `shmzone: zone "${zone.name}": damaged shared memory (${report.reason}), pool reset empty`,
        );
        return;
      }
      o.log(
        `shmzone: zone "${zone.name}": took over the lock of dead owner ${report.deadOwnerId}, ` +
          (report.reset
            ? `repair failed (${report.reason ?? 'unknown'}), pool reset empty`
            : `${report.undone} write(s) rolled back`),
      );
    });
    if (opened.adopted !== undefined) verifyAdopted(zone, opened, o.log);
    try {
      for (const init of zone._inits) await init(zone, !opened.created);
    } catch (err) {
      if (opened.created) {
        abandonCreated(opened);
        zone._failStart();
      } else {
        zone.close();
      }
      throw err;
    }
    if (opened.created) markReady(opened);
  }

  /**
   * Leaves every zone: releases this process's peer slots and removes the segments this
   * process owns (owner mode) or was the last live user of (standalone, attach), unless
   * persistent. Synchronous (also runs from the exit handler). Idempotent. Throws ZoneError
   * ERR_ZONE_HEADER (after closing every zone) if a zone's header was overwritten.
   */
  stop(): void {
    if (this.phase === 'stopped') return;
    this.phase = 'stopped';
    this.unwatch?.();
    // Every zone is closed even if one throws (a damaged header): the first error follows.
    let failure: { error: unknown } | undefined;
    for (const zone of [...this.declared.values()].reverse()) {
      try {
        zone.close();
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure !== undefined) throw failure.error;
  }

  /**
   * After process `pid` died (the cluster primary calls it on every worker `exit`): in each
   * zone, frees that process's dead peer slots and, where one of them held the pool lock,
   * takes the lock over and rolls its journal back, logging one line per recovered lock.
   */
  recoverProcess(pid: number): ProcessRecovery[] {
    const out: ProcessRecovery[] = [];
    for (const zone of this.declared.values()) {
      if (!zone.started) continue;
      let result: { reaped: PeerInfo[]; recovered: number[] };
      this.recovering = true;
      try {
        result = zone._reap(pid);
      } finally {
        this.recovering = false;
      }
      const { reaped, recovered } = result;
      if (recovered.length > 0) {
        this.options.log(
          `shmzone: zone "${zone.name}": recovered the lock held by dead pid ${pid} (owner ${recovered.join(', ')})`,
        );
      }
      if (reaped.length > 0) out.push({ zone: zone.name, reaped, recoveredLocks: recovered });
    }
    return out;
  }
}

/** The default registry. */
export const zones = new ZoneRegistry();
