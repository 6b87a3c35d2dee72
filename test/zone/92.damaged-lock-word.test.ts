/**
 * A lock word that damage set to an id no peer can have (negative as an Int32, or past the
 * last owner generation) names no live owner: the next locker takes the lock over, rolls back
 * and verifies, and logs it, instead of waiting forever (peers.ts `isOwnerDead`). Each case
 * runs in a child process under a watchdog, since a hang inside `Atomics.wait` cannot be
 * interrupted by a mocha timeout.
 */
import { expect } from 'chai';
import { spawnFixture } from '../helpers/processes.js';
import { uniqueNamespace } from '../helpers/shm.js';

const WATCHDOG_MS = 15_000;

describe('zone: a damaged lock word holding an impossible owner id', function () {
  this.timeout(30_000);
  for (const word of [0xffffffff, 0x80000005, 2 ** 31 + 1]) {
    it(`0x${word.toString(16)}: taken over and logged, the dict keeps its keys`, async () => {
      const p = spawnFixture('damaged-lock-word', [uniqueNamespace('dlw'), String(word)]);
      const watchdog = setTimeout(() => p.child.kill('SIGKILL'), WATCHDOG_MS);
      const exit = await p.exited;
      clearTimeout(watchdog);
      expect(exit.signal, `hung (killed after ${WATCHDOG_MS} ms) ${p.stderr()}`).to.equal(null);
      expect(exit.code, p.stderr()).to.equal(0);
      const done = p.lines.find((l) => l.event === 'done')!;
      expect(done).to.include({
        kept: 'before the damage',
        after: 'the damage',
        allocated: true,
        recoveries: 1,
        lockFree: true,
      });
      expect((done.logs as string[]).join('\n')).to.match(/took over the lock of dead owner/);
    });
  }
});
