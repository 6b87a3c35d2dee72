/**
 * `npm run demo`: a real HTTP server in cluster mode (one worker per core) whose slow handler
 * (20 ms to "render" /item/<n>) is cached in one SharedDict shared by all workers. The primary
 * loads it from a separate process for a few seconds over 127.0.0.1, then prints requests/s,
 * each worker's hit ratio and the zone's stat table (from the `shmzone` command), shuts
 * everything down and exits 0, leaving nothing in /dev/shm.
 *
 * Environment: SHMZONE_NAMESPACE (default p<pid>), DEMO_SECONDS (load duration, default 3),
 * DEMO_WORKERS (default: one per core).
 */
import cluster, { type Worker } from 'node:cluster';
import { execFileSync, fork } from 'node:child_process';
import http from 'node:http';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { zones, sharedDict } from '../src/index.js';
import { native } from '../src/native.js';

const ITEM_MS = 20;
const TTL_MS = 60_000;
const DEADLINE_MS = 15_000;

// Declared in the primary and in every worker alike, as with lua_shared_dict in nginx.conf.
const cache = sharedDict(zones, 'demo', '16m');

/** Counters one worker reports to the primary. */
interface WorkerReport {
  type: 'report';
  pid: number;
  requests: number;
  hits: number;
  misses: number;
}

/** What the load generator (demo-load.ts) sends back. */
interface LoadResult {
  requests: number;
  errors: number;
  elapsedMs: number;
  p50: number;
  p99: number;
  connections: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The deliberately slow part: build the page for item n. */
async function renderItem(n: number): Promise<string> {
  await sleep(ITEM_MS);
  let h = n >>> 0;
  for (let i = 0; i < 1000; i++) h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
  const rows = Array.from({ length: 20 }, (_, i) => `<li>part ${i}: ${(h + i) % 997}</li>`);
  return `<html><body><h1>item ${n}</h1><ul>${rows.join('')}</ul></body></html>`;
}

async function runWorker(): Promise<void> {
  zones.configure({ mode: 'attach' });
  await zones.start(); // attaches to the primary's zone (namespace from SHMZONE_NAMESPACE)
  const counts = { requests: 0, hits: 0, misses: 0 };
  const server = http.createServer((req, res) => {
    const m = /^\/item\/(\d{1,6})$/.exec(req.url ?? '');
    if (m === null) {
      res.writeHead(404).end();
      return;
    }
    counts.requests++;
    const key = `item:${m[1]}`;
    const cached = cache.get(key);
    if (typeof cached === 'string') {
      counts.hits++;
      res.writeHead(200, { 'content-type': 'text/html', 'x-cache': 'HIT' }).end(cached);
      return;
    }
    counts.misses++;
    void renderItem(Number(m[1])).then((page) => {
      cache.set(key, page, TTL_MS);
      res.writeHead(200, { 'content-type': 'text/html', 'x-cache': 'MISS' }).end(page);
    });
  });
  server.keepAliveTimeout = 10_000;
  // In a cluster worker, port 0 means one random port shared by every worker.
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    process.send?.({ type: 'listening', port: typeof address === 'object' ? address?.port : 0 });
  });
  process.on('message', (msg: { type?: string }) => {
    if (msg.type === 'report') {
      const report: WorkerReport = { type: 'report', pid: process.pid, ...counts };
      process.send?.(report);
    } else if (msg.type === 'shutdown') {
      server.close();
      server.closeAllConnections();
      zones.stop();
      process.exit(0);
    }
  });
}

function once<T>(worker: Worker, type: string): Promise<T> {
  return new Promise((resolve) => {
    const onMessage = (msg: { type?: string }): void => {
      if (msg.type !== type) return;
      worker.off('message', onMessage);
      resolve(msg as T);
    };
    worker.on('message', onMessage);
  });
}

function runLoad(port: number, seconds: number): Promise<LoadResult> {
  const script = fileURLToPath(new URL('./demo-load.js', import.meta.url));
  const child = fork(script, [String(port), String(seconds * 1000)], { stdio: 'inherit' });
  return new Promise((resolve, reject) => {
    let result: LoadResult | undefined;
    child.on('message', (msg) => (result = msg as LoadResult));
    child.on('error', reject);
    child.on('exit', (code) =>
      result !== undefined && code === 0
        ? resolve(result)
        : reject(new Error(`the load generator exited with code ${code}`)),
    );
  });
}

function pct(part: number, whole: number): string {
  return whole === 0 ? '-' : `${((100 * part) / whole).toFixed(1)}%`;
}

async function runPrimary(): Promise<void> {
  const guard = setTimeout(() => {
    console.error(`demo: not done after ${DEADLINE_MS} ms, giving up`);
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGKILL');
    process.exit(1);
  }, DEADLINE_MS);
  guard.unref();

  const namespace = process.env.SHMZONE_NAMESPACE;
  if (namespace !== undefined && namespace !== '') zones.configure({ namespace });
  await zones.start(); // creates the zone; workers forked from now on inherit its namespace
  const count = Number(process.env.DEMO_WORKERS ?? os.availableParallelism());
  const seconds = Number(process.env.DEMO_SECONDS ?? 3);
  console.log(
    `shmzone demo: ${count} workers, namespace ${zones.namespace}, ` +
      `SharedDict "demo" of 16 MiB caching a ${ITEM_MS} ms handler`,
  );

  const workers = Array.from({ length: count }, () => cluster.fork());
  const ports = await Promise.all(
    workers.map((w) => once<{ port: number }>(w, 'listening').then((m) => m.port)),
  );
  console.log(`listening on http://127.0.0.1:${ports[0]}/item/<n>`);

  const load = await runLoad(ports[0], seconds);
  const rate = (load.requests * 1000) / load.elapsedMs;
  console.log(
    `load: ${load.requests} requests in ${(load.elapsedMs / 1000).toFixed(1)} s from a separate ` +
      `process (${load.connections} keep-alive connections): ${rate.toFixed(0)} requests/s, ` +
      `${load.errors} errors, p50 ${load.p50.toFixed(1)} ms, p99 ${load.p99.toFixed(1)} ms`,
  );

  const reports = await Promise.all(
    workers.map((w) => {
      const reply = once<WorkerReport>(w, 'report');
      w.send({ type: 'report' });
      return reply;
    }),
  );
  let hits = 0;
  let total = 0;
  for (const [i, r] of reports.entries()) {
    console.log(
      `worker ${i + 1} (pid ${r.pid}): ${r.requests} requests, ${r.hits} hits, ` +
        `${r.misses} misses, hit ratio ${pct(r.hits, r.requests)}`,
    );
    hits += r.hits;
    total += r.requests;
  }
  console.log(`all workers: hit ratio ${pct(hits, total)}`);

  // The stat table, as an operator would see it: the shmzone command against the live zone.
  const cli = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
  console.log(`\n$ shmzone stat demo --namespace ${zones.namespace}`);
  console.log(
    execFileSync(process.execPath, [cli, 'stat', 'demo', '--namespace', zones.namespace], {
      encoding: 'utf8',
    }).trimEnd(),
  );

  const exits = workers.map((w) => new Promise<number>((r) => w.on('exit', (code) => r(code))));
  for (const w of workers) w.send({ type: 'shutdown' });
  const codes = await Promise.all(exits);
  zones.stop(); // the owner removes the segment
  const left = native.listSegments(`shmzone.${zones.namespace}.`).length;
  console.log(
    `\nshut down: worker exit codes ${codes.join(', ')}; segments left in /dev/shm: ${left}`,
  );
  clearTimeout(guard);
  process.exitCode = load.errors === 0 && left === 0 && codes.every((c) => c === 0) ? 0 : 1;
}

await (cluster.isPrimary ? runPrimary() : runWorker());
