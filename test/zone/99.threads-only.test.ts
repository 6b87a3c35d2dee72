/**
 * `mode: 'threads'` (src/zone/memory-source.ts, liveness.ts): zones in ordinary
 * SharedArrayBuffers shared by one process's threads, with no addon. The scenario
 * (test/fixtures/threads-only-child.ts: two worker threads and the main thread on one counter,
 * one dict key and one cold getOrSet key) runs twice: from the checkout, and from a copy of
 * the package that has no addon at all (no build/, no prebuilds/), where importing shmzone
 * must work, the threads mode must work the same, and a cross-process mode must fail with
 * ERR_NATIVE_MISSING naming the threads mode.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ZoneRegistry, sharedDict } from '../../src/index.js';
import { isThreadsOnlyZone } from '../../src/zone/header.js';

interface Outcome {
  mode: string;
  counter: number;
  dictN: number;
  values: string[];
  loads: number;
  verify: string;
  segments: string[];
  addonLoaded: boolean;
  crossProcess: 'started' | { code: string; message: string };
}

const N = 20_000;

function run(childFile: string): Outcome {
  const r = spawnSync(process.execPath, [childFile], { encoding: 'utf8', timeout: 60_000 });
  expect(r.status, r.stderr).to.equal(0);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Outcome;
}

function expectShared(out: Outcome): void {
  expect(out.mode).to.equal('threads');
  expect(out.counter, 'one counter word, three threads').to.equal(3 * N);
  expect(out.dictN, 'one dict key, three threads').to.equal(3 * N);
  expect(out.values).to.deep.equal(['loaded once', 'loaded once', 'loaded once']);
  expect(out.loads, 'the loader ran once for the three threads').to.equal(1);
  expect(out.verify).to.equal('ok');
  expect(out.segments, 'nothing in /dev/shm').to.deep.equal([]);
}

/** A copy of the built package without the addon: dist/src, the fixtures, package.json, the loader. */
function packageWithoutAddon(): string {
  const repo = path.resolve(new URL('../../..', import.meta.url).pathname);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shmzone-noaddon-'));
  fs.cpSync(path.join(repo, 'package.json'), path.join(dir, 'package.json'));
  fs.cpSync(path.join(repo, 'dist/src'), path.join(dir, 'dist/src'), { recursive: true });
  for (const f of ['threads-only-child.js', 'threads-only-worker.js']) {
    fs.cpSync(path.join(repo, 'dist/test/fixtures', f), path.join(dir, 'dist/test/fixtures', f));
  }
  const loader = 'node_modules/node-gyp-build';
  fs.cpSync(path.join(repo, loader), path.join(dir, loader), { recursive: true });
  return dir;
}

describe("threads-only zones (mode: 'threads')", function () {
  this.timeout(120_000);

  it('one process and its worker threads share a slab, a dict and getOrSet', () => {
    const out = run(new URL('../fixtures/threads-only-child.js', import.meta.url).pathname);
    expectShared(out);
    expect(out.crossProcess, 'the addon is here: owner mode works').to.equal('started');
  });

  it('without any addon: import works, threads mode works, other modes name it', () => {
    const dir = packageWithoutAddon();
    try {
      expect(fs.existsSync(path.join(dir, 'build'))).to.equal(false);
      const out = run(path.join(dir, 'dist/test/fixtures/threads-only-child.js'));
      expectShared(out);
      expect(out.addonLoaded, 'no addon was loaded').to.equal(false);
      expect(out.crossProcess).to.not.equal('started');
      const err = out.crossProcess as { code: string; message: string };
      expect(err.code).to.equal('ERR_NATIVE_MISSING');
      expect(err.message).to.include("mode: 'threads'");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('marks its zones threads-only and refuses backend options', async () => {
    const r = new ZoneRegistry({ mode: 'threads' });
    const d = sharedDict(r, 'd', '128k');
    await r.start();
    try {
      expect(isThreadsOnlyZone(r.get('d').buffer)).to.equal(true);
      d.set('k', 'v');
      expect(d.get('k')).to.equal('v');
    } finally {
      r.stop();
    }
    const owner = new ZoneRegistry({ mode: 'owner' });
    owner.add('z', '64k');
    await owner.start();
    try {
      expect(isThreadsOnlyZone(owner.get('z').buffer)).to.equal(false);
    } finally {
      owner.stop();
    }
    for (const extra of [{ backend: 'sysv' as const }, { hugePages: true }]) {
      let code: string | undefined;
      try {
        new ZoneRegistry({ mode: 'threads', ...extra });
      } catch (err) {
        code = (err as { code?: string }).code;
      }
      expect(code, JSON.stringify(extra)).to.equal('ERR_ZONE_OPTIONS');
    }
  });
});
