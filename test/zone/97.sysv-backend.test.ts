/**
 * SysV zones (`backend: 'sysv'`, src/zone/sysv-source.ts) with real processes: created 0600
 * at the key derived from the zone, attached by an independent process, listed by `ipcs -m`,
 * a planted segment at the key refused (looser mode; another uid), and removed (IPC_RMID)
 * when the last process leaves.
 */
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { native } from '../../src/native.js';
import { ZoneRegistry } from '../../src/index.js';
import { segmentName } from '../../src/zone/names.js';
import { sysvKey } from '../../src/zone/sysv-source.js';
import { uniqueNamespace } from '../helpers/shm.js';
import { killAllFixtures, spawnFixture } from '../helpers/processes.js';

const NOBODY = 65534;

/**
 * A copy of what sysv-child.js needs (the built library, the addon, package.json), in a
 * fresh directory every user can enter (the addon's loader, node-gyp-build, too): the checkout may sit under a 0700 directory (CI
 * clones into mktemp -d), which uid nobody could not read, and so may the node binary (CI's
 * other Node lines sit under mktemp -d too), so it is copied as well.
 */
function childReadableByAll(): { file: string; dir: string; node: string } {
  const repo = path.resolve(new URL('../../..', import.meta.url).pathname);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shmzone-sysv-'));
  fs.chmodSync(dir, 0o755);
  fs.cpSync(path.join(repo, 'package.json'), path.join(dir, 'package.json'));
  fs.cpSync(path.join(repo, 'dist/src'), path.join(dir, 'dist/src'), { recursive: true });
  fs.cpSync(
    path.join(repo, 'build/Release/shmzone.node'),
    path.join(dir, 'build/Release/shmzone.node'),
  );
  const loader = 'node_modules/node-gyp-build';
  fs.cpSync(path.join(repo, loader), path.join(dir, loader), { recursive: true });
  const file = path.join(dir, 'dist/test/fixtures/sysv-child.js');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.cpSync(new URL('../fixtures/sysv-child.js', import.meta.url).pathname, file);
  const node = path.join(dir, 'node');
  fs.cpSync(process.execPath, node);
  for (const p of walk(dir))
    fs.chmodSync(p, fs.statSync(p).isDirectory() || p === node ? 0o755 : 0o644);
  return { file, dir, node };
}

function* walk(dir: string): Generator<string> {
  yield dir;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* walk(p);
    else yield p;
  }
}

function keyOf(ns: string): number {
  return sysvKey(segmentName(ns, 'z'));
}

function exists(key: number): boolean {
  try {
    native.statSysvSegment(key);
    return true;
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return false;
    throw err;
  }
}

function ipcsKeys(): string {
  return execFileSync('ipcs', ['-m'], { encoding: 'utf8' });
}

const hex = (key: number): string => `0x${key.toString(16).padStart(8, '0')}`;

describe('SysV zones (backend: sysv)', function () {
  this.timeout(60_000);
  afterEach(killAllFixtures);

  it('created 0600, attached by an independent process, in ipcs -m, removed by the last one out', async () => {
    const ns = uniqueNamespace('sysv');
    const key = keyOf(ns);
    const a = spawnFixture('sysv-child', [JSON.stringify({ ns, write: 4242 })]);
    const ra = await a.waitFor('ready');
    expect(ra.created).to.equal(true);
    const st = native.statSysvSegment(key);
    expect(st.mode).to.equal(0o600);
    expect(st.uid).to.equal(process.geteuid?.());
    expect(st.size).to.equal(65536);
    expect(ipcsKeys()).to.include(hex(key));

    const b = spawnFixture('sysv-child', [JSON.stringify({ ns })]);
    const rb = await b.waitFor('ready');
    expect(rb.created).to.equal(false);
    expect(rb.value, 'the same memory').to.equal(4242);
    expect(native.statSysvSegment(key).attached).to.equal(2);

    a.child.stdin!.end();
    await a.waitFor('stopped');
    expect(exists(key), 'kept while b uses it').to.equal(true);
    b.child.stdin!.end();
    await b.waitFor('stopped');
    await Promise.all([a.exited, b.exited]);
    expect(exists(key), 'removed by the last one out').to.equal(false);
    expect(ipcsKeys()).to.not.include(hex(key));
  });

  it('a segment planted at the key with a looser mode is refused and left alone', async () => {
    const ns = uniqueNamespace('sysvp');
    const key = keyOf(ns);
    const planted = native.createSysvSegment(key, 65536, 0o666);
    try {
      const r = new ZoneRegistry({ namespace: ns, mode: 'standalone', backend: 'sysv' });
      r.add('z', '64k');
      const err = await r.start().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).to.have.property('code', 'ERR_SEGMENT_MODE');
      expect(native.statSysvSegment(key).id, 'untouched').to.equal(planted.id);
    } finally {
      native.removeSysvSegment(key);
    }
  });

  it('a segment planted at the key by another uid is refused, naming the uid', async function () {
    if (process.geteuid?.() !== 0) this.skip();
    const ns = uniqueNamespace('sysvu');
    const key = keyOf(ns);
    const planted = native.createSysvSegment(key, 65536, 0o600);
    const { file, dir, node } = childReadableByAll();
    try {
      // The test runs as root: the planted segment is root's; a process of uid nobody starts.
      const r = spawnSync(
        'setpriv',
        [
          '--reuid',
          `${NOBODY}`,
          '--regid',
          `${NOBODY}`,
          '--clear-groups',
          node,
          file,
          JSON.stringify({ ns }),
        ],
        { encoding: 'utf8', input: '', timeout: 30_000 },
      );
      if (r.error !== undefined) this.skip();
      const line = r.stdout.split('\n').find((l) => l.includes('"event"'));
      expect(line, r.stderr).to.not.equal(undefined);
      const out = JSON.parse(line!) as { event: string; code?: string; message?: string };
      expect(out.event).to.equal('error');
      expect(out.code, out.message).to.equal('ERR_SEGMENT_OWNER');
      expect(out.message).to.include('belongs to uid 0');
      expect(native.statSysvSegment(key).id, 'untouched').to.equal(planted.id);
    } finally {
      native.removeSysvSegment(key);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('its only user SIGKILLed: the next start replaces the stale segment', async () => {
    const ns = uniqueNamespace('sysvk');
    const key = keyOf(ns);
    const a = spawnFixture('sysv-child', [JSON.stringify({ ns, write: 7 })]);
    await a.waitFor('ready');
    const old = native.statSysvSegment(key).id;
    a.child.kill('SIGKILL');
    await a.exited;
    expect(native.statSysvSegment(key).attached, 'left behind').to.equal(0);
    const b = spawnFixture('sysv-child', [JSON.stringify({ ns })]);
    const rb = await b.waitFor('ready');
    expect(rb.created).to.equal(true);
    expect(rb.value).to.equal(0);
    expect(native.statSysvSegment(key).id).to.not.equal(old);
    b.child.stdin!.end();
    await b.waitFor('stopped');
    expect(exists(key)).to.equal(false);
  });
});
