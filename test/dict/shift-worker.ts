/**
 * Worker of 92.seqlock-stripes.test.ts: `role` "writer" churns keys (set, delete: backward shifts
 * that move other keys' slots, and index resizes) until `ms` pass; "reader" reads the stable
 * keys (which must always be found, intact) and the churn keys (which may be missing, but
 * must be intact when found). Posts {reads, misses, torn}.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SharedDict, type SharedDictHandle } from '../../src/dict/dict.js';
import { churnKey, stableKey, valueFor, intact } from './shift-values.js';

const { handle, role, ms, stable, churn, seed } = workerData as {
  handle: SharedDictHandle;
  role: 'writer' | 'reader';
  ms: number;
  stable: number;
  churn: number;
  seed: number;
};
const dict = SharedDict.fromTransfer(handle);
const target = new Uint8Array(512);
let reads = 0;
let misses = 0;
let torn = 0;
let x = seed >>> 0 || 1;
const end = Date.now() + ms;
while (Date.now() < end) {
  for (let n = 0; n < 256; n++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    if (role === 'writer') {
      const i = x % churn;
      if ((x >>> 20) & 1) dict.set(churnKey(i), valueFor(stable + i));
      else dict.delete(churnKey(i));
      continue;
    }
    reads++;
    if ((x >>> 20) & 1) {
      const i = x % stable;
      const v =
        (x >>> 21) & 1 ? dict.get(stableKey(i)) : copyOf(dict.getInto(stableKey(i), target));
      if (v === undefined) misses++;
      else if (!intact(v, i)) torn++;
    } else {
      const i = x % churn;
      const v = dict.get(churnKey(i));
      if (v !== undefined && !intact(v, stable + i)) torn++;
    }
  }
}
parentPort!.postMessage({ reads, misses, torn });
dict.close();

function copyOf(n: number): Uint8Array | undefined {
  return n < 0 ? undefined : target.slice(0, n);
}
