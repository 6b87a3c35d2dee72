/**
 * A real full /dev/shm: in a private mount namespace with a 1 MiB tmpfs over /dev/shm, creating
 * a 4 MiB segment must fail at creation with ENOSPC from posix_fallocate (never a SIGBUS later)
 * and leave nothing behind. Needs root and unshare(1); skipped with the reason otherwise.
 */
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { uniqueNamespace } from '../helpers/shm.js';
import { fixture, isLinux, isRoot } from './child.js';

function whyUnavailable(): string | null {
  if (!isLinux) return 'not Linux';
  if (!isRoot) return 'needs root to mount a tmpfs';
  const probe = spawnSync('unshare', ['-m', 'sh', '-c', 'mount -t tmpfs -o size=64k shmzone-probe /dev/shm'], {
    stdio: 'pipe',
    timeout: 10_000,
  });
  if (probe.error) return `unshare is unavailable (${probe.error.message})`;
  if (probe.status !== 0) return `unshare -m + mount failed: ${probe.stderr.toString().trim()}`;
  return null;
}

describe('native segments on a full /dev/shm', () => {
  it('fails with ENOSPC from posix_fallocate, leaves nothing, and never SIGBUSes', async function () {
    const reason = whyUnavailable();
    if (reason !== null) {
      console.log(`      (skipped: ${reason})`);
      this.skip();
    }
    const ns = uniqueNamespace('enospc');
    // unshare(1) makes the new mount namespace's mounts private: the host /dev/shm is untouched.
    const script = 'mount -t tmpfs -o size=1m shmzone-test /dev/shm && exec "$0" "$@"';
    const child = spawn('unshare', ['-m', 'sh', '-c', script, process.execPath, fixture('native-enospc'), ns], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const [code, signal] = await new Promise<[number | null, string | null]>((resolve) =>
      child.on('close', (c, s) => resolve([c, s])),
    );
    expect(signal, stderr).to.equal(null); // in particular not SIGBUS
    expect(code, stderr).to.equal(0);
    const report = JSON.parse(stdout) as {
      big: { code: string; syscall: string; path: string; message: string } | string;
      leftAfterFailure: string[];
      smallFilled: boolean;
      leftAtEnd: string[];
    };
    expect(report.big).to.be.an('object');
    const big = report.big as { code: string; syscall: string; path: string; message: string };
    expect(big.code).to.equal('ENOSPC');
    expect(big.syscall).to.equal('posix_fallocate');
    expect(big.path).to.equal(`/shmzone.${ns}.big`);
    expect(big.message).to.equal(`ENOSPC: no space left on device, posix_fallocate '/shmzone.${ns}.big'`);
    expect(report.leftAfterFailure).to.deep.equal([]);
    expect(report.smallFilled).to.equal(true);
    expect(report.leftAtEnd).to.deep.equal([]);
  });
});
