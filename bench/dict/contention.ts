/**
 * The zone lock under C1 writes: one dict filled with C1's 100,000 keys, then 1 and 2 child
 * processes (alternating, `--rounds` times each) running one mode for `--seconds`:
 * - `get`: gets only;
 * - `mixed`: 10% sets;
 * - `set`: sets only;
 * - `delete`: 10% deletes, each followed by a set of the same key (the delete's backward
 *   shift of the index runs under the lock; the set keeps the key count at C1's);
 * - `incr`: 10% incrs of a counter per key, kept beside C1's values (a rate limiter's
 *   pattern).
 * Prints each process's rate and what `pool.stats().lock` counted meanwhile: acquisitions,
 * how many were contended, and the spins and sleeps they waited. docs/performance.md,
 * "SharedDict C1", quotes it.
 *
 *   node dist/bench/dict/contention.js [--mode=mixed|set|get|delete|incr] [--seconds=2]
 *     [--rounds=2]
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ZoneRegistry } from '../../src/zone/registry.js';
import { sharedDict } from '../../src/dict/declare.js';
import { makeKeys, makeStream, makeValues } from './workload.js';

const args = process.argv.slice(2);
const arg = (name: string, dflt: string): string =>
  args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? dflt;
const STREAM = 3_000_000;
const WARM_OPS = 200_000;

/** One process's timed loop over the dict of `namespace`; prints its rate in M ops/s. */
async function child(namespace: string, proc: number, mode: string, seconds: number) {
  const registry = new ZoneRegistry({ namespace, mode: 'attach' });
  const dict = sharedDict(registry, 'c1', '64m');
  await registry.start();
  const keys = makeKeys();
  const values = makeValues();
  const stream = makeStream(STREAM, proc);
  const setEvery = mode === 'set' ? 1 : mode === 'get' ? 0 : 10;
  const deletes = mode === 'delete';
  const counters = mode === 'incr' ? keys.map((k) => `n:${k}`) : null;
  const step = (i: number): void => {
    const k = stream[i % STREAM];
    if (setEvery !== 0 && i % setEvery === 0) {
      if (counters !== null) {
        dict.incr(counters[k], 1, 0);
        return;
      }
      if (deletes) dict.delete(keys[k]);
      dict.set(keys[k], values[k]);
    } else dict.get(keys[k]);
  };
  for (let i = 0; i < WARM_OPS; i++) step(i);
  const t0 = performance.now();
  let done = 0;
  while (performance.now() - t0 < seconds * 1000) {
    for (let i = done; i < done + 4096; i++) step(i);
    done += 4096;
  }
  const ms = performance.now() - t0;
  await registry.stop();
  process.stdout.write(`${(done / ms / 1000).toFixed(2)}\n`);
}

function runChild(namespace: string, proc: number, mode: string, seconds: number) {
  return new Promise<string>((resolve, reject) => {
    const c = spawn(
      process.execPath,
      [fileURLToPath(import.meta.url), '--child', namespace, String(proc), mode, String(seconds)],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.on('exit', (code) =>
      code === 0 ? resolve(out.trim()) : reject(new Error(`child exited with ${code}`)),
    );
  });
}

async function main(): Promise<void> {
  const mode = arg('mode', 'mixed');
  if (!['mixed', 'set', 'get', 'delete', 'incr'].includes(mode)) {
    throw new Error(`--mode must be mixed, set, get, delete or incr, got ${mode}`);
  }
  const seconds = Number(arg('seconds', '2'));
  const rounds = Number(arg('rounds', '2'));
  const namespace = `contention${process.pid}`;
  const registry = new ZoneRegistry({ namespace, mode: 'owner' });
  const dict = sharedDict(registry, 'c1', '64m');
  await registry.start();
  const keys = makeKeys();
  const values = makeValues();
  for (let i = 0; i < keys.length; i++) dict.set(keys[i], values[i]);
  if (mode === 'incr') for (const key of keys) dict.set(`n:${key}`, 0); // every counter exists
  const pool = registry.get('c1').pool;
  console.log(`C1, ${mode}, ${seconds} s per measurement (M ops/s per process; lock counters)`);
  try {
    for (let r = 0; r < rounds; r++) {
      for (const procs of [1, 2]) {
        const before = pool.stats().lock;
        const rates = await Promise.all(
          Array.from({ length: procs }, (_, p) => runChild(namespace, p, mode, seconds)),
        );
        const after = pool.stats().lock;
        // u32 counters: differences modulo 2^32.
        const acquisitions = (after.acquisitions - before.acquisitions) >>> 0;
        const contended = (after.contended - before.contended) >>> 0;
        const spins = (after.spins - before.spins) >>> 0;
        console.log(
          `${procs}p  ${rates.join(' + ').padEnd(12)}  acquisitions ${acquisitions}, contended ${contended} (${((100 * contended) / Math.max(1, acquisitions)).toFixed(1)}%), ${contended ? (spins / contended).toFixed(0) : 0} spins each, ${(after.sleeps - before.sleeps) >>> 0} sleeps`,
        );
      }
    }
  } finally {
    await registry.stop();
  }
}

if (args[0] === '--child') await child(args[1], Number(args[2]), args[3], Number(args[4]));
else await main();
