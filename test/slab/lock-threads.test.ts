/** The lock between worker threads of one process (DESIGN.md process model 3). */
import { expect } from 'chai';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { SlabPool } from '../../src/slab/pool.js';
import { owner } from './util.js';

const here = path.dirname(fileURLToPath(import.meta.url));

describe('slab lock across worker threads', function () {
  this.timeout(60_000);

  it('3 threads x 20,000 locked increments with alloc/free inside end exact and leave the pool empty', async () => {
    const buffer = new SharedArrayBuffer(4 * 1024 * 1024);
    const pool = SlabPool.create(buffer, 4096, buffer.byteLength - 4096, owner(1));
    const ctl = new Int32Array(buffer, 0, 16);
    const N = 3;
    const M = 20_000;
    const workers = Array.from(
      { length: N },
      (_, i) =>
        new Worker(path.join(here, 'fixtures', 'lock-thread.js'), {
          workerData: { buffer, id: i + 2, m: M, poolOffset: 4096 },
        }),
    );
    const results = workers.map(
      (w) =>
        new Promise<{ bad: number }>((resolve, reject) => {
          w.once('message', resolve);
          w.once('error', reject);
        }),
    );
    while (Atomics.load(ctl, 1) < N) await new Promise((r) => setTimeout(r, 2));
    Atomics.store(ctl, 2, 1);
    Atomics.notify(ctl, 2);
    for (const r of await Promise.all(results)) expect(r.bad).to.equal(0);
    await Promise.all(workers.map((w) => w.terminate()));
    expect(ctl[0]).to.equal(N * M);
    pool.verify();
    expect(pool.freeSpace()).to.equal(pool.pagesTotal * pool.pageSize);
    expect(pool.stats().lock.acquisitions).to.equal(N * M);
  });
});
