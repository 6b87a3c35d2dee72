/**
 * Keyv, cache-manager and cacheable over one SharedDict, shared by two processes: this
 * process stores a value through cache-manager, a second process (this file again, with
 * the argument `reader`) reads it through cacheable and stores its answer, which this one
 * reads back through cache-manager.
 *
 *   node dist/examples/keyv-caches.js
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import Keyv from 'keyv';
import { createCache } from 'cache-manager';
import { Cacheable } from 'cacheable';
import { zones, sharedDict } from '../src/index.js';
import { KeyvShmzone } from '../src/keyv/index.js';

// Both processes name the same group; the last one out removes the zone.
zones.configure({ mode: 'standalone', namespace: process.env.SHMZONE_NAMESPACE ?? 'keyv-demo' });
const dict = sharedDict(zones, 'cache', '8m');
await zones.start();

if (process.argv[2] === 'reader') {
  const cacheable = new Cacheable({ primary: new Keyv({ store: new KeyvShmzone(dict) }) });
  const user = await cacheable.get<{ name: string; roles: string[] }>('user:1');
  console.log(`reader ${process.pid}: cacheable got ${JSON.stringify(user)}`);
  await cacheable.set('reply', `seen by ${process.pid}`, '1m');
} else {
  const cache = createCache({ stores: [new Keyv({ store: new KeyvShmzone(dict) })] });
  await cache.set('user:1', { name: 'Ada', roles: ['admin'] }, 60_000);
  const reader = fork(fileURLToPath(import.meta.url), ['reader'], { stdio: 'inherit' });
  const code = await new Promise((resolve) => reader.on('exit', resolve));
  console.log(`writer ${process.pid}: reader exited ${code}`);
  console.log(`writer ${process.pid}: cache-manager got ${await cache.get('reply')}`);
}
zones.stop();
