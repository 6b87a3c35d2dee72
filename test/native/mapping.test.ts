/**
 * Mappings as SharedArrayBuffers: two mappings of one segment and a worker thread all see the
 * same memory; creating, sharing and dropping many mappings under GC neither crashes nor leaks
 * mappings (the deleter unmaps, on whichever thread drops the last reference).
 */
import { expect } from 'chai';
import { Worker } from 'node:worker_threads';
import { native } from '../../src/native.js';
import { uniqueNamespace } from '../helpers/shm.js';
import { fixture, isLinux, runFixture } from './child.js';

describe('native mappings', () => {
  it('two mappings of one segment and a worker thread see the same memory', async () => {
    const name = `/shmzone.${uniqueNamespace('map')}.z`;
    const a = native.createSegment(name, 65536, 0o600);
    try {
      const b = native.openSegment(name, 0o600, 0);
      expect(a.buffer).to.not.equal(b.buffer);
      const ia = new Int32Array(a.buffer);
      const ib = new Int32Array(b.buffer);
      Atomics.store(ia, 11, 77);
      expect(Atomics.load(ib, 11)).to.equal(77);
      const worker = new Worker(fixture('native-shared-worker'), { workerData: { buffer: b.buffer } });
      const reply = (await new Promise((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      })) as { seen: number; tid: number; length: number };
      await worker.terminate();
      expect(reply.seen).to.equal(77);
      expect(reply.length).to.equal(65536);
      if (isLinux) expect(reply.tid).to.not.equal(native.gettid());
      expect(Atomics.load(ia, 10)).to.equal(0x5eed); // written by the worker through mapping b
    } finally {
      native.unlinkSegment(name);
    }
  });

  it('survives map / share / drop loops under --expose-gc and unmaps what it drops', async function () {
    this.timeout(120_000);
    const ns = uniqueNamespace('loop');
    const report = await runFixture<{ mismatches: number; mappedBeforeFinalGc: number; mappedAfterGc: number }>(
      'native-map-loop',
      [ns, '200'],
      ['--expose-gc'],
    );
    expect(report.mismatches).to.equal(0);
    // 400 mappings were made; after GC the deleters must have unmapped (nearly) all of them.
    if (isLinux) expect(report.mappedAfterGc).to.be.at.most(4);
  });
});
