/**
 * getOrSet waiter latency: how long after a loader resolves in this process a getOrSet
 * waiting on it in another process has its value. Its peer, measured in the same run with
 * alternating rounds, is the hand-written fix of issue 17: `add` a lock key, and the other
 * process polls `get` every 5 ms (and, second peer, every 1 ms).
 *
 *   node dist/bench/dict/flight.js [rounds]      (default 40 rounds of each)
 *
 * Times are process.hrtime (CLOCK_MONOTONIC, shared by every process of the host). Prints
 * the median and p90 of each method in µs, and their ratios to getOrSet.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { sharedDict } from '../../src/dict/declare.js';
import { ZoneRegistry } from '../../src/zone/registry.js';

type Method = 'getOrSet' | 'poll5' | 'poll1';
const METHODS: Method[] = ['getOrSet', 'poll5', 'poll1'];
const now = (): number => Number(process.hrtime.bigint()) / 1000; // µs

async function waiter(ns: string): Promise<void> {
  const registry = new ZoneRegistry({ namespace: ns, mode: 'attach' });
  const dict = sharedDict(registry, 'flightbench', '4m');
  await registry.start();
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    const [method, key] = line.split(' ') as [Method, string];
    let value: unknown;
    if (method === 'getOrSet') {
      process.stdout.write('waiting\n');
      value = await dict.getOrSet(key, () => {
        throw new Error('the waiter must never load');
      });
    } else {
      process.stdout.write('waiting\n');
      const every = method === 'poll5' ? 5 : 1;
      while ((value = dict.get(key)) === undefined) await new Promise((r) => setTimeout(r, every));
    }
    process.stdout.write(`${now()} ${String(value)}\n`);
  }
  await registry.stop();
}

async function main(rounds: number): Promise<void> {
  const ns = `fb${process.pid.toString(36)}`;
  const registry = new ZoneRegistry({ namespace: ns, mode: 'owner' });
  const dict = sharedDict(registry, 'flightbench', '4m');
  await registry.start();
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), 'waiter', ns], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const out = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const readLine = async (): Promise<string> => (await out.next()).value as string;
  const samples: Record<Method, number[]> = { getOrSet: [], poll5: [], poll1: [] };
  try {
    for (let r = 0; r < rounds; r++) {
      for (const method of r % 2 === 0 ? METHODS : [...METHODS].reverse()) {
        const key = `${method}:${r}`;
        let release!: () => void;
        const loaded = new Promise<void>((resolve) => (release = resolve));
        let resolvedAt = 0;
        let own: Promise<unknown>;
        if (method === 'getOrSet') {
          own = dict.getOrSet(key, async () => {
            await loaded;
            resolvedAt = now();
            return 'v';
          });
        } else {
          dict.add(`lock:${key}`, 1);
          own = loaded.then(() => {
            dict.set(key, 'v');
            resolvedAt = now();
            dict.delete(`lock:${key}`);
          });
        }
        child.stdin!.write(`${method} ${key}\n`);
        await readLine(); // 'waiting'
        await new Promise((r) => setTimeout(r, 20)); // let it fall asleep
        // A random 0-5 ms more, spun: the pollers' timer phase must not line up with ours.
        const until = now() + Math.random() * 5000;
        while (now() < until);
        release();
        await own;
        const [at] = (await readLine()).split(' ');
        samples[method].push(Number(at) - resolvedAt);
      }
    }
  } finally {
    child.stdin!.end();
    await new Promise((r) => child.once('exit', r));
    await registry.stop();
  }
  const stat = (xs: number[], q: number): number =>
    [...xs].sort((a, b) => a - b)[Math.floor(q * (xs.length - 1))];
  const base = stat(samples.getOrSet, 0.5);
  console.log(`getOrSet waiter latency, other process, ${rounds} alternating rounds (µs)`);
  for (const m of METHODS) {
    const med = stat(samples[m], 0.5);
    const p90 = stat(samples[m], 0.9);
    console.log(
      `${m.padEnd(9)} median ${med.toFixed(0).padStart(6)}  p90 ${p90.toFixed(0).padStart(6)}  median / getOrSet ${(med / base).toFixed(1)}x`,
    );
  }
}

if (process.argv[2] === 'waiter') await waiter(process.argv[3]);
else await main(Number(process.argv[2] ?? 40));
