/**
 * `shmzone` finds zones on every backend (src/zone/discover.ts): file-backed zones in the
 * directories given with --dir, SysV segments through /proc/sysvipc/shm and their headers
 * (huge-page zones: test/zone/98.huge-pages.test.ts). It lists, stats, verifies and exports
 * metrics for them as for POSIX zones, changes nothing while reading, and ignores a SysV
 * segment of ours that is not a zone.
 */
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { native } from '../../src/native.js';
import { ZoneRegistry, sharedDict, type SharedDict } from '../../src/index.js';
import type { ZoneSummary } from '../../src/zone/inspect.js';
import { uniqueNamespace } from '../helpers/shm.js';
import { shmzone, shmzoneJson } from './util.js';

interface StatJson {
  summary: ZoneSummary;
  dict?: { entries: number };
}

describe('cli: zones on the file and SysV backends', function () {
  this.timeout(60_000);
  const fileNs = uniqueNamespace('clifile');
  const sysvNs = uniqueNamespace('clisysv');
  let dir: string;
  let files: ZoneRegistry;
  let sysv: ZoneRegistry;
  let fileDict: SharedDict;
  let sysvDict: SharedDict;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shmzone-cli-file-'));
    files = new ZoneRegistry({
      namespace: fileNs,
      mode: 'standalone',
      backend: 'file',
      directory: dir,
    });
    fileDict = sharedDict(files, 'fd', '256k');
    files.add('plain', '64k', { tag: 'cli-file' });
    sysv = new ZoneRegistry({ namespace: sysvNs, mode: 'standalone', backend: 'sysv' });
    sysvDict = sharedDict(sysv, 'sd', '256k');
    await files.start();
    await sysv.start();
    for (let i = 0; i < 5; i++) fileDict.set(`k${i}`, `v${i}`);
    for (let i = 0; i < 3; i++) sysvDict.set(`k${i}`, `v${i}`);
  });

  after(() => {
    files?.stop();
    sysv?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('ls --dir lists file-backed zones, and only with --dir', () => {
    const r = shmzoneJson<ZoneSummary[]>('ls', '-n', fileNs, '--dir', dir);
    expect(r.code).to.equal(0);
    expect(r.json.map((z) => [z.zone, z.backend, z.health, z.livePeers])).to.deep.equal([
      ['fd', 'file', 'ok', 1],
      ['plain', 'file', 'ok', 1],
    ]);
    expect(r.json[1].tag).to.equal('cli-file');
    expect(shmzoneJson<ZoneSummary[]>('ls', '-n', fileNs).json).to.deep.equal([]);
    const text = shmzone('ls', '-n', fileNs, '--dir', dir).stdout;
    expect(text).to.match(new RegExp(`${fileNs}\\s+fd\\s+file\\s+256 KiB`));
    expect(
      shmzone('ls', '--dir', 'relative/dir').code,
      'a relative --dir is a usage error',
    ).to.equal(2);
  });

  it('ls lists SysV zones by their headers, without any option', () => {
    const r = shmzoneJson<ZoneSummary[]>('ls', '-n', sysvNs);
    expect(r.code).to.equal(0);
    expect(r.json.map((z) => [z.zone, z.backend, z.health, z.mode])).to.deep.equal([
      ['sd', 'sysv', 'ok', 0o600],
    ]);
    expect(r.json[0].size).to.equal(256 * 1024);
  });

  it('stat (read-only), verify and metrics work on both', () => {
    const before = fs.readFileSync(path.join(dir, `shmzone.${fileNs}.fd`));
    const fileStat = shmzoneJson<StatJson>('stat', `${fileNs}.fd`, '--dir', dir);
    expect(fileStat.code).to.equal(0);
    expect(fileStat.json.summary.backend).to.equal('file');
    expect(fileStat.json.dict?.entries).to.equal(5);
    // stat is read-only: the file's bytes are what they were.
    expect(fs.readFileSync(path.join(dir, `shmzone.${fileNs}.fd`)).equals(before)).to.equal(true);
    const sysvStat = shmzoneJson<StatJson>('stat', `${sysvNs}.sd`);
    expect(sysvStat.code).to.equal(0);
    expect(sysvStat.json.dict?.entries).to.equal(3);
    expect(shmzone('verify', `${fileNs}.fd`, '--dir', dir).code).to.equal(0);
    expect(shmzone('verify', `${sysvNs}.sd`).code).to.equal(0);
    const metrics = shmzone('metrics', `${sysvNs}.sd`);
    expect(metrics.code).to.equal(0);
    expect(metrics.stdout).to.match(/shmzone_dict_entries\{[^}]*\} 3/);
    // Without --dir the file zone is not found (files can be anywhere).
    expect(shmzone('stat', `${fileNs}.fd`).code).to.equal(3);
    expect(fileDict.get('k4')).to.equal('v4');
    expect(sysvDict.get('k2')).to.equal('v2');
  });

  it('a SysV segment of ours that is no zone is not listed, and left alone', () => {
    const sysvRows = (): string[] =>
      shmzoneJson<ZoneSummary[]>('ls')
        .json.filter((z) => z.backend === 'sysv')
        .map((z) => z.segment);
    const listed = sysvRows();
    expect(listed).to.include(`/shmzone.${sysvNs}.sd`);
    const key = 0x5f000000 + (process.pid % 0xffff);
    const stray = native.createSysvSegment(key, 65536, 0o600);
    new Uint8Array(stray.buffer).fill(0xab, 0, 4096);
    try {
      expect(sysvRows()).to.deep.equal(listed);
      expect(new Uint8Array(stray.buffer)[0]).to.equal(0xab);
      expect(native.statSysvSegment(key).size).to.equal(65536);
    } finally {
      native.removeSysvSegment(key);
    }
  });

  it('rm of a SysV zone in use is refused; with --force the key is freed', () => {
    expect(shmzone('rm', `${sysvNs}.sd`).code, 'in use').to.equal(4);
    expect(shmzone('rm', `${sysvNs}.sd`, '--force').code).to.equal(0);
    expect(shmzoneJson<ZoneSummary[]>('ls', '-n', sysvNs).json).to.deep.equal([]);
    expect(sysvDict.get('k1'), 'this process keeps its mapping').to.equal('v1');
  });
});
