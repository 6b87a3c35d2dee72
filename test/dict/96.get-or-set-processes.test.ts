/**
 * getOrSet across real processes (fixtures/flight-child.ts): one load per cold key on the
 * host, a SIGKILLed loader replaced within 2 s, a throwing loader rejecting only its own
 * callers, and no lock or marker left behind.
 */
import { expect } from 'chai';
import { sharedDict } from '../../src/dict/declare.js';
import type { SharedDict } from '../../src/dict/dict.js';
import { ZoneRegistry } from '../../src/zone/registry.js';
import { killAllFixtures, spawnFixture, type FixtureProcess } from '../helpers/processes.js';
import { uniqueNamespace } from '../helpers/shm.js';

interface Done {
  values: string[];
  errors: string[];
  ms: number;
}

async function start(
  ns: string,
  calls: number,
  loadMs: number,
  mode: string,
): Promise<FixtureProcess> {
  const child = spawnFixture('flight-child', [ns, 'cold', String(calls), String(loadMs), mode]);
  await child.waitFor('ready', 20_000);
  return child;
}

function go(children: FixtureProcess[]): void {
  for (const c of children) c.child.stdin!.write('go\n');
}

async function done(child: FixtureProcess, timeoutMs = 20_000): Promise<Done> {
  return (await child.waitFor('done', timeoutMs)) as unknown as Done;
}

/** Entries left besides `cold` and the `loads` counter: flight markers must be gone. */
function leftovers(dict: SharedDict): number {
  return dict.keys(0, true).filter((k) => k[0] === 0xff && k[1] === 0x46).length;
}

describe('SharedDict.getOrSet across processes', function () {
  this.timeout(120_000);
  let registry: ZoneRegistry;
  let dict: SharedDict;
  let ns: string;

  beforeEach(async () => {
    ns = uniqueNamespace('flight');
    registry = new ZoneRegistry({ namespace: ns, mode: 'owner' });
    dict = sharedDict(registry, 'flight', '1m');
    await registry.start();
  });
  afterEach(async () => {
    await killAllFixtures();
    await registry.stop();
  });

  it('4 processes x 50 concurrent calls on one cold key: the loader runs once on the host', async () => {
    const children = await Promise.all([0, 1, 2, 3].map(() => start(ns, 50, 150, 'ok')));
    go(children);
    const results = await Promise.all(children.map((c) => done(c)));
    expect(dict.get('loads')).to.equal(1);
    const values = results.flatMap((r) => r.values);
    expect(values).to.have.length(200);
    expect(new Set(values).size).to.equal(1);
    expect(values[0]).to.equal(dict.get('cold'));
    expect(results.flatMap((r) => r.errors)).to.deep.equal([]);
    expect(leftovers(dict)).to.equal(0);
    dict.verify();
  });

  it('the loader process SIGKILLed mid-load: the others resolve within 2 s with one new load', async () => {
    const doomed = await start(ns, 10, 0, 'hang');
    go([doomed]);
    await doomed.waitFor('loading', 20_000);
    const others = await Promise.all([0, 1, 2].map(() => start(ns, 50, 50, 'ok')));
    go(others);
    await new Promise((r) => setTimeout(r, 300)); // they are waiting on the doomed loader
    expect(dict.get('loads')).to.equal(1);
    const killedAt = performance.now();
    doomed.child.kill('SIGKILL');
    const results = await Promise.all(others.map((c) => done(c)));
    const after = performance.now() - killedAt;
    expect(after).to.be.below(2000);
    expect(dict.get('loads')).to.equal(2);
    const values = results.flatMap((r) => r.values);
    expect(values).to.have.length(150);
    expect(new Set(values).size).to.equal(1);
    expect(values[0]).to.equal(dict.get('cold'));
    expect(leftovers(dict)).to.equal(0);
    expect(registry.get('flight').pool.holdsLock()).to.equal(false);
    dict.verify();
  });

  it('a loader that throws rejects its own callers; another process then loads once', async () => {
    const thrower = await start(ns, 50, 300, 'throw');
    go([thrower]);
    await thrower.waitFor('loading', 20_000);
    const others = await Promise.all([0, 1].map(() => start(ns, 50, 50, 'ok')));
    go(others);
    const failed = await done(thrower);
    expect(failed.values).to.deep.equal([]);
    expect(failed.errors).to.have.length(50);
    expect(new Set(failed.errors)).to.deep.equal(new Set([`loader of p${thrower.pid} failed`]));
    const results = await Promise.all(others.map((c) => done(c)));
    expect(dict.get('loads')).to.equal(2);
    const values = results.flatMap((r) => r.values);
    expect(values).to.have.length(100);
    expect(new Set(values).size).to.equal(1);
    expect(leftovers(dict)).to.equal(0);
    // No lock left held once every caller has gone (each leaves under the lock, after 'done').
    const exits = await Promise.all([thrower, ...others].map((c) => c.exited));
    expect(exits.map((e) => e.code)).to.deep.equal([0, 0, 0]);
    const pool = registry.get('flight').pool;
    expect(Atomics.load(pool.i32, pool.lockWord)).to.equal(0);
    dict.verify();
  });
});
