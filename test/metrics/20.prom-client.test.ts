/** registerPromClient: the same families through prom-client's own registry. */
import { expect } from 'chai';
import { Registry } from 'prom-client';
import { ZoneRegistry } from '../../src/index.js';
import { sharedDict } from '../../src/dict/index.js';
import { FAMILIES, registerPromClient, zoneMetrics } from '../../src/metrics/index.js';
import { uniqueNamespace } from '../helpers/shm.js';
import { parseExposition, valueOf } from './parse.js';

describe('metrics: prom-client bridge', () => {
  const ns = uniqueNamespace('promclient');
  const registry = new ZoneRegistry({ namespace: ns, mode: 'owner' });
  const dict = sharedDict(registry, 'cache', '256k');
  const plain = registry.add('plain', '64k');

  before(async () => {
    await registry.start();
    for (let i = 0; i < 10; i++) dict.set(`k${i}`, i);
    for (let i = 0; i < 12; i++) dict.get(`k${i}`);
  });

  after(() => registry.stop());

  it('registers every family, read at scrape time, matching zoneMetrics()', async () => {
    const prom = new Registry();
    const unregister = await registerPromClient(prom, registry.get('cache'), { dict });
    const families = parseExposition(await prom.metrics());
    for (const f of FAMILIES) expect(families.has(f.name), f.name).to.equal(true);
    const z = { zone: 'cache', namespace: ns };
    expect(valueOf(families, 'shmzone_dict_hits_total', z)).to.equal(10);
    expect(valueOf(families, 'shmzone_dict_misses_total', z)).to.equal(2);
    const ours = parseExposition(zoneMetrics(registry.get('cache'), { dict }));
    for (const name of ['shmzone_slab_pages_free', 'shmzone_dict_entries', 'shmzone_dict_bytes']) {
      expect(valueOf(families, name, z), name).to.equal(valueOf(ours, name, z));
    }
    dict.set('late', 1); // a later scrape sees it
    expect(valueOf(parseExposition(await prom.metrics()), 'shmzone_dict_entries', z)).to.equal(11);
    unregister();
    expect(prom.getSingleMetric('shmzone_dict_hits_total')).to.equal(undefined);
  });

  it('a second zone joins the same collectors', async () => {
    const prom = new Registry();
    const a = await registerPromClient(prom, registry.get('cache'), { dict });
    const b = await registerPromClient(prom, plain);
    const families = parseExposition(await prom.metrics());
    const zonesSeen = families.get('shmzone_slab_pages')!.samples.map((s) => s.labels.zone);
    expect(zonesSeen.sort()).to.deep.equal(['cache', 'plain']);
    expect(families.get('shmzone_dict_hits_total')!.samples).to.have.length(1);
    b();
    const after = parseExposition(await prom.metrics());
    expect(after.get('shmzone_slab_pages')!.samples).to.have.length(1);
    a();
  });
});
