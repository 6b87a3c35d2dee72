/**
 * worker_threads: a SharedDict (or a Zone) travels to a thread as a handle holding its
 * SharedArrayBuffer; one call there, `SharedDict.fromTransfer(handle)`, makes it usable.
 *
 *   node dist/examples/worker-threads.js
 */
import { Worker, isMainThread, workerData } from 'node:worker_threads';
import { zones, sharedDict, SharedDict, type SharedDictHandle } from '../src/index.js';

const THREADS = 2;
const INCREMENTS = 1000;

// Segments are /dev/shm/shmzone.<namespace>.<zone>; default namespace p<primary pid>.
const namespace = process.env.SHMZONE_NAMESPACE;
if (namespace) zones.configure({ namespace });

if (isMainThread) {
  const counters = sharedDict(zones, 'counters', '1m');
  await zones.start();
  const threads = Array.from(
    { length: THREADS },
    () => new Worker(new URL(import.meta.url), { workerData: counters.transfer() }),
  );
  const codes = await Promise.all(
    threads.map((t) => new Promise<number>((resolve) => t.on('exit', resolve))),
  );
  console.log(`threads exited with ${codes.join(', ')}; hits = ${counters.get('hits')}`);
  console.log(`expected ${THREADS * INCREMENTS}`);
  zones.stop();
} else {
  // In the thread: the same memory, registered in the zone's peer table under this thread.
  const counters = SharedDict.fromTransfer(workerData as SharedDictHandle);
  for (let i = 0; i < INCREMENTS; i++) counters.incr('hits', 1, 0);
  counters.close(); // gives the thread's peer slot back (also done when the thread exits)
}
