/**
 * zone.generation counts pool resets, whoever did the reset: it is derived from the pool's
 * shared counter, not bumped by a listener of one process's registry.
 */
import { expect } from 'chai';
import { ZoneRegistry } from '../../src/index.js';
import { SlabPool } from '../../src/slab/pool.js';
import { L } from '../../src/slab/layout.js';
import { inspectZone } from '../../src/zone/inspect.js';
import { uniqueNamespace } from '../helpers/shm.js';

describe('zone generation', () => {
  const ns = uniqueNamespace('zgen');
  const registry = new ZoneRegistry({ namespace: ns, mode: 'owner', log: () => {} });
  const zone = registry.add('g', '256k', { tag: 'gen-test' });

  before(() => registry.start());
  after(() => registry.stop());

  it('is 1 at creation and moves when another pool object resets the pool', () => {
    expect(zone.generation).to.equal(1);
    const at = zone.pool.byteOffset;
    // Another process's view of the same pool: it dies holding the lock after a write the
    // journal cannot undo, so the next locker's repair fails verify() and resets the pool.
    const victim = SlabPool.open(zone.buffer, at, { selfId: 120, isOwnerDead: () => false });
    victim.lock();
    victim.u32[
      victim.descWord + (victim.firstDesc + victim.pagesTotal - 1) * L.DESC_WORDS + L.D_INFO
    ] = 9;
    const rescuer = SlabPool.open(zone.buffer, at, {
      selfId: 121,
      isOwnerDead: (id) => id === 120,
    });
    expect(rescuer.recoverFrom(120)).to.equal(true);
    expect(rescuer.generation, 'the pool was reset').to.equal(1);
    // This process's registry saw none of it; the zone still reports the reset.
    expect(zone.generation).to.equal(2);
    expect(inspectZone(ns, 'g').summary.generation).to.equal(2);
    // And the zone keeps working.
    const offset = zone.pool.alloc(64);
    expect(offset).to.be.greaterThan(0);
    zone.pool.free(offset);
    zone.pool.verify();
  });
});
