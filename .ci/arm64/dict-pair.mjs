// Run by .ci/arm64/pair.sh under qemu: the first process creates the zone and writes, signals
// READY_FILE, and waits for a second process (started by the shell) to read that and increment.
// 'shmzone' is this checkout (self-reference) or the installed tarball (.ci/pack-install.sh).
import { zones, sharedDict } from 'shmzone';
import fs from 'node:fs';
const first = process.argv[2] !== 'second';
zones.configure({ mode: 'standalone', namespace: process.env.PACK_NAMESPACE });
const shared = sharedDict(zones, 'app', '1m');
await zones.start();
if (first) {
  shared.set('greeting', 'hello');
  fs.writeFileSync(process.env.READY_FILE, 'ready');
  const deadline = Date.now() + 120_000;
  while (shared.get('count') !== 2 && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 100));
  const count = shared.get('count');
  zones.stop();
  if (count !== 2) throw new Error(`count is ${count}`);
  console.log(`${process.version} ${process.arch}: two processes shared one dict (count ${count})`);
} else {
  if (shared.get('greeting') !== 'hello') throw new Error(`greeting: ${shared.get('greeting')}`);
  shared.incr('count', 2, 0);
  zones.stop();
}
