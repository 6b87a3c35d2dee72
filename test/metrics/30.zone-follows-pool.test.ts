/** zoneMetrics(zone) of a plain zone follows the live pool: pages, lock counters, peers. */
import { expect } from 'chai';
import { ZoneRegistry, zoneMetrics } from '../../src/index.js';
import { uniqueNamespace } from '../helpers/shm.js';
import { parseExposition, valueOf } from './parse.js';

describe('metrics: zoneMetrics() of a plain zone', () => {
  const registry = new ZoneRegistry({ namespace: uniqueNamespace('zmetrics'), mode: 'owner' });
  const zone = registry.add('counters', '256k', { tag: 'metrics-method' });

  before(() => registry.start());
  after(() => registry.stop());

  it('reports the pool as stats() sees it, and moves when the pool does', () => {
    const before = parseExposition(zoneMetrics(zone));
    const freeBefore = valueOf(before, 'shmzone_slab_pages_free', { zone: 'counters' });
    expect(freeBefore).to.equal(zone.pool.stats().pagesFree);

    const offset = zone.pool.alloc(3 * 4096); // a run of three whole pages
    expect(offset).to.be.greaterThan(0);
    const after = parseExposition(zoneMetrics(zone));
    // Three pages, and the first alloc() of this thread also takes its cache's pages.
    const freeAfter = valueOf(after, 'shmzone_slab_pages_free', { zone: 'counters' });
    expect(freeAfter).to.equal(zone.pool.stats().pagesFree);
    expect(freeAfter).to.be.at.most(freeBefore - 3);
    expect(valueOf(after, 'shmzone_lock_acquisitions_total', { zone: 'counters' })).to.equal(
      zone.pool.stats().lock.acquisitions,
    );
    expect(valueOf(after, 'shmzone_zone_peers', { zone: 'counters' })).to.equal(1);
    zone.pool.free(offset);
  });
});
