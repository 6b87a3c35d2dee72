/**
 * Squatting (issue 16, item 6): names another local user could take ahead of a start. Default
 * namespaces cannot be predicted (owner) or are per user and app (standalone); a planted
 * symlink or a foreign file fails the start with a code naming the problem, and `shmzone ls`
 * shows the name with its owner and the reason instead of hiding it.
 */
import { expect } from 'chai';
import fs from 'node:fs';
import { ZoneRegistry } from '../../src/index.js';
import { ownerNamespace, standaloneNamespace } from '../../src/zone/default-namespace.js';
import type { ZoneSummary } from '../../src/zone/inspect.js';
import { uniqueNamespace } from '../helpers/shm.js';
import { shmzone, shmzoneJson } from '../cli/util.js';
import { removeSegment } from './segments.js';

const isRoot = process.geteuid?.() === 0;
const NOBODY = 65534;

async function startError(
  namespace: string,
  mode: 'owner' | 'standalone' | 'attach',
): Promise<Error & { code?: string }> {
  const r = new ZoneRegistry({ namespace, mode, readyTimeoutMs: 500 });
  r.add('z', '64k');
  try {
    await r.start();
  } catch (err) {
    return err as Error & { code?: string };
  } finally {
    r.stop();
  }
  throw new Error('start() succeeded on a squatted name');
}

describe('zone squatting: default namespaces, planted names', () => {
  it('owner mode: the default namespace is fresh per registry and not derivable from the pid', () => {
    const a = new ZoneRegistry({ mode: 'owner' });
    const b = new ZoneRegistry({ mode: 'owner' });
    const pattern = new RegExp(`^p${process.pid}-[0-9a-f]{10}$`);
    expect(a.namespace).to.match(pattern);
    expect(b.namespace).to.match(pattern);
    expect(a.namespace).to.not.equal(b.namespace);
    expect(a.namespace).to.equal(a.namespace); // stable until start() uses it
    const many = new Set(Array.from({ length: 1000 }, () => ownerNamespace(1234)));
    expect(many.size).to.equal(1000);
  });

  it('standalone mode: no shared "default"; one namespace per user and entry script, shown in ls', () => {
    // An owner-mode test before this one exported its namespace to this process.
    const inherited = process.env.SHMZONE_NAMESPACE;
    delete process.env.SHMZONE_NAMESPACE;
    let derived: string;
    try {
      derived = new ZoneRegistry({ mode: 'standalone' }).namespace;
    } finally {
      if (inherited !== undefined) process.env.SHMZONE_NAMESPACE = inherited;
    }
    const r = { namespace: derived };
    expect(r.namespace).to.not.equal('default');
    expect(r.namespace).to.equal(standaloneNamespace());
    expect(r.namespace).to.match(/^s-[A-Za-z0-9_-]+-[0-9a-f]{10}$/);
    const app1 = standaloneNamespace('/srv/app1/server.js', 1000);
    expect(standaloneNamespace('/srv/app1/server.js', 1000)).to.equal(app1);
    expect(app1).to.match(/^s-server-[0-9a-f]{10}$/);
    expect(standaloneNamespace('/srv/app2/server.js', 1000)).to.not.equal(app1);
    expect(standaloneNamespace('/srv/app1/server.js', 1001)).to.not.equal(app1);
    const long = standaloneNamespace(`/x/${'a.b'.repeat(40)}.mjs`, 0);
    expect(long.length).to.be.at.most(64);
    expect(long).to.match(/^[A-Za-z0-9_-]+$/);
  });

  describe('a symlink planted at a segment name', () => {
    let ns: string;
    let file: string;
    beforeEach(() => {
      ns = uniqueNamespace('squat');
      file = `/dev/shm/shmzone.${ns}.z`;
      fs.symlinkSync('/dev/null', file);
      if (isRoot) fs.lchownSync(file, NOBODY, NOBODY);
    });
    afterEach(() => removeSegment(file.slice('/dev/shm/'.length)));

    for (const mode of ['owner', 'standalone', 'attach'] as const) {
      it(`${mode}: start() fails with ELOOP (a named errno, not "E40") and leaves the link`, async () => {
        const err = await startError(ns, mode);
        expect(err.code).to.equal('ELOOP');
        expect(err.message).to.include(`shmzone.${ns}.z`);
        expect(fs.lstatSync(file).isSymbolicLink()).to.equal(true);
      });
    }

    it('shmzone ls lists it with its owner and the reason', () => {
      const r = shmzoneJson<ZoneSummary[]>('ls', '-n', ns);
      expect(r.code).to.equal(0);
      expect(r.json).to.have.length(1);
      expect(r.json[0].health).to.equal('invalid');
      expect(r.json[0].error?.code).to.equal('ELOOP');
      expect(r.json[0].uid).to.equal(isRoot ? NOBODY : process.geteuid?.());
      expect(r.json[0].error?.message)
        .to.include('symbolic link')
        .and.include(`uid ${r.json[0].uid}`);
      const text = shmzone('ls', '-n', ns);
      expect(text.stdout).to.include('invalid: ELOOP');
      expect(text.stdout).to.include(`/shmzone.${ns}.z: ELOOP:`);
    });
  });

  it('a name pre-created by another user: start names its uid, ls shows it', async function () {
    if (!isRoot) this.skip();
    const ns = uniqueNamespace('squat');
    const file = `/dev/shm/shmzone.${ns}.z`;
    fs.writeFileSync(file, Buffer.alloc(65536), { mode: 0o600 });
    fs.chownSync(file, NOBODY, NOBODY);
    try {
      for (const mode of ['owner', 'standalone'] as const) {
        const err = await startError(ns, mode);
        expect(err.code).to.equal('ERR_SEGMENT_OWNER');
        expect(err.message).to.include(`uid ${NOBODY}`);
      }
      const r = shmzoneJson<ZoneSummary[]>('ls', '-n', ns);
      expect(r.json.map((z) => [z.uid, z.health, z.error?.code])).to.deep.equal([
        [NOBODY, 'invalid', 'ERR_SEGMENT_OWNER'],
      ]);
      expect(shmzone('ls', '-n', ns).stdout).to.include(`belongs to uid ${NOBODY}`);
    } finally {
      fs.rmSync(file, { force: true });
    }
  });
});
