/**
 * SharedTier: a host-wide L1 (a SharedDict, one per host, not one per process) in front of
 * Redis, composed with cacheable (`primary` = a Keyv over the dict, `secondary` = @keyv/redis)
 * and kept coherent across hosts by coherence.ts.
 *
 * Failure behaviour: nothing Redis does is thrown into a caller. Every Redis error is counted
 * (`metrics().redisErrors`) and emitted as 'redis-error' (never 'error', which throws without
 * a listener); reads fall back to what the L1 holds, and the client reconnects by itself.
 *
 * The backfill race: a read that misses L1 fetches from Redis and writes the value into L1.
 * If an invalidation (or a local write) lands between the fetch and that write, the write
 * would put back the old value for good. So every non-read change bumps the host's epoch
 * (lease.ts) before it touches L1, and a read that saw the epoch move while it ran deletes
 * the key it may have backfilled: at worst one extra miss. Guarded by
 * test/tier/10.tier.test.ts ("a backfill racing an invalidation").
 */
import { EventEmitter } from 'node:events';
import KeyvRedis from '@keyv/redis';
import { Cacheable } from 'cacheable';
import { Keyv } from 'keyv';
import { ShmzoneArgumentError } from '../errors.js';
import { sharedDict, type SharedDictDeclaration } from '../dict/declare.js';
import type { SharedDict } from '../dict/dict.js';
import { KeyvShmzone } from '../keyv/index.js';
import type { ZoneRegistry } from '../zone/registry.js';
import { Coherence } from './coherence.js';
import { TierLease } from './lease.js';
import { createTierRedis, type TierRedis } from './redis.js';

/** Prefix of the marker key under which SharedDict.getOrSet runs a host's one load of a key. */
const LOAD_MARK = '\u0001tier-load:';
/** The marker outlives the load only long enough for the host's waiters to wake and read. */
const LOAD_MARK_TTL_MS = 1000;

/** Options of {@link SharedTier.connect}. */
export interface TierConnectOptions {
  /** Redis URL, e.g. `redis://127.0.0.1:6379`. */
  url: string;
  /** Pub/sub channel (and prefix of the sequence key); default `shmzone:tier:<name>`. */
  channel?: string;
  /** How often a process that is not the subscriber checks the lease, ms; default 250. */
  leaseCheckMs?: number;
  /** How long connect() waits for Redis before it carries on L1-only, ms; default 2000. */
  readyTimeoutMs?: number;
}

/** Per-process counters of a tier, plus the host-wide ones of its coherence zone. */
export interface TierMetrics {
  l1Hits: number;
  l2Hits: number;
  misses: number;
  loads: number;
  redisErrors: number;
  publishes: number;
  /** The command connection is up: a write made now is published to the other hosts. */
  connected: boolean;
  subscriber: boolean;
  host: { applied: number; flushes: number; takeovers: number };
}

export class SharedTier extends EventEmitter {
  private redis: TierRedis | undefined;
  private cache: Cacheable | undefined;
  private primary: Keyv | undefined;
  private coherence: Coherence | undefined;
  private readonly counts = {
    l1Hits: 0,
    l2Hits: 0,
    misses: 0,
    loads: 0,
    redisErrors: 0,
    publishes: 0,
  };
  private readonly report = (error: unknown): void => {
    this.counts.redisErrors++;
    this.emit('redis-error', error);
  };

  /** @internal made by {@link sharedTier}. */
  constructor(
    readonly name: string,
    readonly dict: SharedDict,
    /** @internal the host-wide subscriber lease and counters of this tier. */
    readonly lease: TierLease,
  ) {
    super();
  }

  /**
   * After `zones.start()`: connects to Redis and starts the subscriber election. Resolves
   * once Redis is ready, or after `readyTimeoutMs` without it (the tier then serves from L1
   * and connects when Redis comes up).
   */
  async connect(options: TierConnectOptions): Promise<void> {
    if (typeof options?.url !== 'string' || options.url === '') {
      throw new ShmzoneArgumentError('ERR_TIER_URL', 'connect() needs { url: "redis://..." }');
    }
    if (this.redis !== undefined) {
      throw new ShmzoneArgumentError('ERR_TIER_CONNECTED', `tier "${this.name}" is connected`);
    }
    const redis = createTierRedis(options.url);
    this.redis = redis;
    redis.on('error', this.report);
    const ready = new Promise<void>((resolve) => {
      redis.once('ready', resolve);
      setTimeout(resolve, options.readyTimeoutMs ?? 2000).unref();
    });
    redis.connect().catch(this.report);
    await ready;
    const secondaryStore = new KeyvRedis(redis, {
      throwOnConnectError: false,
      throwOnErrors: false,
    });
    const secondary = new Keyv({ store: secondaryStore });
    this.primary = new Keyv({ store: new KeyvShmzone(this.dict), useKeyPrefix: false });
    this.cache = new Cacheable({ primary: this.primary, secondary });
    this.cache.on('error', this.report);
    this.cache.on('cache:hit', (e: { store: string }) => {
      if (e.store === 'primary') this.counts.l1Hits++;
      else this.counts.l2Hits++;
    });
    this.cache.on('cache:miss', (e: { store: string }) => {
      if (e.store === 'secondary') this.counts.misses++;
    });
    const primary = this.primary;
    this.coherence = new Coherence(
      this.lease,
      redis,
      options.channel ?? `shmzone:tier:${this.name}`,
      {
        invalidate: async (key) => void (await primary.delete(key)),
        flush: async () => this.dict.flushAll(),
      },
      options.leaseCheckMs ?? 250,
      this.report,
    );
    this.coherence.on('subscribed', () => this.emit('subscribed'));
    this.coherence.on('flush', () => this.emit('flush'));
    this.coherence.on('invalidated', (key: string) => this.emit('invalidated', key));
    this.coherence.start();
  }

  private connected(): { cache: Cacheable; primary: Keyv; coherence: Coherence } {
    if (this.cache === undefined || this.primary === undefined || this.coherence === undefined) {
      throw new ShmzoneArgumentError(
        'ERR_TIER_NOT_CONNECTED',
        `call connect() on tier "${this.name}" first`,
      );
    }
    return { cache: this.cache, primary: this.primary, coherence: this.coherence };
  }

  /** L1, then Redis (backfilling L1); undefined when neither has it. Never throws for Redis. */
  async get<T>(key: string): Promise<T | undefined> {
    const { cache, primary } = this.connected();
    const epoch = this.lease.epoch();
    const value = await cache.get<T>(key);
    if (this.lease.epoch() !== epoch) await primary.delete(key); // the backfill race
    return value;
  }

  /** Writes L1 and Redis, then tells the other hosts. `ttl` in ms (0 or omitted: none). */
  async set(key: string, value: unknown, ttl?: number): Promise<void> {
    const { cache, coherence } = this.connected();
    this.lease.bumpEpoch();
    await cache.set(key, value, ttl === 0 ? undefined : ttl);
    await this.publish(coherence, 'set', key);
  }

  /** Deletes from L1 and Redis, then tells the other hosts. */
  async delete(key: string): Promise<void> {
    const { cache, coherence } = this.connected();
    this.lease.bumpEpoch();
    try {
      await cache.delete(key);
    } catch (error) {
      this.report(error);
    }
    await this.publish(coherence, 'delete', key);
  }

  private async publish(coherence: Coherence, op: string, key: string): Promise<void> {
    try {
      await coherence.publish(op, key);
      this.counts.publishes++;
    } catch (error) {
      this.lease.markUnpublished();
      this.report(error);
    }
  }

  /**
   * The value from L1 or Redis, or else `loader()`'s, stored in both (without a publish:
   * a fill changes no value another host may hold). Concurrent misses of one key load once
   * on the whole host: the load runs under `SharedDict.getOrSet` (host-wide single-flight) of
   * a marker key, and callers in the other processes, woken when it is done, read the value
   * it stored. If that value is gone by then (evicted, or invalidated meanwhile and Redis
   * unreachable), the caller loads it itself.
   */
  async getOrSet<T>(
    key: string,
    loader: () => Promise<T> | T,
    options: { ttl?: number } = {},
  ): Promise<T> {
    const cached = await this.get<T>(key);
    if (cached !== undefined) return cached;
    const { cache, primary } = this.connected();
    let loaded: { value: T } | undefined;
    const load = async (): Promise<T> => {
      this.counts.loads++;
      const value = await loader();
      await cache.set(key, value, options.ttl);
      loaded = { value };
      return value;
    };
    const loadUnlessLanded = async (): Promise<void> => {
      // Winning the marker does not prove nobody loaded: a caller whose first miss took
      // longer than LOAD_MARK_TTL_MS (a slow Redis) finds the marker gone and the value in
      // L1. Guarded by test/tier/10.tier.test.ts ("a late caller ...").
      const landed = (await primary.get(key)) as T | undefined;
      if (landed === undefined) await load();
    };
    await this.dict.getOrSet(LOAD_MARK + key, async () => (await loadUnlessLanded(), 1), {
      ttl: LOAD_MARK_TTL_MS,
    });
    if (loaded !== undefined) return loaded.value;
    return (await this.get<T>(key)) ?? load();
  }

  /** True while this process holds the host's Redis subscription. */
  get subscriber(): boolean {
    return this.coherence?.subscribed ?? false;
  }

  metrics(): TierMetrics {
    return {
      ...this.counts,
      connected: this.redis?.isReady === true,
      subscriber: this.subscriber,
      host: this.lease.counters(),
    };
  }

  /** Drops the subscription (another process on the host takes it over) and the connection. */
  async close(): Promise<void> {
    await this.coherence?.close();
    this.coherence = undefined;
    this.cache = undefined;
    this.primary = undefined;
    const redis = this.redis;
    this.redis = undefined;
    redis?.destroy();
  }
}

/** Options of {@link sharedTier}: the L1 dict's declaration. */
export type SharedTierDeclaration = SharedDictDeclaration;

/**
 * Declares tier `name` in `registry` before `registry.start()`: the L1 dict `name` of `size`
 * and its coherence zone `<name>-tier` (32 KiB). Call `connect()` after start.
 */
export function sharedTier(
  registry: ZoneRegistry,
  name: string,
  size: number | string,
  options: SharedTierDeclaration = {},
): SharedTier {
  const dict = sharedDict(registry, name, size, options);
  const lease = TierLease.declare(registry, `${name}-tier`);
  return new SharedTier(name, dict, lease);
}
