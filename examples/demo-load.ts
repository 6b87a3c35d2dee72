/**
 * The demo's load generator, run as its own process by demo.ts: keep-alive HTTP GETs of
 * /item/<n> to 127.0.0.1:<port> for at most <ms> milliseconds (and at most 200,000
 * requests), items drawn from a skewed distribution so that popular pages repeat. Sends
 * `{ requests, errors, elapsedMs, p50, p99, connections }` to the parent over IPC.
 */
import http from 'node:http';

const port = Number(process.argv[2]);
const durationMs = Math.min(Number(process.argv[3] ?? 3000), 10_000);
const CONNECTIONS = 32;
const MAX_REQUESTS = 200_000;
const ITEMS = 400;

const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
const latencies: number[] = [];
let requests = 0;
let errors = 0;
let seed = 12345;

/** Item numbers skewed towards 0 (a cube of a uniform draw), deterministic. */
function nextItem(): number {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  const u = seed / 2 ** 32;
  return Math.floor(ITEMS * u * u * u);
}

function get(path: string): Promise<void> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent }, (res) => {
      res.resume();
      res.on('end', () => {
        if (res.statusCode !== 200) errors++;
        resolve();
      });
    });
    req.on('error', () => {
      errors++;
      resolve();
    });
  });
}

const start = performance.now();
const end = start + durationMs;

async function user(): Promise<void> {
  while (performance.now() < end && requests < MAX_REQUESTS) {
    requests++;
    const t = performance.now();
    await get(`/item/${nextItem()}`);
    latencies.push(performance.now() - t);
  }
}

await Promise.all(Array.from({ length: CONNECTIONS }, user));
const elapsedMs = performance.now() - start;
agent.destroy();
latencies.sort((a, b) => a - b);
const at = (q: number): number =>
  latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
process.send?.({
  requests,
  errors,
  elapsedMs,
  p50: at(0.5),
  p99: at(0.99),
  connections: CONNECTIONS,
});
process.disconnect?.();
