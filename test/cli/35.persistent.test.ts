/** `shmzone` and persistent zones: a warm cache with no process attached is not stale. */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import type { ZoneSummary } from '../../src/zone/inspect.js';
import { segmentsWithPrefix, uniqueNamespace } from '../helpers/shm.js';
import { shmzone, shmzoneJson } from './util.js';

const fixture = new URL('../fixtures/zone-proc.js', import.meta.url);

describe('cli: persistent zones', () => {
  const ns = uniqueNamespace('clipersist');

  before(() => {
    // A standalone process creates a persistent zone, counts once and exits normally.
    const cfg = { ns, mode: 'standalone', persist: true, action: 'incr' };
    const r = spawnSync(process.execPath, [fixture.pathname, JSON.stringify(cfg)], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status, r.stderr).to.equal(0);
    expect(segmentsWithPrefix(ns)).to.deep.equal([`shmzone.${ns}.z`]);
  });

  after(() => shmzone('rm', '--namespace', ns, '--force'));

  it('ls reports it persistent, creator gone, not stale', () => {
    const r = shmzoneJson<ZoneSummary[]>('ls', '-n', ns);
    expect(r.code).to.equal(0);
    expect(r.json).to.have.length(1);
    expect(r.json[0]).to.include({
      zone: 'z',
      persist: true,
      state: 'ready',
      creatorAlive: false,
      livePeers: 0,
      stale: false,
    });
  });

  it('rm --stale keeps it; rm by name removes it', () => {
    const stale = shmzoneJson<{ removed: string[] }>('rm', '--stale', '--namespace', ns);
    expect(stale.code).to.equal(0);
    expect(stale.json.removed).to.deep.equal([]);
    expect(segmentsWithPrefix(ns)).to.deep.equal([`shmzone.${ns}.z`]);

    const byName = shmzone('rm', `${ns}.z`);
    expect(byName.code, byName.stderr).to.equal(0);
    expect(segmentsWithPrefix(ns)).to.deep.equal([]);
  });
});
