/**
 * Model test: random command sequences against SharedDict and a Map-with-TTL model, with a
 * fake clock, in a zone big enough that nothing is evicted. Every result must match.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { attachAgain, makeDict } from '../dict/util.js';

interface Entry {
  value: unknown;
  flags: number;
  expires: number; // 0 = never
  list?: unknown[];
}

class Model {
  readonly m = new Map<string, Entry>();
  constructor(readonly now: () => number) {}
  live(k: string): Entry | undefined {
    const e = this.m.get(k);
    if (e === undefined) return undefined;
    if (e.expires !== 0 && e.expires <= this.now()) return undefined;
    return e;
  }
  at(ttl: number): number {
    return ttl === 0 ? 0 : Math.ceil(this.now() + ttl);
  }
}

const keyArb = fc.constantFrom('a', 'b', 'c', 'd', 'ü', 'key:1', 'key:2');
const valueArb = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.double({ noNaN: true }),
  fc.boolean(),
  fc.uint8Array({ maxLength: 40 }).map((u) => Buffer.from(u)),
);
const ttlArb = fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 50 }));
const flagsArb = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffffffff }));

type Cmd =
  | { op: 'set' | 'add' | 'replace' | 'safeSet'; k: string; v: unknown; ttl: number; flags: number }
  | { op: 'get' | 'getStale' | 'delete' | 'ttl' | 'has' | 'lpop' | 'rpop' | 'llen'; k: string }
  | { op: 'incr'; k: string; by: number; init?: number; initTtl?: number }
  | { op: 'expire'; k: string; ttl: number }
  | { op: 'lpush' | 'rpush'; k: string; v: unknown }
  | { op: 'tick'; ms: number }
  | { op: 'flushExpired' | 'keys' };

const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  fc.record({
    op: fc.constantFrom('set', 'add', 'replace', 'safeSet' as const),
    k: keyArb,
    v: valueArb,
    ttl: ttlArb,
    flags: flagsArb,
  }),
  fc.record({
    op: fc.constantFrom('get', 'getStale', 'delete', 'ttl', 'has', 'lpop', 'rpop', 'llen' as const),
    k: keyArb,
  }),
  fc.record({
    op: fc.constant('incr' as const),
    k: keyArb,
    by: fc.integer({ min: -5, max: 5 }),
    init: fc.option(fc.integer({ min: -10, max: 10 }), { nil: undefined }),
    initTtl: fc.option(ttlArb, { nil: undefined }),
  }),
  fc.record({ op: fc.constant('expire' as const), k: keyArb, ttl: ttlArb }),
  fc.record({
    op: fc.constantFrom('lpush', 'rpush' as const),
    k: keyArb,
    v: fc.oneof(fc.string({ maxLength: 10 }), fc.integer()),
  }),
  fc.record({ op: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 30 }) }),
  fc.record({ op: fc.constantFrom('flushExpired', 'keys' as const) }),
);

function run(cmds: Cmd[], threadCache: boolean, localCache = 0): void {
  const t = makeDict(8 * 1024 * 1024, { threadCache });
  const { dict, clock } = t;
  // Gets also read through an object with a local cache (src/dict/local-cache.ts): a small
  // one, so that its clock and doorkeeper run too. It must agree with the model as well.
  const reader = localCache > 0 ? attachAgain(t, { localCache }) : undefined;
  const model = new Model(clock.now);
  const m = model.m;
  for (const c of cmds) {
    const label = JSON.stringify(c);
    switch (c.op) {
      case 'tick':
        clock.advance(c.ms);
        break;
      case 'set':
      case 'safeSet':
      case 'add':
      case 'replace': {
        const live = model.live(c.k);
        const ok = c.op === 'add' ? !live : c.op === 'replace' ? !!live : true;
        const r = dict[c.op](c.k, c.v as string, c.ttl, c.flags);
        expect(r > 0, label).to.equal(ok);
        if (ok) m.set(c.k, { value: c.v, flags: c.flags, expires: model.at(c.ttl) });
        break;
      }
      case 'get': {
        const e = model.live(c.k);
        const got = dict.get(c.k);
        if (!e || e.list) expect(got, label).to.equal(undefined);
        else {
          expect(got, label).to.deep.equal(e.value);
          expect(dict.lastFlags, label).to.equal(e.flags);
        }
        if (reader !== undefined) {
          const kept = reader.get(c.k);
          if (!e || e.list) expect(kept, `${label} (local)`).to.equal(undefined);
          else {
            expect(kept, `${label} (local)`).to.deep.equal(e.value);
            expect(reader.lastFlags, `${label} (local)`).to.equal(e.flags);
          }
        }
        break;
      }
      case 'getStale': {
        const got = dict.getStale(c.k);
        const e = m.get(c.k);
        // An expired entry may already have been reclaimed: the dict may say undefined.
        if (e && !e.list && got !== undefined) expect(got, label).to.deep.equal(e.value);
        if (model.live(c.k) && !e!.list) expect(got, label).to.deep.equal(e!.value);
        break;
      }
      case 'has':
        expect(dict.has(c.k), label).to.equal(!!model.live(c.k));
        break;
      case 'delete': {
        const live = !!model.live(c.k);
        expect(dict.delete(c.k), label).to.equal(live);
        m.delete(c.k);
        break;
      }
      case 'ttl': {
        const e = model.live(c.k);
        const got = dict.ttl(c.k);
        expect(got, label).to.equal(
          e ? (e.expires === 0 ? 0 : e.expires - clock.now()) : undefined,
        );
        break;
      }
      case 'expire': {
        const e = model.live(c.k);
        expect(dict.expire(c.k, c.ttl), label).to.equal(!!e);
        if (e) e.expires = model.at(c.ttl);
        break;
      }
      case 'incr': {
        const e = model.live(c.k);
        const got = dict.incr(c.k, c.by, c.init, c.init === undefined ? undefined : c.initTtl);
        if (e) {
          if (typeof e.value === 'number' && !e.list) {
            e.value = (e.value as number) + c.by;
            expect(got, label).to.equal(e.value);
          } else expect(got, label).to.equal(undefined);
        } else if (c.init === undefined) expect(got, label).to.equal(undefined);
        else {
          const v = c.init + c.by;
          expect(got, label).to.equal(v);
          m.set(c.k, { value: v, flags: 0, expires: model.at(c.initTtl ?? 0) });
        }
        break;
      }
      case 'lpush':
      case 'rpush': {
        let e = model.live(c.k);
        const got = dict[c.op](c.k, c.v as string);
        if (e && !e.list) {
          expect(got, label).to.equal(undefined);
          break;
        }
        if (!e) {
          e = { value: undefined, flags: 0, expires: 0, list: [] };
          m.set(c.k, e);
        }
        if (c.op === 'lpush') e.list!.unshift(c.v);
        else e.list!.push(c.v);
        expect(got, label).to.equal(e.list!.length);
        break;
      }
      case 'lpop':
      case 'rpop': {
        const e = model.live(c.k);
        const got = dict[c.op](c.k);
        if (!e || !e.list) expect(got, label).to.equal(undefined);
        else {
          expect(got, label).to.deep.equal(c.op === 'lpop' ? e.list.shift() : e.list.pop());
          if (e.list.length === 0) m.delete(c.k);
        }
        break;
      }
      case 'llen': {
        const e = model.live(c.k);
        const got = dict.llen(c.k);
        expect(got, label).to.equal(!e ? 0 : e.list ? e.list.length : undefined);
        break;
      }
      case 'flushExpired':
        dict.flushExpired();
        for (const [k] of m) if (!model.live(k)) m.delete(k);
        expect(dict.size(), label).to.equal(m.size);
        break;
      case 'keys': {
        const liveKeys = [...m.keys()].filter((k) => model.live(k)).sort();
        expect([...dict.keys(0)].sort(), label).to.deep.equal(liveKeys);
        break;
      }
    }
  }
  dict.verify();
}

describe('SharedDict vs a Map-with-TTL model (fast-check)', function () {
  this.timeout(120_000);
  // With caches, stores build their entries before the lock (src/dict/held-entry.ts).
  for (const threadCache of [false, true]) {
    it(`agrees on every result of random command sequences (thread cache ${threadCache ? 'on' : 'off'})`, () => {
      fc.assert(
        fc.property(fc.array(cmdArb, { maxLength: 120 }), (cmds) => run(cmds, threadCache)),
        { numRuns: 300, verbose: 1 },
      );
    });
  }
  it('agrees on every result with gets also read through a local cache of 4 keys', () => {
    // Longer sequences, more gets: a kept value must meet later stores, deletes, expiry.
    const withGets = fc.oneof(
      { weight: 3, arbitrary: cmdArb },
      { weight: 2, arbitrary: fc.record({ op: fc.constant('get' as const), k: keyArb }) },
    );
    fc.assert(
      fc.property(fc.array(withGets, { minLength: 60, maxLength: 200 }), (cmds) =>
        run(cmds, true, 4),
      ),
      { numRuns: 300, verbose: 1 },
    );
  });
});
