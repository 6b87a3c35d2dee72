/**
 * `verify()`: walks every page descriptor, both kinds of list and every bitmap, and checks each
 * invariant; throws SlabCorruptionError naming the first violation. `recount()` is the same
 * walk, used after a takeover to rebuild the derived counters (free pages, free-bin mask,
 * per-class total and used), which are not journaled.
 *
 * Invariants:
 * - the header's geometry matches what this process computed; journal count <= capacity;
 * - pages form a sequence of runs, each starting with a head descriptor (free, run or slab)
 *   whose inner descriptors are all zero; a free run of >= 2 pages ends with a tail pointing
 *   back at its head; no two free runs touch (coalesced);
 * - the free lists hold exactly the free runs, each in the list of its length (prev/next
 *   consistent, no cycle), and the bin mask says which lists are non-empty;
 * - a slab's used count (INFO for in-page bitmaps; the set bits of MAP minus the padding for
 *   slabs of <= 32 chunks, whose INFO then holds no count) equals its bitmap's set bits
 *   (padding bits set), 1 <= used <= count, and it is in its class list exactly when
 *   used < count (the list walk checks both directions; a full slab's own links are stale);
 * - free pages and per-class total/used equal the counters;
 * - the thread caches' directory and blocks are one-page runs and their entries lie in the
 *   data pages (cache-inspect.ts).
 */
import { SlabCorruptionError } from '../errors.js';
import { L } from './layout.js';
import type { PoolState } from './state.js';
import { verifyCaches } from './cache-inspect.js';

function fail(msg: string): never {
  throw new SlabCorruptionError(`slab verify: ${msg}`);
}

function popcount(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** Chunks in use of a slab whose bitmap is its MAP word: set bits minus the padding bits. */
function mapUsed(s: PoolState, c: number, map: number): number {
  return popcount(map) - popcount(s.classes.emptyMap[c]);
}

/** Throws SlabCorruptionError at the first broken invariant. */
export function verifyPool(s: PoolState): void {
  walk(s, false);
  verifyCaches(s, fail);
}

/** Rebuilds the derived counters from the descriptors, checking structure on the way. */
export function recount(s: PoolState): void {
  walk(s, true);
  verifyCaches(s, fail);
}

function walk(s: PoolState, fix: boolean): void {
  const u32 = s.u32;
  const b = s.base;
  const t = s.classes;
  const D = s.descWord;
  const first = s.firstDesc;
  const P = s.pagesTotal;
  if (u32[b + L.H_MAGIC] !== L.POOL_MAGIC) fail(`bad magic 0x${u32[b + L.H_MAGIC].toString(16)}`);
  if (u32[b + L.H_VERSION] !== L.POOL_VERSION) fail(`bad layout version ${u32[b + L.H_VERSION]}`);
  if (
    u32[b + L.H_PAGES_TOTAL] !== P ||
    u32[b + L.H_DATA_START] !== s.dataStart ||
    u32[b + L.H_DESC_START] !== D ||
    u32[b + L.H_N_CLASSES] !== t.n
  ) {
    fail('header geometry does not match the pool layout');
  }
  if (u32[b + L.H_JOURNAL_COUNT] > L.JOURNAL_CAPACITY)
    fail(`journal count ${u32[b + L.H_JOURNAL_COUNT]} > capacity`);
  for (let i = 0; i < L.DESC_WORDS; i++)
    if (u32[D + i] !== 0) fail('the null descriptor is not zero');

  const total = new Array<number>(t.n).fill(0);
  const used = new Array<number>(t.n).fill(0);
  const partial = new Array<number>(t.n).fill(0);
  let freePages = 0;
  let bigRuns = 0;
  const runsOfLength = new Array<number>(L.FREE_BINS).fill(0);
  let prevFree = false;
  const innerZero = (from: number, to: number, what: string): void => {
    for (let q = from; q < to; q++) {
      const w = D + (first + q) * L.DESC_WORDS;
      if (u32[w] !== 0 || u32[w + 1] !== 0 || u32[w + 2] !== 0 || u32[w + 3] !== 0) {
        fail(`page ${q} inside the ${what} has a non-zero descriptor`);
      }
    }
  };

  let p = 0;
  while (p < P) {
    const d = first + p;
    const w = D + d * L.DESC_WORDS;
    const info = u32[w + L.D_INFO];
    const type = info & L.TYPE_MASK;
    if (type === L.T_FREE) {
      const len = u32[w + L.D_MAP];
      if (info !== L.T_FREE)
        fail(`free run at page ${p} has stray INFO bits 0x${info.toString(16)}`);
      if (len < 1 || len > P - p) fail(`free run at page ${p} has bad length ${len}`);
      if (prevFree) fail(`free run at page ${p} touches the free run before it (not coalesced)`);
      if (u32[w + L.D_NEXT] === 0 || u32[w + L.D_PREV] === 0)
        fail(`free run at page ${p} is not linked in the free list`);
      innerZero(p + 1, p + len - 1, `free run at page ${p}`);
      if (len > 1) {
        const tw = D + (d + len - 1) * L.DESC_WORDS;
        if (
          u32[tw + L.D_INFO] !== L.T_FREE_TAIL ||
          u32[tw + L.D_MAP] !== d ||
          u32[tw + L.D_NEXT] !== 0 ||
          u32[tw + L.D_PREV] !== 0
        ) {
          fail(`free run at page ${p} (length ${len}) has no proper tail at page ${p + len - 1}`);
        }
      }
      freePages += len;
      if (len >= L.FREE_BINS) bigRuns++;
      else runsOfLength[len]++;
      prevFree = true;
      p += len;
    } else if (type === L.T_RUN) {
      const len = u32[w + L.D_MAP];
      if (info !== L.T_RUN && info !== (L.T_RUN | L.RUN_CACHED))
        fail(`page run at page ${p} has stray INFO bits`);
      if (len < 1 || len > P - p) fail(`page run at page ${p} has bad length ${len}`);
      if (u32[w + L.D_NEXT] !== 0 || u32[w + L.D_PREV] !== 0)
        fail(`page run at page ${p} is linked in a list`);
      innerZero(p + 1, p + len, `page run at page ${p}`);
      prevFree = false;
      p += len;
    } else if (type === L.T_SLAB) {
      const c = (info >>> L.CLASS_SHIFT) & L.CLASS_MASK;
      if (c >= t.n) fail(`slab at page ${p} has class ${c} (only ${t.n})`);
      const span = t.span[c];
      const count = t.count[c];
      const bw = t.bitmapWords[c];
      const u = bw === 0 ? mapUsed(s, c, u32[w + L.D_MAP]) : info >>> L.USED_SHIFT;
      if (span > P - p) fail(`slab at page ${p} runs past the last page`);
      if (bw === 0 && info >>> L.USED_SHIFT !== 0)
        fail(`slab at page ${p} (${t.size[c]} B) has a used count in INFO; its MAP holds it`);
      if (u < 1 || u > count) fail(`slab at page ${p} (${t.size[c]} B) has used ${u} of ${count}`);
      innerZero(p + 1, p + span, `slab at page ${p}`);
      let bits = 0;
      if (bw === 0) {
        const map = u32[w + L.D_MAP];
        if ((map & t.emptyMap[c]) >>> 0 !== t.emptyMap[c])
          fail(`slab at page ${p}: bitmap padding bits cleared`);
        bits = u;
      } else {
        if (u32[w + L.D_MAP] !== 0) fail(`slab at page ${p}: MAP word set for an in-page bitmap`);
        const bm = (s.dataStart + p * L.PAGE_SIZE) >>> 2;
        for (let i = 0; i < bw; i++) bits += popcount(u32[bm + i]);
        const last = u32[bm + bw - 1];
        if ((last & t.emptyMap[c]) >>> 0 !== t.emptyMap[c])
          fail(`slab at page ${p}: bitmap padding bits cleared`);
        bits -= popcount(t.emptyMap[c]);
      }
      if (bits !== u)
        fail(
          `slab at page ${p} (${t.size[c]} B): bitmap has ${bits} chunks set, used count says ${u}`,
        );
      // A partial slab is linked; a full one's links are stale (unlinkFull in pages.ts) and
      // never read. The class-list walk below proves that the lists hold exactly the partial
      // slabs (each listed slab partial, as many entries as partial slabs, no cycle).
      if (u < count && (u32[w + L.D_NEXT] === 0 || u32[w + L.D_PREV] === 0)) {
        fail(`slab at page ${p} (${t.size[c]} B, ${u}/${count} used) is not in its class list`);
      }
      if (u < count) partial[c]++;
      total[c] += count;
      used[c] += u;
      prevFree = false;
      p += span;
    } else {
      fail(`page ${p} has descriptor type ${type} where a run should start`);
    }
  }

  // The free lists: every free run in the list of its length, nothing else, no cycle.
  let mask = 0;
  for (let bin = 0; bin < L.FREE_BINS; bin++) {
    const expected = bin === 0 ? bigRuns : runsOfLength[bin];
    if (expected > 0) mask |= 1 << bin;
    walkList(
      s,
      s.freeSentinel + bin,
      expected,
      `free list ${bin === 0 ? '>= 32 pages' : `of ${bin} pages`}`,
      (d) => {
        const w = D + d * L.DESC_WORDS;
        const len = u32[w + L.D_MAP];
        if (
          (u32[w + L.D_INFO] & L.TYPE_MASK) !== L.T_FREE ||
          (bin === 0 ? len < L.FREE_BINS : len !== bin)
        ) {
          fail(`free list for bin ${bin} holds descriptor ${d}, not a free run of that length`);
        }
      },
    );
  }
  for (let c = 0; c < t.n; c++) {
    walkList(s, c + 1, partial[c], `${t.size[c]} B class list`, (d) => {
      const info = u32[D + d * L.DESC_WORDS + L.D_INFO];
      if ((info & L.TYPE_MASK) !== L.T_SLAB || ((info >>> L.CLASS_SHIFT) & L.CLASS_MASK) !== c) {
        fail(`${t.size[c]} B class list holds descriptor ${d}, not a slab of that class`);
      }
      const u =
        t.bitmapWords[c] === 0
          ? mapUsed(s, c, u32[D + d * L.DESC_WORDS + L.D_MAP])
          : info >>> L.USED_SHIFT;
      if (u >= t.count[c]) fail(`${t.size[c]} B class list holds a full slab (descriptor ${d})`);
    });
  }

  if (fix) {
    u32[b + L.H_PAGES_FREE] = freePages;
    u32[b + L.H_FREE_BIN_MASK] = mask;
    for (let c = 0; c < t.n; c++) {
      u32[s.statsWord + c * L.STAT_WORDS + L.S_TOTAL] = total[c];
      u32[s.statsWord + c * L.STAT_WORDS + L.S_USED] = used[c];
    }
    return;
  }
  if (u32[b + L.H_FREE_BIN_MASK] !== mask >>> 0) {
    fail(
      `free-bin mask 0x${u32[b + L.H_FREE_BIN_MASK].toString(16)}, lists say 0x${(mask >>> 0).toString(16)}`,
    );
  }
  if (u32[b + L.H_PAGES_FREE] !== freePages)
    fail(`free page counter ${u32[b + L.H_PAGES_FREE]}, but ${freePages} pages are free`);
  for (let c = 0; c < t.n; c++) {
    const sw = s.statsWord + c * L.STAT_WORDS;
    if (u32[sw + L.S_TOTAL] !== total[c] || u32[sw + L.S_USED] !== used[c]) {
      fail(
        `${t.size[c]} B class stats say ${u32[sw + L.S_TOTAL]}/${u32[sw + L.S_USED]} total/used, pages hold ${total[c]}/${used[c]}`,
      );
    }
  }
}

function walkList(
  s: PoolState,
  sent: number,
  expected: number,
  name: string,
  check: (d: number) => void,
): void {
  const u32 = s.u32;
  const D = s.descWord;
  const limit = s.firstDesc + s.pagesTotal;
  let prev = sent;
  let d = u32[D + sent * L.DESC_WORDS + L.D_NEXT];
  let n = 0;
  while (d !== sent) {
    if (d < s.firstDesc || d >= limit)
      fail(`${name}: link to descriptor ${d} outside the page descriptors`);
    if (u32[D + d * L.DESC_WORDS + L.D_PREV] !== prev)
      fail(`${name}: descriptor ${d} has a wrong prev link`);
    check(d);
    if (++n > expected) fail(`${name}: more entries than the ${expected} expected (or a cycle)`);
    prev = d;
    d = u32[D + d * L.DESC_WORDS + L.D_NEXT];
  }
  if (u32[D + sent * L.DESC_WORDS + L.D_PREV] !== prev)
    fail(`${name}: sentinel's prev link is wrong`);
  if (n !== expected) fail(`${name}: ${n} entries, expected ${expected}`);
}
