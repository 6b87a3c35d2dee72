/**
 * memfd zones (`backend: 'memfd'`, src/zone/memfd-source.ts) in a real cluster
 * (test/fixtures/memfd-cluster.ts): a primary and two workers share a dict; a worker
 * respawned after SIGKILL finds the zone the same way; `shmzone ls` lists it; and when the
 * whole process group is SIGKILLed at once nothing of it is left anywhere (no /dev/shm name,
 * no descriptor in any /proc/<pid>/fd), and the next start works.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { ZoneRegistry } from '../../src/index.js';
import { uniqueNamespace } from '../helpers/shm.js';
import { runFixture, stillRunning } from '../helpers/processes.js';
import { shmzoneJson } from '../cli/util.js';
import type { ZoneSummary } from '../../src/zone/inspect.js';

const fixture = new URL('../fixtures/memfd-cluster.js', import.meta.url).pathname;

/** Descriptors of any process whose link names a memfd of namespace `ns`. */
function memfdLinks(ns: string): string[] {
  const out: string[] = [];
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let fds: string[];
    try {
      fds = fs.readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (fs.readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith(`/memfd:shmzone.${ns}.`))
          out.push(`${pid}/${fd}`);
      } catch {
        // closed meanwhile
      }
    }
  }
  return out;
}

const shmNames = (ns: string): string[] => fs.readdirSync('/dev/shm').filter((f) => f.includes(ns));

interface Result {
  n: number;
  ls: ZoneSummary[];
  workerErrors: string[];
}

async function share(ns: string): Promise<Result> {
  const r = await runFixture('memfd-cluster', [ns, 'share'], { timeoutMs: 30_000 });
  expect(r.code, r.stderr).to.equal(0);
  return r.lines.find((l) => l.event === 'result') as unknown as Result;
}

describe("memfd zones (backend: 'memfd', cluster mode)", function () {
  this.timeout(90_000);

  it('primary and workers share a dict; a respawned worker joins; ls lists it; no name anywhere', async () => {
    const ns = uniqueNamespace('memfd');
    const r = await share(ns);
    expect(r.workerErrors).to.deep.equal([]);
    expect(r.n, '2 workers + 1 respawned, 1,000 each').to.equal(3000);
    expect(r.ls.map((z) => [z.zone, z.backend, z.health, z.livePeers])).to.deep.equal([
      ['d', 'memfd', 'ok', 3],
    ]);
    expect(r.ls[0].mode).to.equal(0o600);
    expect(shmNames(ns)).to.deep.equal([]);
    expect(memfdLinks(ns), 'all gone with the processes').to.deep.equal([]);
  });

  it('the whole group SIGKILLed at once leaves nothing; the next start works', async () => {
    const ns = uniqueNamespace('memfdk');
    const group = spawn(process.execPath, [fixture, ns, 'hold'], {
      detached: true,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    group.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const t0 = Date.now();
    while (!out.includes('"event":"ready"')) {
      expect(Date.now() - t0, out).to.be.below(20_000);
      await new Promise((r) => setTimeout(r, 20));
    }
    const ready = JSON.parse(out.split('\n').find((l) => l.includes('"ready"'))!) as {
      pids: number[];
      n: number;
    };
    expect(ready.n).to.equal(2000);
    const listed = shmzoneJson<ZoneSummary[]>('ls', '-n', ns).json;
    expect(listed.map((z) => [z.zone, z.backend, z.livePeers])).to.deep.equal([['d', 'memfd', 3]]);
    expect(memfdLinks(ns).length, 'held by the primary').to.be.at.least(1);
    process.kill(-group.pid!, 'SIGKILL');
    while (ready.pids.some(stillRunning)) await new Promise((r) => setTimeout(r, 10));
    expect(shmNames(ns), 'no name in /dev/shm').to.deep.equal([]);
    expect(memfdLinks(ns), 'no descriptor in any process').to.deep.equal([]);
    expect(shmzoneJson<ZoneSummary[]>('ls', '-n', ns).json).to.deep.equal([]);
    const again = await share(ns);
    expect(again.n, 'a fresh zone').to.equal(3000);
  });

  it('is refused for modes with no primary', () => {
    for (const mode of ['standalone', 'threads'] as const) {
      let code: string | undefined;
      try {
        new ZoneRegistry({ backend: 'memfd', mode });
      } catch (err) {
        code = (err as { code?: string }).code;
      }
      expect(code, mode).to.equal('ERR_ZONE_OPTIONS');
    }
  });
});
