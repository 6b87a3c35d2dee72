/**
 * What memory alone costs a C1 get on this machine, without any dict code: the floor under
 * `micro.js`'s figures (docs/performance.md, "Where a C1 get's time goes").
 *
 * 1. Dependent-miss latency: a pointer chase through one random 64-byte line after another
 *    in a SharedArrayBuffer of 2, 16 and 64 MiB (each load's address comes from the one
 *    before, so nothing overlaps).
 * 2. C1's access pattern with the dict's sizes and nothing else: for a random key of
 *    100,000, its one-word slot in a 1 MiB index, then the 160-byte entry that slot names in a
 *    16 MiB area (key and value read), one get after another. `chained` makes each get's
 *    first address depend on the previous get's result, as a get's hundreds of instructions
 *    effectively do (the CPU cannot run far enough ahead to start the next get's misses);
 *    `overlapped` lets the CPU overlap consecutive gets, as it does for a short loop body
 *    such as Map.get's. Two more chained rows split a get's loads: `two-word slots` is the
 *    same with the 2 MiB index of two-word slots the dict had before (src/dict/layout.ts, "Index
 *    table"), `entry alone` skips the slot (its entry's address known in advance), so the
 *    slot's share is the difference.
 * 3. Map.get over the same keys in the same process, for scale, and (with --expose-gc) the
 *    heap its table takes: all a Map.get can touch besides the key string.
 *
 *   node [--expose-gc] dist/bench/dict/floor.js [--rounds=3]
 */
import { makeKeys } from './workload.js';
import { Xorshift32 } from '../prng.js';

const args = process.argv.slice(2);
const rounds = Number(args.find((a) => a.startsWith('--rounds='))?.slice(9) ?? '3');
const MiB = 1 << 20;
const OPS = 2_000_000;

/** ns per load of a pointer chase over one random line per step in `bytes`. */
function chase(bytes: number): number {
  const u32 = new Uint32Array(new SharedArrayBuffer(bytes));
  const lines = bytes / 64;
  const order = new Uint32Array(lines);
  for (let i = 0; i < lines; i++) order[i] = i;
  const rng = new Xorshift32(12345);
  for (let i = lines - 1; i > 0; i--) {
    const j = rng.below(i + 1);
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  for (let i = 0; i < lines; i++) u32[order[i] * 16] = order[(i + 1) % lines] * 16;
  let p = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < OPS; i++) p = u32[p];
  const ns = Number(process.hrtime.bigint() - t0) / OPS;
  return p === 0xffffffff ? -1 : ns; // p used: the loop is not dead code
}

const KEYS = 100_000;
const SLOTS = 1 << 18; // what 100,000 keys grow the dict's index to (it grows past 3/4 full)
const ENTRY_BYTES = 160; // a C1 entry's size class: 40 B header, 16 B key, 100 B value

/** An index of SLOTS slots of `slotWords` words, then KEYS entries in random order behind it. */
interface C1Area {
  area: Uint32Array;
  /** Word index of each key's slot (of its ref, for two-word slots). */
  slotOf: Uint32Array;
  /** Each key's entry (word index): what its slot holds, for the entry-alone row. */
  entryOf: Uint32Array;
}

function c1Area(slotWords: number): C1Area {
  const slots = SLOTS;
  const indexBytes = slots * slotWords * 4;
  const area = new Uint32Array(new SharedArrayBuffer(indexBytes + KEYS * ENTRY_BYTES));
  const entryBase = indexBytes / 4;
  // Every entry line is written before it is read: pages of a fresh buffer that were never
  // written all map the kernel's one zero page, so reading them would hit in L1 whatever the
  // address (docs/performance.md, "SharedDict C1: where a get's time goes"). The small values
  // keep `chained()`'s dependency mask at 0.
  area.fill(1, entryBase);
  const slotOf = new Uint32Array(KEYS);
  const entryOf = new Uint32Array(KEYS);
  const rng = new Xorshift32(777);
  const place = new Uint32Array(KEYS);
  for (let i = 0; i < KEYS; i++) place[i] = i;
  for (let i = KEYS - 1; i > 0; i--) {
    const j = rng.below(i + 1);
    const t = place[i];
    place[i] = place[j];
    place[j] = t;
  }
  for (let k = 0; k < KEYS; k++) {
    let s = rng.next() & (slots - 1);
    while (area[s * slotWords] !== 0) s = (s + 1) & (slots - 1);
    slotOf[k] = s * slotWords; // the word a get loads: the slot's ref
    entryOf[k] = entryBase + (place[k] * ENTRY_BYTES) / 4;
    area[s * slotWords] = entryOf[k];
  }
  return { area, slotOf, entryOf };
}

const c1 = c1Area(1);
const c1TwoWordSlots = c1Area(2);
const stream = new Uint32Array(OPS + 1);
{
  const rng = new Xorshift32(4242);
  for (let i = 0; i < OPS; i++) stream[i] = rng.below(KEYS);
}

/** One get's loads of entry word `e`: its header, key and the value's three lines. */
function entryLoads(area: Uint32Array, e: number): number {
  return area[e + 3] + area[e + 10] + area[e + 14] + area[e + 24] + area[e + 38];
}

function overlapped(): number {
  const { area, slotOf } = c1;
  let sink = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < OPS; i++) sink += entryLoads(area, area[slotOf[stream[i]]]);
  const ns = Number(process.hrtime.bigint() - t0) / OPS;
  return sink === -1 ? -1 : ns;
}

/**
 * Each get's slot, then its entry. `dep` is always 0 (the area holds no such bits), but the
 * CPU cannot know it before the loads return, so the next get's first address waits for this
 * get's last load.
 */
function chained({ area, slotOf }: C1Area): number {
  let dep = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < OPS; i++) dep = entryLoads(area, area[slotOf[stream[i + dep]]]) & 0x40000000;
  const ns = Number(process.hrtime.bigint() - t0) / OPS;
  return dep === -1 ? -1 : ns;
}

/** As chained(), with the entry's address known without its slot: what the slot costs. */
function entryAlone({ area, entryOf }: C1Area): number {
  let dep = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < OPS; i++) dep = entryLoads(area, entryOf[stream[i + dep]]) & 0x40000000;
  const ns = Number(process.hrtime.bigint() - t0) / OPS;
  return dep === -1 ? -1 : ns;
}

const keys = makeKeys(KEYS);
/** V8's collector, when node runs with --expose-gc: the Map's heap size is then measured. */
const gc = (globalThis as { gc?: () => void }).gc;
gc?.();
const heapBeforeMap = process.memoryUsage().heapUsed;
const map = new Map<string, number>();
for (let i = 0; i < KEYS; i++) map.set(keys[i], i);
gc?.();
const mapHeapBytes = process.memoryUsage().heapUsed - heapBeforeMap;
function mapGet(): number {
  let sink = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < OPS; i++) sink += map.get(keys[stream[i]]) ?? 0;
  const ns = Number(process.hrtime.bigint() - t0) / OPS;
  return sink === -1 ? -1 : ns;
}

const runs: Record<string, () => number> = {
  'chase 2 MiB': () => chase(2 * MiB),
  'chase 16 MiB': () => chase(16 * MiB),
  'chase 64 MiB': () => chase(64 * MiB),
  'C1 loads, chained': () => chained(c1),
  'C1, two-word slots': () => chained(c1TwoWordSlots),
  'C1 entry alone': () => entryAlone(c1),
  'C1 loads, overlapped': overlapped,
  'Map.get': mapGet,
};
const ns: Record<string, number[]> = {};
for (const name of Object.keys(runs)) ns[name] = [];
for (let r = 0; r < rounds; r++)
  for (const [name, run] of Object.entries(runs)) ns[name].push(run());
for (const [name, xs] of Object.entries(ns)) {
  const sorted = [...xs].sort((a, b) => a - b);
  console.log(
    `${name.padEnd(22)} ${sorted[sorted.length >> 1].toFixed(1).padStart(7)} ns  [${xs.map((x) => x.toFixed(0)).join(' ')}]`,
  );
}
console.log(
  gc === undefined
    ? "Map's table: run node with --expose-gc to measure its heap"
    : `Map's table ${(mapHeapBytes / MiB).toFixed(2).padStart(7)} MiB of heap for ${KEYS} keys`,
);
