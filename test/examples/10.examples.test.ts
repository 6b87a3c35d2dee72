/**
 * Every example and the demo, run as real processes the way the README shows them: each must
 * exit 0 by itself, print its key lines, and leave nothing in /dev/shm.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { segmentsWithPrefix, uniqueNamespace } from '../helpers/shm.js';

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function example(name: string): string {
  return fileURLToPath(new URL(`../../examples/${name}.js`, import.meta.url));
}

function run(name: string, env: Record<string, string>, timeoutMs: number): Promise<Run> {
  const started = Date.now();
  const child = spawn(process.execPath, [example(name)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) =>
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    }),
  );
}

function expectClean(r: Run, namespace: string): void {
  expect(r.code, `exit ${r.code} ${r.signal ?? ''}\n${r.stdout}\n${r.stderr}`).to.equal(0);
  expect(segmentsWithPrefix(namespace)).to.deep.equal([]);
}

describe('examples: each runs and exits 0 by itself', () => {
  it('npm run demo (examples/demo.ts): cluster server, load, hit ratios, stat table', async () => {
    const ns = uniqueNamespace('demo');
    const r = await run('demo', { SHMZONE_NAMESPACE: ns, DEMO_SECONDS: '2' }, 20_000);
    expectClean(r, ns);
    expect(r.ms).to.be.below(15_000);
    const out = r.stdout;
    expect(out).to.match(/shmzone demo: \d+ workers, namespace /);
    const load = /load: (\d+) requests .* (\d+) requests\/s, (\d+) errors/.exec(out);
    expect(load, out).not.to.equal(null);
    expect(Number(load![1])).to.be.greaterThan(100);
    expect(Number(load![3])).to.equal(0);
    const ratios = [
      ...out.matchAll(
        /worker \d+ \(pid \d+\): (\d+) requests, (\d+) hits, .* hit ratio ([\d.]+)%/g,
      ),
    ];
    expect(ratios.length).to.be.greaterThan(0);
    const total = ratios.reduce((n, m) => n + Number(m[1]), 0);
    expect(total).to.equal(Number(load![1]));
    expect(out).to.match(/all workers: hit ratio ([5-9]\d|100)\.\d%/);
    expect(out).to.include(`$ shmzone stat demo --namespace ${ns}`);
    expect(out).to.match(/SLOT\s+TOTAL\s+USED\s+REQS\s+FAILS/);
    expect(out).to.match(/dict {2}entries \d+/);
    expect(out).to.match(/segments left in \/dev\/shm: 0/);
  });

  it('examples/cluster.ts: workers count into one shared counter', async () => {
    const ns = uniqueNamespace('excluster');
    const r = await run('cluster', { SHMZONE_NAMESPACE: ns }, 20_000);
    expectClean(r, ns);
    expect(r.stdout).to.include('workers exited with 0, 0; hits = 2000');
  });

  it('examples/worker-threads.ts: threads count into one shared counter', async () => {
    const ns = uniqueNamespace('exthreads');
    const r = await run('worker-threads', { SHMZONE_NAMESPACE: ns }, 20_000);
    expectClean(r, ns);
    expect(r.stdout).to.include('threads exited with 0, 0; hits = 2000');
  });

  it('examples/standalone.ts: three independent processes share one zone', async () => {
    const ns = uniqueNamespace('exstandalone');
    const env = { SHMZONE_NAMESPACE: ns, EXAMPLE_SECONDS: '1.5' };
    const runs = await Promise.all([1, 2, 3].map(() => run('standalone', env, 20_000)));
    for (const r of runs) expect(r.code, r.stdout + r.stderr).to.equal(0);
    const numbers = runs
      .map((r) => Number(/process number (\d+) to start/.exec(r.stdout)?.[1]))
      .sort();
    // They overlap in time, so they shared one zone: the starts counter went 1, 2, 3.
    expect(numbers).to.deep.equal([1, 2, 3]);
    for (const r of runs) expect(r.stdout).to.match(/listening on .* left\n?$/s);
    expect(segmentsWithPrefix(ns)).to.deep.equal([]);
  });

  it('examples/keyv-caches.ts: cache-manager in one process, cacheable in another, one value', async () => {
    const ns = uniqueNamespace('keyvx');
    const r = await run('keyv-caches', { SHMZONE_NAMESPACE: ns }, 30_000);
    expectClean(r, ns);
    const reader = /reader (\d+): cacheable got (.*)/.exec(r.stdout);
    expect(reader, r.stdout).to.not.equal(null);
    expect(JSON.parse(reader![2])).to.deep.equal({ name: 'Ada', roles: ['admin'] });
    expect(r.stdout).to.include(`cache-manager got seen by ${reader![1]}`);
  });
});
