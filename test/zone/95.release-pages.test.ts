/**
 * After stop(), a zone's tmpfs pages are given back at once when this process was the last
 * user (issue 16), instead of staying allocated until the SharedArrayBuffer is collected; and
 * never while another process still works on the zone. Measured with this process's own
 * RssShmem (/proc/self/status: shared memory pages it has mapped), holding a reference to the
 * buffer so that garbage collection cannot be what frees them.
 */
import { expect } from 'chai';
import fs from 'node:fs';
import { ZoneRegistry, type Zone } from '../../src/index.js';
import { uniqueNamespace } from '../helpers/shm.js';
import { killAllFixtures, spawnFixture } from '../helpers/processes.js';
import { segmentExists } from './segments.js';

const MiB = 1024 * 1024;

function rssShmemBytes(): number {
  const m = /^RssShmem:\s+(\d+) kB/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  if (m === null) throw new Error('no RssShmem in /proc/self/status');
  return Number(m[1]) * 1024;
}

/** Allocates and writes `bytes` of the zone's pool so that its pages exist. */
function touch(zone: Zone, bytes: number): number {
  const off = zone.pool.alloc(bytes);
  expect(off).to.be.greaterThan(0);
  new Uint8Array(zone.buffer, off, bytes).fill(0xa5);
  return off;
}

describe('zone pages after stop()', function () {
  this.timeout(60_000);
  afterEach(killAllFixtures);

  for (const mode of ['owner', 'standalone'] as const) {
    it(`${mode} mode, the last user: the pages are freed at stop(), not at GC`, async () => {
      const ns = uniqueNamespace('relp');
      const registry = new ZoneRegistry({ namespace: ns, mode });
      const zone = registry.add('big', '16m', { tag: 'release-pages' });
      await registry.start();
      const off = touch(zone, 12 * MiB);
      const buffer = zone.buffer; // kept alive across stop(): GC cannot be what frees the pages
      const before = rssShmemBytes();
      expect(before).to.be.at.least(12 * MiB);
      registry.stop();
      expect(segmentExists(zone.segmentName)).to.equal(false);
      expect(before - rssShmemBytes(), 'shared pages given back').to.be.at.least(11 * MiB);
      expect(new Uint8Array(buffer)[off], 'the mapping reads zeros').to.equal(0);
    });
  }

  it('owner mode with a worker process still attached: the pages stay, its data intact', async () => {
    const ns = uniqueNamespace('relw');
    const registry = new ZoneRegistry({ namespace: ns, mode: 'owner' });
    const zone = registry.add('z', '16m', {
      tag: 'proc',
      init(z, reused) {
        if (!reused) z.root = z.pool.calloc(16);
      },
    });
    await registry.start();
    const off = touch(zone, 12 * MiB);
    const buffer = zone.buffer;
    const child = spawnFixture('zone-proc', [
      JSON.stringify({ ns, mode: 'attach', size: '16m', action: 'hold' }),
    ]);
    const ready = await child.waitFor('ready');
    expect(ready.counter).to.equal(1);
    const before = rssShmemBytes();
    registry.stop(); // removes the name; the worker keeps its mapping
    expect(before - rssShmemBytes(), 'nothing released under a live worker').to.be.below(MiB);
    expect(new Uint8Array(buffer)[off]).to.equal(0xa5);
    child.child.stdin!.end();
    const bye = await child.waitFor('bye');
    expect(bye.counter, "the worker's counter survived the owner's stop").to.equal(1);
  });
});
