/** zoneMetrics / dictMetrics: valid Prometheus text whose values are the zone's stats. */
import { expect } from 'chai';
import { ZoneRegistry } from '../../src/index.js';
import { sharedDict } from '../../src/dict/index.js';
import {
  dictMetrics,
  formatMetrics,
  registryMetrics,
  zoneMetrics,
  type ZoneSample,
} from '../../src/metrics/index.js';
import { uniqueNamespace } from '../helpers/shm.js';
import { parseExposition, valueOf } from './parse.js';

describe('metrics: text exposition', () => {
  const ns = uniqueNamespace('metrics');
  const registry = new ZoneRegistry({ namespace: ns, mode: 'owner' });
  const dict = sharedDict(registry, 'cache', '512k');
  const plain = registry.add('plain', '128k', { tag: 'metrics-test' });

  before(async () => {
    await registry.start();
    for (let i = 0; i < 40; i++) dict.set(`k${i}`, 'x'.repeat(i * 3));
    for (let i = 0; i < 25; i++) dict.get(`k${i}`);
    for (let i = 0; i < 4; i++) dict.get(`nope${i}`);
    plain.pool.alloc(24);
    plain.pool.alloc(24);
    plain.pool.alloc(500);
    plain.pool.alloc(64 * 1024 * 1024); // fails: counted
  });

  after(() => registry.stop());

  it('parses strictly, with HELP and TYPE for every family', () => {
    const text = zoneMetrics(registry.get('cache'), { dict });
    expect(text).not.to.include('\n\n');
    const families = parseExposition(text);
    expect(families.size).to.be.greaterThan(15);
    for (const f of families.values()) {
      expect(f.help, f.name).to.be.a('string').and.not.equal('');
      expect(f.type, f.name).to.be.oneOf(['counter', 'gauge']);
      expect(f.samples.length, f.name).to.be.greaterThan(0);
      if (f.type === 'counter') expect(f.name).to.match(/_total$/);
      for (const s of f.samples) {
        expect(s.labels.zone).to.equal('cache');
        expect(s.labels.namespace).to.equal(ns);
        expect(Number.isFinite(s.value) && s.value >= 0, s.name).to.equal(true);
      }
    }
  });

  it('values equal pool.stats() and dict.stats()', () => {
    const zone = registry.get('cache');
    const text = zoneMetrics(zone, { dict });
    const pool = zone.pool.stats();
    const stats = dict.stats();
    const f = parseExposition(text);
    const z = { zone: 'cache', namespace: ns };
    expect(valueOf(f, 'shmzone_zone_size_bytes', z)).to.equal(512 * 1024);
    expect(valueOf(f, 'shmzone_zone_peers', z)).to.equal(1);
    expect(valueOf(f, 'shmzone_slab_pages', z)).to.equal(pool.pagesTotal);
    expect(valueOf(f, 'shmzone_slab_pages_free', z)).to.equal(pool.pagesFree);
    for (const s of pool.slots) {
      const l = { ...z, slot: String(s.size) };
      expect(valueOf(f, 'shmzone_slab_slot_chunks', l)).to.equal(s.total);
      expect(valueOf(f, 'shmzone_slab_slot_used_chunks', l)).to.equal(s.used);
      expect(valueOf(f, 'shmzone_slab_slot_requests_total', l)).to.equal(s.reqs);
      expect(valueOf(f, 'shmzone_slab_slot_failures_total', l)).to.equal(s.fails);
    }
    // dict.stats() itself took the lock once more after the text was made.
    expect(valueOf(f, 'shmzone_lock_acquisitions_total', z)).to.be.within(
      pool.lock.acquisitions - 2,
      pool.lock.acquisitions,
    );
    expect(valueOf(f, 'shmzone_lock_recoveries_total', z)).to.equal(0);
    expect(valueOf(f, 'shmzone_lock_sleepers', z)).to.equal(0);
    expect(valueOf(f, 'shmzone_dict_hits_total', z))
      .to.equal(stats.hits)
      .and.equal(25);
    expect(valueOf(f, 'shmzone_dict_misses_total', z))
      .to.equal(stats.misses)
      .and.equal(4);
    expect(valueOf(f, 'shmzone_dict_entries', z)).to.equal(40);
    expect(valueOf(f, 'shmzone_dict_bytes', z)).to.equal(stats.bytesUsed);
    expect(valueOf(f, 'shmzone_dict_evictions_total', z)).to.equal(stats.evictions);
    expect(valueOf(f, 'shmzone_dict_expirations_total', z)).to.equal(stats.expirations);
  });

  it('a plain zone has no dict families; its failures are counted', () => {
    const f = parseExposition(zoneMetrics(plain));
    expect([...f.keys()].some((k) => k.startsWith('shmzone_dict_'))).to.equal(false);
    const z = { zone: 'plain', namespace: ns };
    expect(valueOf(f, 'shmzone_slab_page_failures_total', z)).to.equal(1);
    const used = f.get('shmzone_slab_slot_used_chunks')!.samples.reduce((n, s) => n + s.value, 0);
    expect(used).to.equal(3);
  });

  it('dictMetrics finds the zone by the dict name; registryMetrics covers every zone once', () => {
    const one = parseExposition(dictMetrics(dict, registry));
    expect(valueOf(one, 'shmzone_dict_entries', { zone: 'cache' })).to.equal(40);
    const all = parseExposition(registryMetrics(registry, [dict]));
    const zonesSeen = all.get('shmzone_slab_pages')!.samples.map((s) => s.labels.zone);
    expect(zonesSeen.sort()).to.deep.equal(['cache', 'plain']);
    expect(all.get('shmzone_dict_hits_total')!.samples).to.have.length(1);
  });

  it('escapes label values and help text', () => {
    const sample: ZoneSample = {
      namespace: 'a"b\\c\nd',
      zone: 'z',
      size: 1,
      pool: registry.get('plain').pool.stats(),
    };
    const f = parseExposition(formatMetrics([sample]));
    expect(f.get('shmzone_zone_size_bytes')!.samples[0].labels.namespace).to.equal('a"b\\c\nd');
  });

  it('rejects what is not a started zone', () => {
    expect(() => zoneMetrics({} as never))
      .to.throw()
      .with.property('code', 'ERR_METRICS_ZONE');
    const unstarted = new ZoneRegistry({ namespace: uniqueNamespace('metrics') }).add('z', '64k');
    expect(() => zoneMetrics(unstarted))
      .to.throw()
      .with.property('code', 'ERR_ZONE_NOT_STARTED');
  });

  it('the strict parser rejects malformed text', () => {
    expect(() => parseExposition('a 1')).to.throw(/end with/);
    expect(() => parseExposition('a{x="1} 1\n')).to.throw();
    expect(() => parseExposition('# TYPE a counter\n# TYPE a gauge\n')).to.throw(/second TYPE/);
    expect(() => parseExposition('a 1\nb 2\na 3\n')).to.throw(/contiguous/);
    expect(() => parseExposition('a{x="\\q"} 1\n')).to.throw(/escape/);
    expect(() => parseExposition('a 1\na 2\n')).to.throw(/duplicate/);
  });
});
