/**
 * The tier benchmark: 2 simulated hosts x 2 cluster workers (host.ts), a slow origin, keys
 * Zipf(0.99) over 1,000,000 ids, load from a separate process (load.ts) over 127.0.0.1, one
 * redis-server (started here, 127.0.0.1, no persistence). Variants (variants.ts) run in
 * alternating order round by round, each from cold caches (FLUSHALL, fresh hosts); the
 * table shows each figure's median over the rounds.
 *
 *   node dist/bench/tier/run.js [--rounds=3] [--seconds=10] [--connections=8]
 *
 * Per variant: requests/s, p50/p99 latency, Redis commands per request (INFO stats), worker
 * CPU per request (start-up included), origin calls, memory per host (proportional set size
 * of the primary and its workers), hit ratio (requests not sent to the origin), L1 hit ratio
 * (requests answered from an L1), and the staleness window: 40% into the run, a PUT on host
 * A, then GETs on host B (a new connection each, so both workers answer) until 20 in a row
 * see the new value (capped at STALE_CAP_MS).
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import { createClient } from '@keyv/redis';
import { freePort, startRedis } from '../../test/helpers/redis.js';
import { VARIANTS, type VariantName } from './variants.js';
import { median } from '../median.js';

const arg = (name: string, dflt: number): number =>
  Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt);
const ROUNDS = arg('rounds', 3);
const SECONDS = arg('seconds', 10);
const CONNECTIONS = arg('connections', 8);
const STALE_CAP_MS = 8000;
const here = new URL('.', import.meta.url).pathname;

interface HostStats {
  requests: number;
  originCalls: number;
  l1Hits: number;
  cpuMicros: number;
  memory: number;
}

function startHost(variant: VariantName, ns: string, port: number, url: string) {
  const child = fork(`${here}host.js`, [variant, ns, String(port), url], { stdio: 'inherit' });
  const next = (event: string) =>
    new Promise<Record<string, unknown>>((resolve) => {
      const on = (m: Record<string, unknown>) => {
        if (m.event !== event) return;
        child.off('message', on);
        resolve(m);
      };
      child.on('message', on);
    });
  return {
    child,
    listening: next('listening'),
    stats: async () => {
      const reply = next('stats');
      child.send({ op: 'stats' });
      return (await reply) as unknown as HostStats;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.send({ op: 'stop' });
      }),
  };
}

function request(method: string, port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
}

async function staleness(portA: number, portB: number): Promise<number> {
  const stamp = `s${Date.now()}`;
  const start = performance.now();
  await request('PUT', portA, `/item/1?v=${stamp}`);
  let inRow = 0;
  let firstFresh = 0;
  while (performance.now() - start < STALE_CAP_MS) {
    const fresh = (await request('GET', portB, '/item/1')).includes(stamp);
    if (fresh && inRow++ === 0) firstFresh = performance.now() - start;
    if (!fresh) inRow = 0;
    if (inRow >= 20) return firstFresh;
  }
  return Infinity;
}

function runLoad(
  ports: number[],
): Promise<{ requests: number; errors: number; p50: number; p99: number }> {
  return new Promise((resolve, reject) => {
    const arg = JSON.stringify({ ports, durationMs: SECONDS * 1000, connections: CONNECTIONS });
    const child: ChildProcess = fork(`${here}load.js`, [arg], {
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`load: ${code}`)),
    );
  });
}

const redis = await startRedis();
const admin = createClient({ url: redis.url });
await admin.connect();
const commands = async () =>
  Number(/total_commands_processed:(\d+)/.exec(await admin.info('stats'))![1]);

const results: Record<string, Array<Record<string, number>>> = {};
try {
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? VARIANTS : [...VARIANTS].reverse();
    for (const variant of order) {
      await admin.flushAll();
      const ports = [await freePort(), await freePort()];
      const hosts = ports.map((p, i) =>
        startHost(
          variant,
          `tierbench${process.pid}${round}${variant.replace('-', '')}${i}`,
          p,
          redis.url,
        ),
      );
      await Promise.all(hosts.map((h) => h.listening));
      await new Promise((r) => setTimeout(r, 500)); // subscribers elected
      const c0 = await commands();
      // The write goes in mid-run (under load, at no fixed phase of the L1 TTLs).
      const stalePromise = new Promise<number>((resolve) =>
        setTimeout(() => resolve(staleness(ports[0], ports[1])), SECONDS * 400),
      );
      const load = await runLoad(ports);
      const c1 = await commands();
      const stats = await Promise.all(hosts.map((h) => h.stats()));
      const stale = await stalePromise;
      await Promise.all(hosts.map((h) => h.stop()));
      const origin = stats.reduce((a, s) => a + s.originCalls, 0);
      const row = {
        rps: load.requests / SECONDS,
        p50: load.p50,
        p99: load.p99,
        redisPerRequest: (c1 - c0 - 1) / load.requests,
        workerCpuPerRequestUs: stats.reduce((a, s) => a + s.cpuMicros, 0) / load.requests,
        originCalls: origin,
        memoryPerHostMB: stats.reduce((a, s) => a + s.memory, 0) / stats.length / 2 ** 20,
        hitRatio: 1 - origin / load.requests,
        l1HitRatio: stats.reduce((a, s) => a + s.l1Hits, 0) / load.requests,
        staleMs: stale,
        errors: load.errors,
      };
      (results[variant] ??= []).push(row);
      console.log(`round ${round + 1} ${variant}: ${JSON.stringify(row)}`);
    }
  }
} finally {
  await admin.quit();
  await redis.stop();
}

const fmt = (x: number, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : `> ${STALE_CAP_MS}`);
console.log(
  '\n| variant | requests/s | p50 ms | p99 ms | Redis cmds/request | worker CPU µs/request | origin calls | memory per host (MB, PSS) | hit ratio | L1 hit ratio | staleness after a write on the other host (ms) |',
);
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const v of VARIANTS) {
  const rows = results[v];
  const m = (k: string) => median(rows.map((r) => r[k]));
  console.log(
    `| ${v} | ${fmt(m('rps'))} | ${fmt(m('p50'), 2)} | ${fmt(m('p99'), 2)} | ${fmt(m('redisPerRequest'), 2)} | ${fmt(m('workerCpuPerRequestUs'))} | ${fmt(m('originCalls'))} | ${fmt(m('memoryPerHostMB'))} | ${fmt(m('hitRatio'), 3)} | ${fmt(m('l1HitRatio'), 3)} | ${fmt(m('staleMs'), 1)} |`,
  );
}
fs.mkdirSync('bench/results', { recursive: true });
const file = `bench/results/tier-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
fs.writeFileSync(
  file,
  JSON.stringify({ rounds: ROUNDS, seconds: SECONDS, connections: CONNECTIONS, results }, null, 2),
);
console.log(`\nraw: ${file}`);
