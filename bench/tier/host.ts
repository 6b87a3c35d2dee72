/**
 * One simulated host of the tier benchmark: a node:cluster primary (namespace = the host)
 * with WORKERS HTTP workers sharing one port. GET /item/<id> answers through the variant's
 * cache-aside over a slow origin (ORIGIN_MS per call); PUT /item/<id>?v=<stamp> writes a new
 * value through the variant. Started by run.ts with an IPC channel; answers 'stats' (summed
 * over the workers, plus the host's proportional memory) and exits on 'stop'.
 * argv: variant, namespace, port, redis url.
 */
import cluster from 'node:cluster';
import fs from 'node:fs';
import http from 'node:http';
import { zones } from '../../src/index.js';
import { sharedTier } from '../../src/tier/index.js';
import { makeVariant, type VariantName } from './variants.js';

export const WORKERS = 2;
const ORIGIN_MS = 3;
const L1_SIZE = '64m';

const [variant, namespace, port, url] = process.argv.slice(2) as [
  VariantName,
  string,
  string,
  string,
];

interface WorkerStats {
  requests: number;
  originCalls: number;
  l1Hits: number;
  /** CPU time of the worker (user + system), µs. */
  cpuMicros: number;
}

/** Proportional set size (shared pages split between their mappers), bytes. */
function pss(pid: number): number {
  const text = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  return Number(/^Pss:\s+(\d+) kB/m.exec(text)![1]) * 1024;
}

zones.configure({ namespace });
const tier = variant === 'shmzone' ? sharedTier(zones, 'bench', L1_SIZE) : undefined;
await zones.start();

if (cluster.isPrimary) {
  const workers = Array.from({ length: WORKERS }, () => cluster.fork({ ...process.env }));
  let listening = 0;
  cluster.on('listening', () => {
    if (++listening === WORKERS) process.send!({ event: 'listening' });
  });
  process.on('message', (msg: { op: string }) => {
    if (msg.op === 'stop') {
      for (const w of workers) w.kill();
      cluster.on('exit', () => {
        if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      });
      return;
    }
    const replies: WorkerStats[] = [];
    for (const w of workers) {
      w.once('message', (s: WorkerStats) => {
        replies.push(s);
        if (replies.length < WORKERS) return;
        const sum = (k: keyof WorkerStats) => replies.reduce((a, r) => a + r[k], 0);
        const memory = pss(process.pid) + workers.reduce((a, x) => a + pss(x.process.pid!), 0);
        process.send!({
          event: 'stats',
          requests: sum('requests'),
          originCalls: sum('originCalls'),
          l1Hits: sum('l1Hits'),
          cpuMicros: sum('cpuMicros'),
          memory,
        });
      });
      w.send('stats');
    }
  });
} else {
  const cache = await makeVariant(variant, url, tier);
  const stats: WorkerStats = { requests: 0, originCalls: 0, l1Hits: 0, cpuMicros: 0 };
  const cpuAtStart = process.cpuUsage();
  process.on('message', () => {
    stats.l1Hits = cache.l1Hits();
    const cpu = process.cpuUsage(cpuAtStart);
    stats.cpuMicros = cpu.user + cpu.system;
    process.send!(stats);
  });
  http
    .createServer((req, res) => {
      const [path, query] = (req.url ?? '').split('?');
      const key = path.slice('/item/'.length);
      if (req.method === 'PUT') {
        const stamp = new URLSearchParams(query).get('v') ?? '';
        cache.write(key, JSON.stringify({ id: key, v: stamp })).then(() => res.end('ok'));
        return;
      }
      stats.requests++;
      const origin = async (): Promise<string> => {
        stats.originCalls++;
        await new Promise((r) => setTimeout(r, ORIGIN_MS));
        return JSON.stringify({ id: key, name: `item ${key}`, v: '0', pad: 'x'.repeat(150) });
      };
      cache.get(key, origin).then(
        (value) => res.end(value),
        (error: Error) => {
          res.statusCode = 500;
          res.end(String(error.message));
        },
      );
    })
    .listen(Number(port), '127.0.0.1');
}
