/**
 * A cluster primary (owner mode) that dies while its 2 workers use a zone and a SharedDict.
 * However it dies, its workers exit (Node ends a cluster worker whose IPC channel
 * disconnects) and, once they are gone, nothing of the namespace is left in /dev/shm: the
 * primary removes its segments itself when it can run code (exit, SIGTERM, SIGINT, uncaught
 * exception); after SIGKILL the last worker out removes them (attach mode leaves "last-out").
 * The fixture's workers have no code of their own for this.
 */
import { expect } from 'chai';
import fs from 'node:fs';
import { segmentsWithPrefix, uniqueNamespace } from '../helpers/shm.js';
import { killAllFixtures, spawnFixture, type FixtureProcess } from '../helpers/processes.js';

/** Running and not a zombie (an orphan's reaper may be slow or missing in a container). */
function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

async function until(what: string, ms: number, test: () => boolean): Promise<void> {
  const end = Date.now() + ms;
  while (!test()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('cluster primary death (owner mode, 2 workers, zone + SharedDict)', () => {
  let pids: number[] = [];
  let namespaces: string[] = [];
  afterEach(async () => {
    for (const pid of pids) kill(pid);
    await killAllFixtures();
    for (const ns of namespaces) {
      for (const name of segmentsWithPrefix(`${ns}.`))
        fs.rmSync(`/dev/shm/${name}`, { force: true });
    }
    pids = [];
    namespaces = [];
  });

  const cases = [
    { how: 'SIGKILL', act: (p: FixtureProcess) => p.child.kill('SIGKILL') },
    { how: 'an uncaught exception', act: (p: FixtureProcess) => p.child.stdin!.write('throw\n') },
    { how: 'SIGTERM', act: (p: FixtureProcess) => p.child.kill('SIGTERM') },
    { how: 'SIGINT', act: (p: FixtureProcess) => p.child.kill('SIGINT') },
    {
      how: 'process.exit(0) while workers run',
      act: (p: FixtureProcess) => p.child.stdin!.write('exit\n'),
    },
  ];

  for (const { how, act } of cases) {
    it(`primary killed by ${how}: the workers exit and nothing of the namespace is left`, async () => {
      const ns = uniqueNamespace('pc');
      namespaces.push(ns);
      const p = spawnFixture('zone-primary-crash', [ns, '2']);
      const ready = (await p.waitFor('ready', 20_000)) as { primary: number; workers: number[] };
      pids.push(ready.primary, ...ready.workers);
      expect(ready.workers).to.have.length(2);
      expect(segmentsWithPrefix(`${ns}.`)).to.deep.equal([`shmzone.${ns}.d`, `shmzone.${ns}.z`]);

      act(p);
      await until('the primary to die', 10_000, () => !alive(ready.primary));
      await until('both workers to exit', 10_000, () => ready.workers.every((w) => !alive(w)));
      // Their exit handlers ran before they were gone: no grace period is needed.
      expect(segmentsWithPrefix(`${ns}.`), p.stderr()).to.deep.equal([]);
      const timer = setTimeout(() => p.child.kill('SIGKILL'), 5_000);
      const { code, signal } = await p.exited;
      clearTimeout(timer);
      if (how === 'SIGKILL' || how === 'SIGTERM' || how === 'SIGINT') expect(signal).to.equal(how);
      if (how === 'an uncaught exception') expect(code).to.equal(1);
      if (how === 'process.exit(0) while workers run') expect(code).to.equal(0);
    });
  }
});
