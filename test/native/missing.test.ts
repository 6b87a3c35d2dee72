/**
 * No addon, no import-time failure: a copy of the compiled library in a directory with no
 * build/ (node-gyp-build, the real loader, finds nothing there) imports cleanly, and the first
 * call that needs the addon throws ShmzoneError ERR_NATIVE_MISSING naming the fix for npm,
 * pnpm and yarn, with node-gyp-build's error as `cause`.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** A package directory holding dist/src of this build but no addon. Removed by the caller. */
export function copyWithoutAddon(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shmzone-noaddon-'));
  fs.cpSync(path.join(root, 'dist/src'), path.join(dir, 'dist/src'), { recursive: true });
  fs.copyFileSync(path.join(root, 'package.json'), path.join(dir, 'package.json'));
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(
    path.join(root, 'node_modules/node-gyp-build'),
    path.join(dir, 'node_modules/node-gyp-build'),
  );
  return dir;
}

/** Runs an ES module body in a child with cwd `dir`; returns its stdout. */
export function runModule(dir: string, body: string): string {
  return execFileSync(process.execPath, ['--input-type=module', '-e', body], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 30_000,
  });
}

describe('native addon missing', () => {
  let dir: string;
  before(() => {
    dir = copyWithoutAddon();
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('the copy really has no addon', () => {
    expect(fs.existsSync(path.join(dir, 'build'))).to.equal(false);
    expect(fs.existsSync(path.join(root, 'build/Release/shmzone.node'))).to.equal(true);
  });

  it('imports cleanly and fails on first use with the fix for npm, pnpm and yarn', () => {
    const out = runModule(
      dir,
      `const lib = await import(${JSON.stringify(path.join(dir, 'dist/src/index.js'))});
       const dict = lib.sharedDict(lib.zones, 'counters', '1m'); // declaring needs no addon
       try {
         lib.zones.configure({ mode: 'standalone', namespace: 'noaddon' + process.pid });
         await lib.zones.start();
         console.log(JSON.stringify({ started: true }));
       } catch (err) {
         console.log(JSON.stringify({
           isShmzone: err instanceof lib.ShmzoneError,
           code: err.code,
           message: err.message,
           cause: String(err.cause && err.cause.message),
           dict: typeof dict.get,
         }));
       }`,
    );
    const r = JSON.parse(out.trim().split('\n').pop()!) as Record<string, unknown>;
    expect(r.started, 'start() succeeded without an addon').to.equal(undefined);
    expect(r.isShmzone).to.equal(true);
    expect(r.code).to.equal('ERR_NATIVE_MISSING');
    const message = r.message as string;
    expect(message).to.contain('npm rebuild shmzone');
    expect(message).to.contain('pnpm approve-builds');
    expect(message).to.contain('yarn rebuild shmzone');
    expect(r.cause).to.match(/No native build was found/);
    expect(r.dict).to.equal('function');
  });
});
