/** `shmzone` against zones whose processes were SIGKILLed, next to live ones. */
import { expect } from 'chai';
import type { ZoneSummary } from '../../src/zone/inspect.js';
import { segmentsWithPrefix, uniqueNamespace } from '../helpers/shm.js';
import { shmzone, shmzoneJson, startHolder, type Holder } from './util.js';

describe('cli: stale zones', () => {
  const ns = uniqueNamespace('clistale');
  let live: Holder;
  let dead: Holder;

  before(async () => {
    live = await startHolder(ns, 'live');
    dead = await startHolder(ns, 'dead');
    await dead.kill();
  });

  after(async () => {
    await live?.stop();
    shmzone('rm', '--namespace', ns, '--force');
  });

  it('ls shows the killed creator dead, no live peers, stale', () => {
    const r = shmzoneJson<ZoneSummary[]>('ls', '-n', ns);
    expect(r.code).to.equal(0);
    const byZone = new Map(r.json.map((z) => [z.zone, z]));
    expect(byZone.get('deadcache')).to.include({
      creatorPid: dead.pid,
      creatorAlive: false,
      livePeers: 0,
      stale: true,
      state: 'ready',
    });
    expect(byZone.get('deadcache')?.peers[0]).to.include({ pid: dead.pid, alive: false });
    expect(byZone.get('livecache')).to.include({ creatorAlive: true, livePeers: 1, stale: false });
    expect(shmzone('ls', '-n', ns).stdout).to.match(
      new RegExp(`deadcache .*${dead.pid} \\(dead\\)\\s+0\\s+yes`),
    );
  });

  it('stat and verify still read a stale zone', () => {
    const s = shmzoneJson<{ dict: { entries: number } }>('stat', `${ns}.deadcache`);
    expect(s.code).to.equal(0);
    expect(s.json.dict.entries).to.equal(50);
    expect(shmzone('verify', `${ns}.deadplain`).code).to.equal(0);
  });

  it('rm --stale removes the stale zones and not the live ones', () => {
    const r = shmzoneJson<{ removed: string[]; kept: Array<{ segment: string }> }>(
      'rm',
      '--stale',
      '--namespace',
      ns,
    );
    expect(r.code).to.equal(0);
    expect(r.json.removed.sort()).to.deep.equal([
      `/shmzone.${ns}.deadcache`,
      `/shmzone.${ns}.deadplain`,
    ]);
    expect(r.json.kept.map((k) => k.segment).sort()).to.deep.equal([
      `/shmzone.${ns}.livecache`,
      `/shmzone.${ns}.liveplain`,
    ]);
    expect(segmentsWithPrefix(ns)).to.deep.equal([
      `shmzone.${ns}.livecache`,
      `shmzone.${ns}.liveplain`,
    ]);
    expect(shmzone('verify', `${ns}.livecache`).code).to.equal(0);
    expect(shmzone('stat', `${ns}.deadcache`).code).to.equal(3);
  });

  it('rm of a single stale zone needs no --force', async () => {
    const again = await startHolder(ns, 'again');
    await again.kill();
    const r = shmzoneJson<{ removed: string[] }>('rm', `${ns}.againcache`);
    expect(r.code).to.equal(0);
    expect(r.json.removed).to.deep.equal([`/shmzone.${ns}.againcache`]);
    expect(shmzone('rm', 'againplain', '-n', ns).code).to.equal(0);
  });
});
