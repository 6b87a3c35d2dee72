/**
 * Lock-file liveness (`liveness: 'lockfile'`, src/zone/liveness.ts, native/lockfile.cc), the
 * kind macOS gets, run here on Linux: a process SIGKILLed while it holds the pool lock is
 * seen dead and its lock taken over and rolled back; a worker thread terminated while it
 * holds the lock likewise; the lock file sits 0600 in this user's 0700 directory and goes
 * with the zone.
 */
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { ZoneRegistry } from '../../src/index.js';
import type { RecoveryReport } from '../../src/slab/api.js';
import { uniqueNamespace } from '../helpers/shm.js';
import { spawnFixture } from '../helpers/processes.js';
import { lockFileZones } from '../../src/zone/discover.js';

const lockDir = path.join(os.tmpdir(), `shmzone-${process.geteuid?.() ?? 0}`);
const lockFilesOf = (ns: string): string[] =>
  fs.existsSync(lockDir)
    ? fs.readdirSync(lockDir).filter((f) => f.startsWith(`shmzone.${ns}.`))
    : [];

describe("lock-file liveness (liveness: 'lockfile')", function () {
  this.timeout(60_000);

  it('a process SIGKILLed holding the lock: seen dead, lock taken over, file removed at the end', async () => {
    const ns = uniqueNamespace('lkf');
    const registry = new ZoneRegistry({
      namespace: ns,
      mode: 'standalone',
      liveness: 'lockfile',
      log: () => {},
    });
    const zone = registry.add('z', '256k');
    await registry.start();
    try {
      const files = lockFilesOf(ns);
      expect(files).to.have.length(1);
      expect(fs.statSync(path.join(lockDir, files[0])).mode & 0o777).to.equal(0o600);
      expect(fs.statSync(lockDir).mode & 0o777).to.equal(0o700);
      const reports: RecoveryReport[] = [];
      zone.pool.onRecovery((r) => reports.push(r));
      const holder = spawnFixture('lockfile-peer', [ns]);
      await holder.waitFor('locked');
      expect(zone.livePeers().length, 'the holder is alive').to.equal(2);
      expect(zone.pool.lockOwner()).to.not.equal(0);
      holder.child.kill('SIGKILL');
      await holder.exited;
      zone.pool.lock(); // must take the dead holder's lock over, not wait
      zone.pool.unlock();
      expect(reports).to.have.length(1);
      expect(reports[0].undone, 'its uncommitted allocation rolled back').to.be.above(0);
      zone.pool.lock();
      zone.pool.verify();
      zone.pool.unlock();
      expect(zone.livePeers().length, 'only this thread').to.equal(1);
    } finally {
      registry.stop();
    }
    expect(lockFilesOf(ns), 'the last one out removed it').to.deep.equal([]);
  });

  it('a worker thread terminated holding the lock: its slot and lock are released', async () => {
    const ns = uniqueNamespace('lkt');
    const registry = new ZoneRegistry({
      namespace: ns,
      mode: 'owner',
      liveness: 'lockfile',
      log: () => {},
    });
    const zone = registry.add('z', '256k');
    await registry.start();
    try {
      const reports: RecoveryReport[] = [];
      zone.pool.onRecovery((r) => reports.push(r));
      const worker = new Worker(new URL('../fixtures/lockfile-thread.js', import.meta.url), {
        workerData: zone.transfer(),
      });
      await new Promise((resolve) => worker.once('message', resolve));
      expect(zone.livePeers().length).to.equal(2);
      await worker.terminate();
      expect(zone.livePeers().length, 'the terminated thread is not alive').to.equal(1);
      zone.pool.lock();
      zone.pool.verify();
      zone.pool.unlock();
      expect(reports).to.have.length(1);
    } finally {
      registry.stop();
    }
  });

  it('refuses an unknown liveness with a typed error', () => {
    let code: string | undefined;
    try {
      new ZoneRegistry({ liveness: 'pid' as 'lockfile' });
    } catch (err) {
      code = (err as { code?: string }).code;
    }
    expect(code).to.equal('ERR_ZONE_OPTIONS');
  });
});

describe('finding zones by their lock files (how macOS lists them)', () => {
  it('lockFileZones names a live lock-file zone, and nothing once it is gone', async () => {
    const ns = uniqueNamespace('lkl');
    const registry = new ZoneRegistry({ namespace: ns, mode: 'owner', liveness: 'lockfile' });
    registry.add('z', '256k');
    registry.add('y', '128k');
    await registry.start();
    try {
      const found = lockFileZones(`shmzone.${ns}.`);
      expect(found.map((l) => [l.name, l.size]).sort()).to.deep.equal([
        [`shmzone.${ns}.y`, 128 * 1024],
        [`shmzone.${ns}.z`, 256 * 1024],
      ]);
    } finally {
      registry.stop();
    }
    expect(lockFileZones(`shmzone.${ns}.`)).to.deep.equal([]);
  });
});
