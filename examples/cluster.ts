/**
 * node:cluster: the primary declares and starts the zones, then forks; workers declare the
 * same zones and attach to them (the namespace travels in SHMZONE_NAMESPACE). Every worker
 * counts into one shared counter; the primary reads the total. When the primary exits the
 * segments are removed.
 *
 *   node dist/examples/cluster.js
 */
import cluster from 'node:cluster';
import { zones, sharedDict } from '../src/index.js';

const WORKERS = 2;
const INCREMENTS = 1000;

// Segments are /dev/shm/shmzone.<namespace>.<zone>; default namespace p<primary pid>.
const namespace = process.env.SHMZONE_NAMESPACE;
if (namespace) zones.configure({ namespace });

// Same declaration in every process (like lua_shared_dict in nginx.conf).
const counters = sharedDict(zones, 'counters', '1m');
await zones.start(); // primary: creates the zone; worker: attaches to it

if (cluster.isPrimary) {
  const exits = Array.from({ length: WORKERS }, () => {
    const worker = cluster.fork();
    return new Promise<number | null>((resolve) => worker.on('exit', resolve));
  });
  const codes = await Promise.all(exits);
  // Each worker added INCREMENTS to "hits": the total is exact, whatever the interleaving.
  console.log(`workers exited with ${codes.join(', ')}; hits = ${counters.get('hits')}`);
  console.log(`expected ${WORKERS * INCREMENTS}`);
  zones.stop(); // optional: the primary also removes its zones when it exits
} else {
  for (let i = 0; i < INCREMENTS; i++) counters.incr('hits', 1, 0); // init 0 when missing
  console.log(`worker ${process.pid} done`);
  process.exit(0); // leaves the zone (the primary keeps it)
}
