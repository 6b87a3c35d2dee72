/**
 * getOrSet and wrap inside one process: same-thread sharing, worker threads (one load for
 * all, a terminated loader thread replaced), a throwing loader, the event loop kept running
 * while waiting, and bad input (codes, nothing stored, loader not called).
 */
import { expect } from 'chai';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { sharedDict } from '../../src/dict/declare.js';
import type { SharedDict } from '../../src/dict/dict.js';
import { openFlights, type FlightDict } from '../../src/dict/flight.js';
import { ZoneRegistry } from '../../src/zone/registry.js';
import { runFlight, type FlightMode, type FlightOutcome } from '../fixtures/flight-lib.js';
import { uniqueNamespace } from '../helpers/shm.js';
import { makeDict, rejection, thrown } from './util.js';

const THREAD = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../fixtures/flight-thread.js',
);

interface Thread {
  worker: Worker;
  lines: Array<Record<string, unknown>>;
  next(event: string): Promise<Record<string, unknown>>;
}

function startThread(dict: SharedDict, calls: number, loadMs: number, mode: FlightMode): Thread {
  const worker = new Worker(THREAD, {
    workerData: { handle: dict.transfer(), key: 'cold', calls, loadMs, mode },
  });
  const lines: Array<Record<string, unknown>> = [];
  const waiting: Array<() => void> = [];
  worker.on('message', (m: Record<string, unknown>) => {
    lines.push(m);
    for (const w of waiting.splice(0)) w();
  });
  const next = (event: string): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      const look = (): void => {
        const hit = lines.find((l) => l.event === event);
        if (hit !== undefined) resolve(hit);
        else waiting.push(look);
      };
      worker.once('error', reject);
      look();
    });
  return { worker, lines, next };
}

/** In-flight markers left (0xFF 'F' key); takeover claims (0xFF 'T') expire by themselves. */
function markers(dict: SharedDict): number {
  return dict.keys(0, true).filter((k) => k[0] === 0xff && k[1] === 0x46).length;
}

describe('SharedDict.getOrSet and wrap', function () {
  this.timeout(60_000);
  let registry: ZoneRegistry;
  let dict: SharedDict;
  const workers: Worker[] = [];

  beforeEach(async () => {
    registry = new ZoneRegistry({ namespace: uniqueNamespace('flightt'), mode: 'owner' });
    dict = sharedDict(registry, 'flight', '1m');
    await registry.start();
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.terminate()));
    await registry.stop();
  });

  it('returns a stored value without calling the loader, and stores a loaded one with its ttl', async () => {
    dict.set('warm', 'cached');
    let calls = 0;
    const load = (): string => `loaded ${++calls}`;
    expect(await dict.getOrSet('warm', load)).to.equal('cached');
    expect(await dict.getOrSet('cold', load, { ttl: 5000 })).to.equal('loaded 1');
    expect(await dict.getOrSet('cold', load, { ttl: 5000 })).to.equal('loaded 1');
    expect(calls).to.equal(1);
    expect(dict.ttl('cold')).to.be.within(4000, 5000);
    const bytes = await dict.getOrSet(new Uint8Array([1, 2]), () => Buffer.from('b'));
    expect(Buffer.from(bytes as Uint8Array).toString()).to.equal('b');
    expect(markers(dict)).to.equal(0);
  });

  it('a load that ends between the miss and the marker add: its value is returned, the loader not called', async () => {
    // Another process's loader stores the value and drops its marker just after this
    // thread's get missed and just before its add of the marker (the add then succeeds).
    let raced = false;
    const racing: FlightDict = {
      name: dict.name,
      get lastStatus() {
        return dict.lastStatus;
      },
      get: (k) => dict.get(k),
      add: (k, v, ttl) => {
        if (!raced && k instanceof Uint8Array && k[0] === 0xff) {
          raced = true;
          dict.set('raced', 'stored elsewhere');
        }
        return dict.add(k, v, ttl);
      },
      set: (k, v, ttl) => dict.set(k, v, ttl),
      delete: (k) => dict.delete(k),
      ttl: (k) => dict.ttl(k),
    };
    const flights = openFlights(racing, dict.session.host);
    let calls = 0;
    const value = await flights.getOrSet('raced', () => `loaded ${++calls}`);
    expect(raced).to.equal(true);
    expect(value).to.equal('stored elsewhere');
    expect(calls, 'the origin was called again').to.equal(0);
    expect(markers(dict)).to.equal(0);
  });

  it("stores an object through the dict's codec (v8 by default) for every caller", async () => {
    const objects = dict;
    const load = (): { id: number; tags: Set<string> } => ({ id: 7, tags: new Set(['a']) });
    const [a, b] = await Promise.all([objects.getOrSet('o', load), objects.getOrSet('o', load)]);
    expect(a).to.deep.equal({ id: 7, tags: new Set(['a']) });
    expect(b).to.equal(a);
    expect(objects.get('o')).to.deep.equal(a);
  });

  it('50 calls in one thread share one load; a throwing loader rejects all 50 and holds nothing', async () => {
    const ok = await runFlight(dict, 'cold', 50, 20, 'ok', 'main', () => {});
    expect(dict.get('loads')).to.equal(1);
    expect(new Set(ok.values)).to.deep.equal(new Set(['v:main']));
    const bad = await runFlight(dict, 'other', 50, 20, 'throw', 'main', () => {});
    expect(dict.get('loads')).to.equal(2);
    expect(bad.values).to.deep.equal([]);
    expect(new Set(bad.errors)).to.deep.equal(new Set(['loader of main failed']));
    expect(dict.get('other')).to.equal(undefined);
    expect(markers(dict)).to.equal(0);
    expect(registry.get('flight').pool.holdsLock()).to.equal(false);
    // The next call loads again.
    expect(await dict.getOrSet('other', () => 'second')).to.equal('second');
    dict.verify();
  });

  it('4 worker threads x 50 calls and the main thread x 50: one load', async () => {
    const threads = [0, 1, 2, 3].map(() => startThread(dict, 50, 150, 'ok'));
    workers.push(...threads.map((t) => t.worker));
    await Promise.all(threads.map((t) => t.next('ready')));
    for (const t of threads) t.worker.postMessage('go');
    const mine = runFlight(dict, 'cold', 50, 150, 'ok', 'main', () => {});
    const outcomes = [
      await mine,
      ...((await Promise.all(threads.map((t) => t.next('done')))) as unknown as FlightOutcome[]),
    ];
    expect(dict.get('loads')).to.equal(1);
    const values = outcomes.flatMap((o) => o.values);
    expect(values).to.have.length(250);
    expect(new Set(values).size).to.equal(1);
    expect(markers(dict)).to.equal(0);
  });

  it('the loader thread terminated mid-load: the main thread takes over within 2 s, event loop running', async () => {
    const doomed = startThread(dict, 5, 0, 'hang');
    workers.push(doomed.worker);
    await doomed.next('ready');
    doomed.worker.postMessage('go');
    await doomed.next('loading');
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 5);
    const waiting = runFlight(dict, 'cold', 50, 10, 'ok', 'main', () => {});
    await new Promise((r) => setTimeout(r, 300));
    expect(ticks, 'timer ticks while 50 calls wait').to.be.above(20);
    expect(dict.get('loads')).to.equal(1);
    const killedAt = performance.now();
    await doomed.worker.terminate();
    const outcome = await waiting;
    clearInterval(ticker);
    expect(performance.now() - killedAt).to.be.below(2000);
    expect(dict.get('loads')).to.equal(2);
    expect(new Set(outcome.values)).to.deep.equal(new Set(['v:main']));
    expect(markers(dict)).to.equal(0);
    dict.verify();
  });

  it('waiting threads terminated mid-wait: the loader completes, nothing is left behind', async () => {
    let release!: () => void;
    const loading = dict.getOrSet(
      'cold',
      () => new Promise<string>((r) => (release = () => r('main'))),
    );
    const waiters = [0, 1, 2].map(() => startThread(dict, 20, 0, 'ok'));
    workers.push(...waiters.map((t) => t.worker));
    await Promise.all(waiters.map((t) => t.next('ready')));
    for (const t of waiters) t.worker.postMessage('go');
    await new Promise((r) => setTimeout(r, 200)); // asleep in futexWaitAsync
    await Promise.all(waiters.map((t) => t.worker.terminate()));
    release();
    expect(await loading).to.equal('main');
    expect(dict.get('loads')).to.equal(undefined); // no thread loaded
    expect(markers(dict)).to.equal(0);
    dict.verify();
  });

  it('wrap caches by arguments, with a key function or the default key', async () => {
    let calls = 0;
    const square = dict.wrap(async (n: number) => ++calls && n * n, { ttl: 1000 });
    expect(await Promise.all([square(3), square(3), square(4)])).to.deep.equal([9, 9, 16]);
    expect(await square(3)).to.equal(9);
    expect(calls).to.equal(2);
    const user = dict.wrap((id: string) => `user ${id}`, { key: (id) => `user:${id}` });
    expect(await user('7')).to.equal('user 7');
    expect(dict.get('user:7')).to.equal('user 7');
  });

  describe('bad input: a DictError with a code, nothing stored, the loader not called', () => {
    let called = false;
    const loader = (): string => {
      called = true;
      return 'x';
    };
    const cases: Array<[string, () => Promise<unknown>, string]> = [
      ['a number key', () => dict.getOrSet(42 as unknown as string, loader), 'ERR_DICT_KEY_TYPE'],
      ['an empty key', () => dict.getOrSet('', loader), 'ERR_DICT_KEY_EMPTY'],
      ['a lone surrogate key', () => dict.getOrSet('a\ud800', loader), 'ERR_DICT_KEY_UNICODE'],
      ['a key too long', () => dict.getOrSet('k'.repeat(65_532), loader), 'ERR_DICT_KEY_TOO_LONG'],
      [
        'a reserved key',
        () => dict.getOrSet(new Uint8Array([0xff, 1]), loader),
        'ERR_DICT_KEY_RESERVED',
      ],
      [
        'a loader not a function',
        () => dict.getOrSet('k', 'x' as unknown as () => string),
        'ERR_DICT_LOADER',
      ],
      ['a negative ttl', () => dict.getOrSet('k', loader, { ttl: -1 }), 'ERR_DICT_TTL'],
      [
        'a ttl string',
        () => dict.getOrSet('k', loader, { ttl: '5' as unknown as number }),
        'ERR_DICT_TTL',
      ],
      [
        'options not an object',
        () => dict.getOrSet('k', loader, 5 as unknown as object),
        'ERR_DICT_OPTION',
      ],
    ];
    for (const [what, call, code] of cases) {
      it(`${what} -> ${code}`, async () => {
        called = false;
        const before = dict.keys(0, true).length;
        expect((await rejection(call())).code).to.equal(code);
        expect(called).to.equal(false);
        expect(dict.keys(0, true).length).to.equal(before);
      });
    }

    it('a loader returning undefined or a function -> ERR_DICT_LOADER_VALUE / ERR_DICT_VALUE_TYPE', async () => {
      const a = await rejection(dict.getOrSet('k', () => undefined as unknown as string));
      expect(a.code).to.equal('ERR_DICT_LOADER_VALUE');
      const b = await rejection(dict.getOrSet('k', () => (() => 1) as unknown as string));
      expect(b.code).to.equal('ERR_DICT_VALUE_TYPE');
      expect(dict.keys(0, true)).to.deep.equal([]);
    });

    it('wrap with fn or key not a function throws at once', () => {
      expect(thrown(() => dict.wrap(null as unknown as () => string)).code).to.equal(
        'ERR_DICT_LOADER',
      );
      const key = 'k' as unknown as () => string;
      expect(thrown(() => dict.wrap(() => 'v', { key })).code).to.equal('ERR_DICT_OPTION');
    });

    it('a dict not in a zone -> ERR_DICT_FLIGHT_HOST', async () => {
      const { dict: plain } = makeDict();
      expect((await rejection(plain.getOrSet('k', loader))).code).to.equal('ERR_DICT_FLIGHT_HOST');
      expect(plain.keys()).to.deep.equal([]);
    });
  });
});
