/**
 * Cross-host invalidation over Redis pub/sub, with one subscriber per host.
 *
 * Every write or delete through the tier publishes `<seq> <host> <op> <key>` on the tier's
 * channel, where seq comes from INCR on the tier's sequence key in the same Lua script, so
 * message order is seq order. The host's one subscriber (the lease holder, lease.ts) deletes
 * the key from the shared L1 for every process on its host, unless the message came from its
 * own host (whose L1 already holds the new value), and records seq in the coherence zone.
 *
 * Missed messages (no subscriber for a while, Redis unreachable or restarted): a version
 * check, not an unconditional flush. After every (re)subscription the subscriber compares the
 * sequence key with the last seq its host saw; equal means nothing was published in between
 * and the L1 is kept (a SIGKILLed subscriber with no writes meanwhile costs no cold cache);
 * different (or a gap between consecutive messages) means some invalidation may be lost, and
 * the host's L1 is flushed: Redis still holds the values, so the price is one refill from L2.
 * A write that could not be published (Redis down on the writer's side) marks the host, and
 * its subscriber publishes a `flush` for every other host once Redis is back.
 * Guarded by test/tier/20.hosts.test.ts.
 */
import { EventEmitter } from 'node:events';
import type { TierLease } from './lease.js';
import type { TierRedis } from './redis.js';

const PUBLISH_SCRIPT =
  "local s = redis.call('INCR', KEYS[1]) redis.call('PUBLISH', ARGV[1], s .. ' ' .. ARGV[2]) return s";
const TWO_32 = 2 ** 32;

/** What the coherence layer does to the host's L1. */
export interface L1Actions {
  invalidate(key: string): Promise<void>;
  flush(): Promise<void>;
}

export class Coherence extends EventEmitter {
  private subscriber: TierRedis | undefined;
  private timer: NodeJS.Timeout | undefined;
  private resyncing: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly seqKey: string;
  private readonly onMessage = (message: string): void => this.apply(message);

  constructor(
    private readonly lease: TierLease,
    private readonly redis: TierRedis,
    private readonly channel: string,
    private readonly l1: L1Actions,
    private readonly leaseCheckMs: number,
    private readonly report: (error: unknown) => void,
  ) {
    super();
    this.seqKey = `${channel}:seq`;
  }

  /** Starts the lease check; the process that wins it subscribes. */
  start(): void {
    this.check();
    this.timer = setInterval(() => this.check(), this.leaseCheckMs);
    this.timer.unref();
  }

  get subscribed(): boolean {
    return this.subscriber !== undefined;
  }

  private check(): void {
    if (this.subscriber !== undefined) {
      this.publishMarkedFlush();
      return;
    }
    if (this.closed || !this.lease.tryAcquire()) return;
    const sub = this.redis.duplicate();
    this.subscriber = sub;
    sub.on('error', this.report);
    // 'ready' follows the first connect and every reconnect.
    sub.on('ready', () => this.scheduleResync());
    sub.connect().catch(this.report);
  }

  /**
   * Queues a resync; one that fails (the command connection may still be reconnecting when the
   * subscriber's is back) is retried after the lease check interval until one succeeds.
   */
  private scheduleResync(): void {
    this.resyncing = this.resyncing
      .then(() => this.resync())
      .catch((error: unknown) => {
        this.report(error);
        setTimeout(() => this.scheduleResync(), this.leaseCheckMs).unref();
      });
  }

  /**
   * (Re)subscribes, then compares the sequence key with the host's last seen seq. The
   * subscription is confirmed before the GET, so a message published after the GET is
   * delivered; one published before it is either delivered or counted in the difference.
   */
  private async resync(): Promise<void> {
    const sub = this.subscriber;
    if (sub === undefined || this.closed) return;
    await sub.unsubscribe(this.channel);
    await sub.subscribe(this.channel, this.onMessage);
    if (this.lease.takeUnpublished()) {
      await this.publish('flush', '');
    }
    const current = Number((await this.redis.get(this.seqKey)) ?? 0) % TWO_32;
    if (current !== this.lease.seenSeq()) await this.flush(current);
    this.emit('subscribed');
  }

  /**
   * A write can fail to publish after this subscriber's last resync (the writer's own
   * connection still backing off while this one is back). Its mark is taken here, at the next
   * lease check, instead of waiting for a resubscription that may never come. Guarded by
   * test/tier/20.hosts.test.ts ("a write that could not be published ...").
   */
  private publishMarkedFlush(): void {
    if (this.closed || this.subscriber?.isReady !== true || !this.redis.isReady) return;
    if (!this.lease.takeUnpublished()) return;
    this.publish('flush', '').catch((error: unknown) => {
      this.lease.markUnpublished();
      this.report(error);
    });
  }

  private async flush(seq: number): Promise<void> {
    this.lease.setSeenSeq(seq);
    this.lease.bumpEpoch();
    await this.l1.flush();
    this.lease.countFlush();
    this.emit('flush');
  }

  private apply(message: string): void {
    const a = message.indexOf(' ');
    const b = message.indexOf(' ', a + 1);
    const c = message.indexOf(' ', b + 1);
    if (a < 0 || b < 0 || c < 0) return;
    const seq = Number(message.slice(0, a)) % TWO_32;
    const host = message.slice(a + 1, b);
    const op = message.slice(b + 1, c);
    const key = message.slice(c + 1);
    if (seq !== (this.lease.seenSeq() + 1) % TWO_32) {
      this.flush(seq).catch(this.report); // a gap: some invalidation was lost
      return;
    }
    this.lease.setSeenSeq(seq);
    if (host === this.lease.hostId) return;
    if (op === 'flush') {
      this.flush(seq).catch(this.report);
      return;
    }
    this.lease.bumpEpoch();
    this.l1.invalidate(key).then(() => {
      this.lease.countApplied();
      this.emit('invalidated', key);
    }, this.report);
  }

  /** Publishes an invalidation of `key` (`op` is 'set', 'delete' or 'flush'). */
  async publish(op: string, key: string): Promise<void> {
    await this.redis.eval(PUBLISH_SCRIPT, {
      keys: [this.seqKey],
      arguments: [this.channel, `${this.lease.hostId} ${op} ${key}`],
    });
  }

  /** Stops the lease check, drops the subscription and gives the lease up. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    const sub = this.subscriber;
    this.subscriber = undefined;
    if (sub !== undefined) {
      sub.destroy();
      this.lease.release();
    }
  }
}
