/**
 * One measuring process of the dict benchmark (run.ts spawns it fresh per contender, so JIT
 * and GC state never leak between contenders).
 *
 *   node child.js <contender> <variant get|mixed> <proc> <ops> <budgetMs> <envJSON> <fill 0|1>
 *     prints {"ready":true}, waits for "go" on stdin, runs, prints {"ops":n,"ms":t}.
 *   node child.js --cluster <contender> <variant> <procs> <ops> <budgetMs>
 *     a cluster primary (memored, lru-cache-for-clusters-as-promised) whose workers measure;
 *     prints one {"results":[{ops,ms}...]} line.
 */
import cluster from 'node:cluster';
import readline from 'node:readline';
import {
  CLUSTER_CONTENDERS,
  LOCAL_CONTENDERS,
  openContender,
  type Contender,
  type SyncContender,
  type Env,
} from './contenders.js';
import { makeKeys, makeStream, makeValues } from './workload.js';

interface Result {
  ops: number;
  ms: number;
}

async function fillAll(c: Contender, keys: string[], values: Buffer[]): Promise<void> {
  if (c.kind === 'sync') {
    for (let i = 0; i < keys.length; i++) c.set(keys[i], values[i]);
    return;
  }
  if (c.batch) {
    for (let i = 0; i < keys.length; i += 100) {
      const ks = keys.slice(i, i + 100);
      await c.batch(ks, values.slice(i, i + 100));
    }
    return;
  }
  const inflight: Promise<unknown>[] = [];
  for (let i = 0; i < keys.length; i++) {
    inflight.push(c.set(keys[i], values[i]));
    if (inflight.length === 64) await Promise.all(inflight.splice(0));
  }
  await Promise.all(inflight);
}

/** The timed loop. Every 10th operation is a set in the mixed variant. */
async function measure(
  c: Contender,
  variant: string,
  proc: number,
  ops: number,
  budgetMs: number,
): Promise<Result> {
  const keys = makeKeys();
  const values = makeValues();
  const stream = makeStream(ops, proc);
  const mixed = variant === 'mixed';
  if (c.kind === 'sync') return measureSync(c, keys, values, stream, mixed, budgetMs);
  const t0 = performance.now();
  let done = 0;
  let sink = 0;
  if (c.depth > 1 && c.batch) {
    const ks: string[] = [];
    const sets: (Buffer | undefined)[] = [];
    while (done < ops) {
      ks.length = 0;
      sets.length = 0;
      const end = Math.min(ops, done + c.depth);
      for (let i = done; i < end; i++) {
        ks.push(keys[stream[i]]);
        sets.push(mixed && i % 10 === 0 ? values[stream[i]] : undefined);
      }
      await c.batch(ks, sets);
      done = end;
      if (performance.now() - t0 > budgetMs) break;
    }
  } else {
    while (done < ops) {
      const k = stream[done];
      if (mixed && done % 10 === 0) await c.set(keys[k], values[k]);
      else if ((await c.get(keys[k])) != null) sink++;
      done++;
      if ((done & 255) === 0 && performance.now() - t0 > budgetMs) break;
    }
  }
  const ms = performance.now() - t0;
  if (sink < 0) console.log(sink);
  return { ops: done, ms };
}

/**
 * The loop for synchronous contenders, in a plain function of its own. It used to run inside
 * the async `measure`, where V8 compiles it by on-stack replacement of an async function's
 * frame; measured in child processes as run.ts starts them, that made each SharedDict get
 * ~40 ns slower (352-410 ns against 297-324) and left Map's unchanged (111-117 ns either
 * way), so the ratio measured the frame as much as the contenders.
 */
function measureSync(
  c: SyncContender,
  keys: string[],
  values: Buffer[],
  stream: Uint32Array,
  mixed: boolean,
  budgetMs: number,
): Result {
  const ops = stream.length;
  const t0 = performance.now();
  let done = 0;
  let sink = 0;
  while (done < ops) {
    const end = Math.min(ops, done + 4096);
    for (let i = done; i < end; i++) {
      const k = stream[i];
      if (mixed && i % 10 === 0) c.set(keys[k], values[k]);
      else if (c.get(keys[k]) !== undefined) sink++;
    }
    done = end;
    if (performance.now() - t0 > budgetMs) break;
  }
  const ms = performance.now() - t0;
  if (sink < 0) console.log(sink);
  return { ops: done, ms };
}

async function waitForGo(): Promise<void> {
  const rl = readline.createInterface({ input: process.stdin });
  await new Promise<void>((resolve) => rl.once('line', () => resolve()));
  rl.close();
}

async function warmUp(c: Contender, variant: string, proc: number, ops: number): Promise<void> {
  await measure(c, variant, proc + 100, Math.min(ops, c.kind === 'sync' ? 200_000 : 2_000), 1000);
}

async function normal(argv: string[]): Promise<void> {
  const [name, variant, procArg, opsArg, budgetArg, envJson, fillArg] = argv;
  const env = JSON.parse(envJson) as Env;
  const c = await openContender(name, env);
  if (fillArg === '1' || LOCAL_CONTENDERS.has(name)) await fillAll(c, makeKeys(), makeValues());
  await warmUp(c, variant, Number(procArg), Number(opsArg));
  process.stdout.write(JSON.stringify({ ready: true }) + '\n');
  await waitForGo();
  const r = await measure(c, variant, Number(procArg), Number(opsArg), Number(budgetArg));
  process.stdout.write(JSON.stringify(r) + '\n');
  await c.close();
  process.exit(0);
}

async function clusterPrimary(argv: string[]): Promise<void> {
  const [name, variant, procsArg, opsArg, budgetArg] = argv;
  const procs = Number(procsArg);
  if (name === 'lru-cache-for-clusters-as-promised') {
    const mod = (await import('lru-cache-for-clusters-as-promised')).default as unknown as {
      init(): void;
    };
    mod.init();
  } else {
    await import('memored');
  }
  const workers: import('node:cluster').Worker[] = [];
  let ready = 0;
  const results: Result[] = [];
  const filled = new Promise<void>((resolve) => {
    for (let i = 0; i < procs; i++) {
      const w = cluster.fork({
        BENCH_CLUSTER_WORKER: JSON.stringify({
          name,
          variant,
          proc: i,
          ops: Number(opsArg),
          budget: Number(budgetArg),
        }),
      });
      workers.push(w);
      w.on('message', (m: { kind?: string; result?: Result }) => {
        if (m.kind === 'ready' && ++ready === procs) resolve();
        if (m.kind === 'result' && m.result) results.push(m.result);
      });
    }
  });
  await filled;
  for (const w of workers) w.send({ kind: 'go' });
  await new Promise<void>((resolve) => {
    const t = setInterval(() => {
      if (results.length === procs) {
        clearInterval(t);
        resolve();
      }
    }, 20);
  });
  process.stdout.write(JSON.stringify({ results }) + '\n');
  for (const w of workers) w.kill();
  process.exit(0);
}

async function clusterWorker(spec: {
  name: string;
  variant: string;
  proc: number;
  ops: number;
  budget: number;
}): Promise<void> {
  const c = await openContender(spec.name, {});
  if (spec.proc === 0) await fillAll(c, makeKeys(), makeValues());
  else await new Promise((r) => setTimeout(r, 200));
  await warmUp(c, spec.variant, spec.proc, spec.ops);
  const go = new Promise<void>((resolve) =>
    process.on('message', (m: { kind?: string }) => m.kind === 'go' && resolve()),
  );
  process.send!({ kind: 'ready' });
  await go;
  const r = await measure(c, spec.variant, spec.proc, spec.ops, spec.budget);
  process.send!({ kind: 'result', result: r });
}

if (process.env.BENCH_CLUSTER_WORKER)
  await clusterWorker(JSON.parse(process.env.BENCH_CLUSTER_WORKER));
else if (process.argv[2] === '--cluster') await clusterPrimary(process.argv.slice(3));
else if (CLUSTER_CONTENDERS.has(process.argv[2]))
  throw new Error('cluster contenders run with --cluster');
else await normal(process.argv.slice(2));
