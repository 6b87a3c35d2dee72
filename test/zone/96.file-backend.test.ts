/**
 * File-backed zones (`backend: 'file'`, src/zone/file-source.ts): real processes, real files.
 * Warm across a full stop and start; after every process was SIGKILLed, verified and kept;
 * a file damaged between runs is detected and the zone starts empty with a warning; a full
 * file system fails the start with ENOSPC and leaves no file (never a SIGBUS later).
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ZoneRegistry } from '../../src/index.js';
import { CLEAN_MARK, H_CLEAN, H_VERSION, LAYOUT_VERSION } from '../../src/zone/layout.js';
import { uniqueNamespace } from '../helpers/shm.js';
import { killAllFixtures, runFixture, spawnFixture } from '../helpers/processes.js';

const N = 200;

function child(dir: string, ns: string, role: 'fill' | 'hammer' | 'check') {
  return JSON.stringify({ dir, ns, role, n: N });
}

async function check(dir: string, ns: string): Promise<Record<string, unknown>> {
  const run = await runFixture('file-dict-child', [child(dir, ns, 'check')]);
  expect(run.code, run.stderr).to.equal(0);
  const checked = run.lines.find((l) => l.event === 'checked');
  expect(checked, JSON.stringify(run.lines)).to.not.equal(undefined);
  return { ...checked, logs: run.lines.filter((l) => l.event === 'log').map((l) => l.line) };
}

function headerWord(file: string, word: number): number {
  const fd = fs.openSync(file, 'r');
  try {
    const b = Buffer.alloc(4);
    fs.readSync(fd, b, 0, 4, word * 4);
    return b.readUInt32LE(0);
  } finally {
    fs.closeSync(fd);
  }
}

/** A zone file filled by one process that then stopped cleanly; returns the file's path. */
async function filledFile(dir: string, ns: string): Promise<string> {
  const a = spawnFixture('file-dict-child', [child(dir, ns, 'fill')]);
  await a.waitFor('filled');
  a.child.stdin!.end();
  await a.waitFor('stopped');
  await a.exited;
  return path.join(dir, `shmzone.${ns}.fd`);
}

/** Writes `bytes` into `file` at byte `at`, as damage or an older release would. */
function overwrite(file: string, at: number, bytes: Buffer): void {
  const fd = fs.openSync(file, 'r+');
  fs.writeSync(fd, bytes, 0, bytes.length, at);
  fs.closeSync(fd);
}

describe('file-backed zones (backend: file)', function () {
  this.timeout(90_000);
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shmzone-file-'));
  });
  afterEach(async () => {
    await killAllFixtures();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('keeps its entries across a full stop and start of every process', async () => {
    const ns = uniqueNamespace('fwarm');
    const a = spawnFixture('file-dict-child', [child(dir, ns, 'fill')]);
    expect((await a.waitFor('filled')).created).to.equal(true);
    const b = spawnFixture('file-dict-child', [child(dir, ns, 'fill')]);
    expect((await b.waitFor('filled')).created).to.equal(false);
    const file = path.join(dir, `shmzone.${ns}.fd`);
    const st = fs.statSync(file);
    expect(st.mode & 0o777).to.equal(0o600);
    expect(st.size).to.equal(1024 * 1024);
    expect(st.blocks * 512, 'fully preallocated').to.be.at.least(st.size);
    a.child.stdin!.end();
    await a.waitFor('stopped');
    expect(headerWord(file, H_CLEAN), 'not clean while b still uses it').to.not.equal(CLEAN_MARK);
    b.child.stdin!.end();
    await b.waitFor('stopped');
    expect(headerWord(file, H_CLEAN), 'the last one out marks it clean').to.equal(CLEAN_MARK);
    await Promise.all([a.exited, b.exited]);

    const after = await check(dir, ns);
    expect(after.intact).to.equal(N);
    expect(after.verify).to.equal('ok');
    expect(after.works).to.equal(true);
    expect(after.logs, 'a clean stop is adopted without a warning').to.deep.equal([]);
  });

  it('after SIGKILL of every process: warns, verifies, keeps what was committed', async () => {
    const ns = uniqueNamespace('fkill');
    const a = spawnFixture('file-dict-child', [child(dir, ns, 'hammer')]);
    await a.waitFor('filled');
    const b = spawnFixture('file-dict-child', [child(dir, ns, 'hammer')]);
    await b.waitFor('filled');
    await new Promise((r) => setTimeout(r, 300)); // both overwriting, evicting
    a.child.kill('SIGKILL');
    b.child.kill('SIGKILL');
    await Promise.all([a.exited, b.exited]);
    const file = path.join(dir, `shmzone.${ns}.fd`);
    expect(headerWord(file, H_CLEAN)).to.not.equal(CLEAN_MARK);

    const after = await check(dir, ns);
    expect((after.logs as string[]).join('\n')).to.match(/did not stop cleanly/);
    expect(after.verify).to.equal('ok');
    expect(after.works).to.equal(true);
    // The h<j> writes evict the oldest k<i> first; whatever is still there reads back right
    // (a wrong value would count as missing), and the zone was not reset.
    expect(after.generation, 'verified and kept, not reset').to.equal(1);
    expect(after.size as number).to.be.greaterThan(0);
  });

  // Where each damage goes: a byte offset read from a header word (or 0), and the bytes.
  for (const [what, offsetWord, bytes, expected] of [
    ['zone header', undefined, Buffer.from([0xde, 0xad, 0xbe, 0xef]), /starting the zone empty/],
    ['pool header', 18, Buffer.alloc(256, 0xff), /starting the zone empty/], // H_POOL_OFFSET
    ['dict header', 7, Buffer.alloc(256, 0xff), /reset empty/], // H_ROOT
  ] as const) {
    it(`a file damaged between runs (${what}): started empty with a warning`, async () => {
      const ns = uniqueNamespace('fdmg');
      const file = await filledFile(dir, ns);
      overwrite(file, offsetWord === undefined ? 0 : headerWord(file, offsetWord), bytes);

      const after = await check(dir, ns);
      expect((after.logs as string[]).join('\n')).to.match(expected);
      expect(after.intact).to.equal(0);
      expect(after.verify).to.equal('ok');
      expect(after.works).to.equal(true);
    });
  }

  it('a file of another layout version is refused (ERR_ZONE_VERSION), never started empty', async () => {
    const ns = uniqueNamespace('fver');
    const file = await filledFile(dir, ns);
    const word = Buffer.alloc(4);
    word.writeUInt32LE(LAYOUT_VERSION - 1);
    overwrite(file, H_VERSION * 4, word); // as an earlier release wrote it
    const before = fs.readFileSync(file);
    const run = await runFixture('file-dict-child', [child(dir, ns, 'check')]);
    expect(JSON.stringify(run.lines) + run.stderr).to.include('ERR_ZONE_VERSION');
    expect(run.code).to.not.equal(0);
    expect(Buffer.compare(fs.readFileSync(file), before), 'the file untouched').to.equal(0);
  });

  it('refuses a file of another mode, and bad options, with typed errors', async () => {
    const ns = uniqueNamespace('fmode');
    const file = path.join(dir, `shmzone.${ns}.z`);
    fs.writeFileSync(file, Buffer.alloc(65536));
    fs.chmodSync(file, 0o644);
    const r = new ZoneRegistry({
      namespace: ns,
      mode: 'standalone',
      backend: 'file',
      directory: dir,
    });
    r.add('z', '64k');
    const err = await r.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.have.property('code', 'ERR_SEGMENT_MODE');
    expect(fs.statSync(file).mode & 0o777, 'untouched').to.equal(0o644);
    expect(() => new ZoneRegistry({ backend: 'file' }))
      .to.throw()
      .with.property('code', 'ERR_ZONE_OPTIONS');
    expect(() => new ZoneRegistry({ backend: 'file', directory: 'rel' }))
      .to.throw()
      .with.property('code', 'ERR_ZONE_OPTIONS');
    expect(() => new ZoneRegistry({ backend: 'nfs' as 'file' }))
      .to.throw()
      .with.property('code', 'ERR_ZONE_OPTIONS');
  });

  it('a full file system: ENOSPC at start, no file left (private mount namespace)', function () {
    if (process.getuid?.() !== 0) this.skip();
    const script = path.join(
      path.dirname(new URL(import.meta.url).pathname),
      '../fixtures/file-enospc.js',
    );
    const r = spawnSync(
      'unshare',
      [
        '-m',
        'sh',
        '-c',
        `mount -t tmpfs -o size=512k shmzone-file-enospc "$1" && exec "$2" "$3" "$1"`,
        'sh',
        dir,
        process.execPath,
        script,
      ],
      { encoding: 'utf8', timeout: 30_000 },
    );
    if (r.error !== undefined || (r.status !== 0 && /mount|unshare/.test(r.stderr))) this.skip();
    expect(r.status, r.stderr).to.equal(0);
    const out = JSON.parse(r.stdout.trim()) as Record<string, unknown>;
    expect(out.code).to.equal('ENOSPC');
    expect(out.left).to.deep.equal([]);
  });
});
