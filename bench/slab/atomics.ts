/**
 * What one `Atomics` call costs on this Node, next to the plain typed-array access it replaces:
 * the floor under the pool lock (a lock/unlock pair is one compareExchange and one store).
 * Interleaved rounds in one process; prints ns per loop iteration, median of the rounds.
 *
 *   node dist/bench/slab/atomics.js [--rounds=5] [--iterations=20000000]
 *
 * Each loop does what the lock does around an empty critical section: take the word, bump a
 * counter with a plain store, release, read the waiter word. Subtract `plain` for the cost of
 * the atomics themselves.
 */
const args = process.argv.slice(2);
const arg = (name: string, dflt: number): number =>
  Number(args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? dflt);
const rounds = arg('rounds', 5);
const iterations = arg('iterations', 20_000_000);

const i32 = new Int32Array(new SharedArrayBuffer(4096));
const LOCK = 4;
const WAITERS = 5;
const COUNTER = 10;

type Loop = (n: number) => number;
const loops: Record<string, Loop> = {
  /** The pool's lock + unlock: compareExchange, then store. */
  'cas + store': (n) => {
    let s = 0;
    for (let i = 0; i < n; i++) {
      if (Atomics.compareExchange(i32, LOCK, 0, 7) !== 0) s++;
      i32[COUNTER]++;
      Atomics.store(i32, LOCK, 0);
      if (i32[WAITERS] !== 0) s++;
    }
    return s;
  },
  /** compareExchange alone (release with a plain store: NOT a correct unlock, see lock.ts). */
  'cas + plain store': (n) => {
    let s = 0;
    for (let i = 0; i < n; i++) {
      if (Atomics.compareExchange(i32, LOCK, 0, 7) !== 0) s++;
      i32[COUNTER]++;
      i32[LOCK] = 0;
      if (i32[WAITERS] !== 0) s++;
    }
    return s;
  },
  /** One Atomics.load: a builtin call around a plain x86 load. */
  'Atomics.load': (n) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += Atomics.load(i32, LOCK);
    return s;
  },
  /** The same work with plain typed-array accesses only. */
  plain: (n) => {
    let s = 0;
    for (let i = 0; i < n; i++) {
      if (i32[LOCK] !== 0) s++;
      i32[LOCK] = 7;
      i32[COUNTER]++;
      i32[LOCK] = 0;
      if (i32[WAITERS] !== 0) s++;
    }
    return s;
  },
};

const samples = new Map<string, number[]>();
let sink = 0;
for (const loop of Object.values(loops)) sink += loop(1_000_000); // warm-up: optimise each loop
for (let r = 0; r < rounds; r++) {
  for (const [name, loop] of Object.entries(loops)) {
    const t0 = process.hrtime.bigint();
    sink += loop(iterations);
    const ns = Number(process.hrtime.bigint() - t0) / iterations;
    samples.set(name, [...(samples.get(name) ?? []), ns]);
  }
}
console.log(`Atomics cost, node ${process.version}: ns per iteration, median of ${rounds} rounds`);
for (const [name, xs] of samples) {
  const sorted = [...xs].sort((a, b) => a - b);
  console.log(`${name.padEnd(20)} ${sorted[sorted.length >> 1].toFixed(2).padStart(7)} ns`);
}
if (sink < 0) console.log(sink);
