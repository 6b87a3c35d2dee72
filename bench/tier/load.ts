/**
 * The load generator of the tier benchmark, in its own process: CONNECTIONS keep-alive
 * connections per host, each a closed loop (one request in flight), GET /item/<Zipf(0.99)
 * over 1,000,000 ids> for DURATION ms. Prints { requests, errors, p50, p99 } as one JSON line.
 * argv: JSON { ports, durationMs, connections }.
 */
import http from 'node:http';
import { Xorshift32 } from '../prng.js';
import { Zipf } from './zipf.js';

const { ports, durationMs, connections } = JSON.parse(process.argv[2]) as {
  ports: number[];
  durationMs: number;
  connections: number;
};
const zipf = new Zipf(1_000_000, 0.99, new Xorshift32(0x1234567));
const latencies: number[] = [];
let errors = 0;

/** One GET over the agent's keep-alive connections: true for a 200 with its body read. */
function get(agent: http.Agent, port: number, path: string): Promise<boolean> {
  return new Promise((resolve) => {
    http
      .get({ host: '127.0.0.1', port, path, agent }, (res) =>
        res.resume().on('end', () => resolve(res.statusCode === 200)),
      )
      .on('error', () => resolve(false));
  });
}

const end = performance.now() + durationMs;
const loops: Promise<void>[] = [];
for (const port of ports) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  for (let c = 0; c < connections; c++) {
    loops.push(
      (async () => {
        while (performance.now() < end) {
          const t = performance.now();
          if (!(await get(agent, port, `/item/${zipf.next()}`))) errors++;
          latencies.push(performance.now() - t);
        }
      })(),
    );
  }
}
await Promise.all(loops);
latencies.sort((x, y) => x - y);
const at = (q: number) =>
  latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
process.stdout.write(
  JSON.stringify({ requests: latencies.length, errors, p50: at(0.5), p99: at(0.99) }) + '\n',
);
process.exit(0);
