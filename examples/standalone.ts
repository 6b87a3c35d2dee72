/**
 * Independent processes / PM2 cluster mode: there is no primary of ours, so every process
 * runs in `standalone` mode. The first one creates the zone, the others attach; the last one
 * out removes it (unless `persist: true`, which keeps a warm cache for the next start).
 *
 * Each process serves GET / with a visit counter kept in a SharedDict, for
 * EXAMPLE_SECONDS seconds (default 2; 0 = until SIGINT/SIGTERM), then leaves.
 *
 *   SHMZONE_NAMESPACE=myapp node dist/examples/standalone.js & \
 *   SHMZONE_NAMESPACE=myapp node dist/examples/standalone.js
 *   pm2 start examples/ecosystem.config.cjs          # the same under PM2, one per core
 */
import http from 'node:http';
import { zones, sharedDict } from '../src/index.js';

// `standalone` is required under PM2: its instances are cluster workers without a primary
// of ours. The namespace names the group of processes that share the zones.
zones.configure({ mode: 'standalone', namespace: process.env.SHMZONE_NAMESPACE ?? 'myapp' });
const shared = sharedDict(zones, 'app', '2m');
await zones.start();

const starts = shared.incr('starts', 1, 0);
console.log(
  `pid ${process.pid}: process number ${starts} to start in namespace ${zones.namespace}`,
);

const server = http.createServer((_req, res) => {
  const visits = shared.incr('visits', 1, 0);
  res.end(`visit ${visits} (served by pid ${process.pid})\n`);
});
// PORT is shared by PM2 cluster-mode instances; without PM2 use one port per process.
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  console.log(`pid ${process.pid}: listening on ${JSON.stringify(address)}`);
});

function leave(): void {
  server.close();
  zones.stop(); // the last live process removes the segment
  console.log(`pid ${process.pid}: left`);
}

const seconds = Number(process.env.EXAMPLE_SECONDS ?? 2);
if (seconds > 0) setTimeout(leave, seconds * 1000);
process.once('SIGINT', leave);
process.once('SIGTERM', leave);
