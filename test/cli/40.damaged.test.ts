/** `shmzone` against segments that are not valid zones: reported, never trusted. */
import { expect } from 'chai';
import fs from 'node:fs';
import type { ZoneSummary } from '../../src/zone/inspect.js';
import { segmentsWithPrefix, uniqueNamespace } from '../helpers/shm.js';
import { shmzone, shmzoneJson } from './util.js';

describe('cli: damaged segments', () => {
  const ns = uniqueNamespace('clibad');
  const garbage = `/dev/shm/shmzone.${ns}.garbage`;
  const tiny = `/dev/shm/shmzone.${ns}.tiny`;

  before(() => {
    const bytes = Buffer.alloc(64 * 1024);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919 + 13) & 0xff;
    fs.writeFileSync(garbage, bytes, { mode: 0o600 });
    fs.writeFileSync(tiny, Buffer.alloc(100), { mode: 0o600 });
  });

  after(() => {
    for (const f of [garbage, tiny]) fs.rmSync(f, { force: true });
  });

  it('ls reports them as invalid / empty instead of failing', () => {
    const r = shmzoneJson<ZoneSummary[]>('ls', '-n', ns);
    expect(r.code).to.equal(0);
    const byZone = new Map(r.json.map((z) => [z.zone, z]));
    expect(byZone.get('garbage')?.health).to.equal('invalid');
    expect(byZone.get('garbage')?.error?.code).to.equal('ERR_ZONE_HEADER');
    expect(byZone.get('tiny')?.health).to.equal('empty');
  });

  it('stat and verify fail with exit 1 and say why', () => {
    const s = shmzoneJson<{ error: { code: string; message: string } }>('stat', `${ns}.garbage`);
    expect(s.code).to.equal(1);
    expect(s.json.error.code).to.equal('ERR_ZONE_UNREADABLE');
    const v = shmzoneJson<{ ok: boolean; error: { message: string } }>('verify', `${ns}.garbage`);
    expect(v.code).to.equal(1);
    expect(v.json.ok).to.equal(false);
    expect(v.json.error.message).to.include('magic');
    expect(shmzone('verify', `${ns}.tiny`).code).to.equal(1);
  });

  it('rm removes them', () => {
    expect(shmzone('rm', `${ns}.garbage`).code).to.equal(0);
    expect(shmzone('rm', 'tiny', '-n', ns).code).to.equal(0);
    expect(segmentsWithPrefix(ns)).to.deep.equal([]);
  });
});
