/** `shmzone` against zones a live process holds open. */
import { expect } from 'chai';
import type { DictStats } from '../../src/dict/index.js';
import type { PoolStats } from '../../src/index.js';
import type { ZoneSummary } from '../../src/zone/inspect.js';
import { uniqueNamespace } from '../helpers/shm.js';
import { shmzone, shmzoneJson, startHolder, type Holder } from './util.js';

interface StatJson {
  summary: ZoneSummary;
  pool: PoolStats;
  dict?: DictStats;
}

describe('cli: a live zone', () => {
  const ns = uniqueNamespace('clilive');
  const other = uniqueNamespace('clilive');
  let holder: Holder;
  let second: Holder;

  before(async () => {
    holder = await startHolder(ns);
    second = await startHolder(other);
  });

  after(async () => {
    await holder?.stop();
    await second?.stop();
  });

  it('ls lists both zones with tag, state, creator and live peers', () => {
    const r = shmzoneJson<ZoneSummary[]>('ls', '--namespace', ns);
    expect(r.code).to.equal(0);
    expect(r.json.map((z) => z.zone)).to.deep.equal(['cache', 'plain']);
    const [cache, plain] = r.json;
    expect(cache).to.include({
      namespace: ns,
      segment: `/shmzone.${ns}.cache`,
      backend: 'posix',
      size: 1024 * 1024,
      tag: 'shmzone.dict',
      state: 'ready',
      health: 'ok',
      creatorPid: holder.pid,
      creatorAlive: true,
      livePeers: 1,
      stale: false,
    });
    expect(cache.peers).to.have.length(1);
    expect(cache.peers[0]).to.include({ pid: holder.pid, threadId: 0, alive: true });
    expect(plain).to.include({ tag: 'cli-test', size: 256 * 1024, stale: false });
    const text = shmzone('ls', '-n', ns).stdout;
    expect(text).to.match(
      /NAMESPACE\s+ZONE\s+BACKEND\s+SIZE\s+TAG\s+STATE\s+CREATOR\s+PEERS\s+STALE/,
    );
    expect(text).to.match(
      new RegExp(
        `${ns}\\s+cache\\s+posix\\s+1\\.0 MiB\\s+shmzone\\.dict\\s+ready\\s+${holder.pid} \\(alive\\)\\s+1\\s+no`,
      ),
    );
  });

  it('stat of a dict zone: slab table, pages, lock counters and dict stats', () => {
    const r = shmzoneJson<StatJson>('stat', `${ns}.cache`);
    expect(r.code).to.equal(0);
    const { pool, dict } = r.json;
    expect(pool.pagesTotal).to.be.greaterThan(200);
    expect(pool.pagesFree).to.be.within(1, pool.pagesTotal - 1);
    expect(pool.slots.length).to.be.greaterThan(5);
    for (const s of pool.slots)
      expect(s).to.have.all.keys('size', 'total', 'used', 'cached', 'reqs', 'fails');
    expect(pool.lock.acquisitions).to.be.greaterThan(50);
    expect(dict).to.deep.include({ entries: 50, hits: 30, misses: 7, evictions: 0 });
    const text = shmzone('stat', 'cache', '--namespace', ns).stdout;
    expect(text).to.match(/SLOT\s+TOTAL\s+USED\s+REQS\s+FAILS/);
    expect(text).to.match(
      /lock {2}acquisitions \d+ {2}contended \d+ {2}spins \d+ {2}sleeps \d+ {2}recoveries 0 {2}sleepers 0/,
    );
    expect(text).to.match(/dict {2}entries 50 .* hits 30 {2}misses 7 {2}hit ratio 81\.1%/);
  });

  it('stat of a plain zone has no dict section and counts its allocations', () => {
    const r = shmzoneJson<StatJson>('stat', 'plain', '-n', ns);
    expect(r.code).to.equal(0);
    expect(r.json.dict).to.equal(undefined);
    const used = r.json.pool.slots.reduce((n, s) => n + s.used, 0);
    expect(used).to.equal(3); // 8, 100 and 3000 bytes; 9000 took whole pages
    expect(r.json.pool.pageAllocs.reqs).to.equal(1);
    expect(shmzone('stat', `${ns}.plain`).stdout).not.to.include('dict ');
  });

  it('a zone name in several namespaces is ambiguous (5) without --namespace', () => {
    const r = shmzoneJson<{ error: { code: string; message: string } }>('stat', 'cache');
    expect(r.code).to.equal(5);
    expect(r.json.error.code).to.equal('ERR_AMBIGUOUS');
    expect(r.json.error.message).to.include(ns).and.include(other);
  });

  it('verify: exit 0 and ok', () => {
    const r = shmzoneJson<{ ok: boolean; zone: string }>('verify', `${ns}.cache`);
    expect(r.code).to.equal(0);
    expect(r.json).to.include({ ok: true, zone: 'cache', namespace: ns });
    expect(shmzone('verify', 'plain', '-n', ns).stdout.trim()).to.equal(`/shmzone.${ns}.plain: ok`);
  });

  it('metrics prints the zone in Prometheus text format', () => {
    const r = shmzone('metrics', `${ns}.cache`);
    expect(r.code).to.equal(0);
    expect(r.stdout).to.include('# TYPE shmzone_dict_hits_total counter');
    expect(r.stdout).to.include(`shmzone_dict_hits_total{namespace="${ns}",zone="cache"} 30`);
  });

  it('rm refuses a zone in use (4) and keeps it; the holder still works', () => {
    const r = shmzoneJson<{ removed: string[]; kept: Array<{ segment: string }> }>(
      'rm',
      `${ns}.cache`,
    );
    expect(r.code).to.equal(4);
    expect(r.json.removed).to.deep.equal([]);
    expect(r.json.kept.map((k) => k.segment)).to.deep.equal([`/shmzone.${ns}.cache`]);
    expect(shmzone('rm', '--namespace', ns).code).to.equal(4);
    expect(shmzone('verify', `${ns}.cache`).code).to.equal(0);
  });

  it('rm --stale keeps live zones', () => {
    const r = shmzoneJson<{ removed: string[]; kept: unknown[] }>('rm', '--stale', '-n', ns);
    expect(r.code).to.equal(0);
    expect(r.json.removed).to.deep.equal([]);
    expect(r.json.kept).to.have.length(2);
  });

  it('rm --force removes a zone in use (its users keep their mapping)', () => {
    const r = shmzoneJson<{ removed: string[] }>('rm', `${ns}.plain`, '--force');
    expect(r.code).to.equal(0);
    expect(r.json.removed).to.deep.equal([`/shmzone.${ns}.plain`]);
    expect(shmzone('stat', `${ns}.plain`).code).to.equal(3);
    expect(shmzone('stat', `${ns}.cache`).code).to.equal(0);
  });
});
