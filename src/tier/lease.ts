/**
 * The host's shared coherence state, in a small zone of its own next to the L1 dict: who
 * holds the Redis subscription (the lease), the invalidation epoch, the last invalidation
 * sequence the host has seen, and a random host id.
 *
 * One subscriber per host: the lease word holds the subscriber's owner id in this zone's
 * peer table (src/zone/peers.ts). A process takes the lease with one compare-exchange when
 * it is free (0) or when the peer table says its holder is dead (`isOwnerDead`: the robust
 * token of a SIGKILLed process reads dead; a holder that closed moved its slot's generation
 * on). A holder never loses the lease while alive, so there is never more than one.
 * Guarded by test/tier/20.hosts.test.ts ("subscriber SIGKILLed").
 */
import { randomBytes } from 'node:crypto';
import type { Zone } from '../zone/zone.js';
import type { ZoneRegistry } from '../zone/registry.js';

/** Zone tag of a tier's coherence zone. */
export const TIER_TAG = 'shmzone.tier';
/** The coherence zone's size: the smallest zone there is (it holds 32 bytes). */
export const TIER_ZONE_SIZE = 32 * 1024;

// u32 words from zone.root.
const W_LEASE = 0; // owner id of the subscriber, 0 = none
const W_EPOCH = 1; // + 1 before every L1 change that did not come from a read (see tier.ts)
const W_SEEN_SEQ = 2; // Redis invalidation sequence last seen by this host, mod 2^32
const W_HOST_ID = 3; // two random words, written once by the zone's creator
const W_APPLIED = 5; // remote invalidations applied to the L1
const W_FLUSHES = 6; // L1 flushes after a gap in the invalidation stream
const W_TAKEOVERS = 7; // leases taken (first subscriber included)
const W_UNPUBLISHED = 8; // 1 when a write of this host could not be published
const WORDS = 9;

/** A process's view of one tier's coherence zone. */
export class TierLease {
  private words: Uint32Array | undefined;
  private host: string | undefined;

  constructor(readonly zone: Zone) {}

  /** Declares the coherence zone `name` in `registry` (before start). */
  static declare(registry: ZoneRegistry, name: string): TierLease {
    const zone = registry.add(name, TIER_ZONE_SIZE, {
      tag: TIER_TAG,
      init(z, reused) {
        if (reused) return;
        const root = z.pool.calloc(WORDS * 4);
        const host = new Uint32Array(z.buffer, root, WORDS);
        host.set(new Uint32Array(randomBytes(8).buffer), W_HOST_ID);
        z.root = root;
      },
    });
    return new TierLease(zone);
  }

  private get w(): Uint32Array {
    this.words ??= new Uint32Array(this.zone.buffer, this.zone.root, WORDS);
    return this.words;
  }

  /** This host's id: the namespace and the creator's random words. */
  get hostId(): string {
    const w = this.w;
    this.host ??= `${this.zone.namespace}.${w[W_HOST_ID].toString(36)}${w[W_HOST_ID + 1].toString(36)}`;
    return this.host;
  }

  private get selfId(): number {
    return this.zone.owner.selfId;
  }

  /** True when the calling process holds the lease. */
  held(): boolean {
    return Atomics.load(this.w, W_LEASE) === this.selfId;
  }

  /** Owner id of the holder, 0 = none. */
  holder(): number {
    return Atomics.load(this.w, W_LEASE);
  }

  /**
   * Takes the lease if it is free or its holder is dead; true when the caller holds it
   * afterwards. Slow path (one addon call when someone else holds it): run from a timer.
   */
  tryAcquire(): boolean {
    const self = this.selfId;
    const current = Atomics.load(this.w, W_LEASE);
    if (current === self) return true;
    if (current !== 0 && !this.zone.owner.isOwnerDead(current)) return false;
    if (Atomics.compareExchange(this.w, W_LEASE, current, self) !== current) return false;
    Atomics.add(this.w, W_TAKEOVERS, 1);
    return true;
  }

  /** Gives the lease up if the caller holds it. */
  release(): void {
    Atomics.compareExchange(this.w, W_LEASE, this.selfId, 0);
  }

  /** The host-wide epoch of non-read L1 changes (see tier.ts, "backfill race"). */
  epoch(): number {
    return Atomics.load(this.w, W_EPOCH);
  }

  bumpEpoch(): void {
    Atomics.add(this.w, W_EPOCH, 1);
  }

  /** Invalidation sequence last seen by the host's subscriber (mod 2^32). */
  seenSeq(): number {
    return Atomics.load(this.w, W_SEEN_SEQ);
  }

  setSeenSeq(seq: number): void {
    Atomics.store(this.w, W_SEEN_SEQ, seq % 2 ** 32);
  }

  /** A write of this host could not be published: other hosts must flush when Redis is back. */
  markUnpublished(): void {
    Atomics.store(this.w, W_UNPUBLISHED, 1);
  }

  /** Reads and clears the mark of {@link markUnpublished}. */
  takeUnpublished(): boolean {
    return Atomics.exchange(this.w, W_UNPUBLISHED, 0) === 1;
  }

  countApplied(): void {
    Atomics.add(this.w, W_APPLIED, 1);
  }

  countFlush(): void {
    Atomics.add(this.w, W_FLUSHES, 1);
  }

  /** Host-wide counters. */
  counters(): { applied: number; flushes: number; takeovers: number } {
    const w = this.w;
    return {
      applied: Atomics.load(w, W_APPLIED),
      flushes: Atomics.load(w, W_FLUSHES),
      takeovers: Atomics.load(w, W_TAKEOVERS),
    };
  }
}
