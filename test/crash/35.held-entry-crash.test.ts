/**
 * Crash points of a dict store that builds its entry before the lock (src/dict/held-entry.ts,
 * src/slab/holding-pool.ts): a child with a stocked thread cache overwrites `target` and
 * SIGKILLs itself as it takes the held chunk, under the lock before the claim, after every
 * journaled store of the locked section in turn, and after the lock before the replaced entry
 * goes back to its cache. After each death this process takes the lock over, reaps the child
 * and must find: both verify() passing, `target` old (died before the commit) or new (after
 * it), every other key kept, and as many chunks in use per class as before the child's store:
 * no held chunk leaked and none freed twice.
 */
import { expect } from 'chai';
import { ZoneRegistry } from '../../src/index.js';
import { sharedDict } from '../../src/dict/index.js';
import type { SlabPool } from '../../src/slab/pool.js';
import { uniqueNamespace } from '../helpers/shm.js';
import { killAllFixtures, spawnFixture } from '../helpers/processes.js';
import { takeOverAndVerify } from './util.js';

const SIZE = 1024 * 1024;
const OLD = 'old:' + 'o'.repeat(150);
const NEW = 'new:' + 'n'.repeat(150); // the same class as OLD

type At = 'journal' | 'take' | 'claim' | 'release';

interface Outcome {
  died: boolean;
  done?: { writes: number; allocs: number };
  target: unknown;
}

async function crashAt(at: At, k: number): Promise<Outcome> {
  const ns = uniqueNamespace('cpheld');
  const reg = new ZoneRegistry({ namespace: ns, mode: 'owner', log: () => {} });
  const dict = sharedDict(reg, 'd', SIZE);
  await reg.start();
  try {
    for (let i = 0; i < 20; i++) dict.set(`k${i}`, `v${i}`);
    dict.set('target', OLD);
    const pool = dict.core.pool as SlabPool;
    const child = spawnFixture(
      'crash-held-child',
      [JSON.stringify({ ns, size: SIZE, at, target: 'target', value: NEW })],
      { ...process.env, SHMZONE_CRASH_AT: String(at === 'journal' ? k : 0) },
    );
    await child.waitFor('warm', 20_000);
    const used = pool.stats().slots.map((s) => s.used);
    child.child.stdin!.write('go\n');
    const exit = await child.exited;
    const died = exit.signal === 'SIGKILL';
    if (!died) expect(exit.code, child.stderr()).to.equal(0);
    const target = dict.get('target'); // takes the lock over if the child died holding it
    reg.get('d').reapDeadPeers(); // gives back the dead child's cache block and held chunk
    expect(takeOverAndVerify(pool), `${at} ${k}: the pool verifies`).to.equal(undefined);
    dict.verify();
    for (let i = 0; i < 20; i++) expect(dict.get(`k${i}`), `${at} ${k}: k${i}`).to.equal(`v${i}`);
    // The child's warm-up key stays; the store replaced one entry by one of the same class.
    expect(
      pool.stats().slots.map((s) => s.used),
      `${at} ${k}: chunks in use per class`,
    ).to.deep.equal(used);
    const done = child.lines.find((l) => l.event === 'done') as Outcome['done'];
    return { died, done, target };
  } finally {
    reg.stop();
  }
}

(process.env.SHMZONE_DEBUG === '1' ? describe.skip : describe)(
  'crash: a dict store that builds its entry before the lock',
  function () {
    this.timeout(300_000);
    afterEach(killAllFixtures);

    for (const at of ['take', 'claim'] as const) {
      it(`died ${at === 'take' ? 'taking the held chunk' : 'under the lock before the claim'}: old value, nothing leaks`, async () => {
        const o = await crashAt(at, 0);
        expect(o.died).to.equal(true);
        expect(o.target).to.equal(OLD);
      });
    }

    it('died after the lock, before the replaced entry went back: new value, nothing leaks', async () => {
      const o = await crashAt('release', 0);
      expect(o.died).to.equal(true);
      expect(o.target).to.equal(NEW);
    });

    it('every journaled store of the locked section: old value until the commit, nothing leaks', async () => {
      let k = 1;
      for (; ; k++) {
        expect(k).to.be.at.most(100);
        const o = await crashAt('journal', k);
        if (!o.died) {
          expect(o.done, 'the store completed').to.not.equal(undefined);
          expect(o.done!.allocs, 'no allocation under the lock: the held path ran').to.equal(0);
          expect(o.done!.writes).to.equal(k - 1);
          expect(o.target).to.equal(NEW);
          break;
        }
        expect(o.target, `k=${k}: the killed store is fully undone`).to.equal(OLD);
      }
      expect(k - 1, 'journaled stores in the section').to.be.greaterThan(3);
    });
  },
);
