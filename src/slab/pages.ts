/**
 * Runs of whole pages: allocation from free runs kept in lists by length (exact lengths below
 * FREE_BINS, first fit above), and freeing with coalescing of both neighbours (nginx 1.7.2's
 * scheme), so that freeing everything always leaves one free run. nginx keeps one LIFO list
 * and scans it first-fit; with W3's 1..16-page blocks that list held ~400 runs, mostly
 * fragments too small to use, and the scan dominated.
 *
 * Free run of `len` pages starting at descriptor h:
 *   desc h:           INFO = T_FREE, MAP = len, NEXT/PREV = links in the bin for len
 *   desc h+len-1:     (len >= 2) INFO = T_FREE_TAIL, MAP = h   (for left-coalescing)
 *   descs in between: zero
 *
 * Writes per call are bounded: allocPages <= 13, freePages <= 22 (journaled).
 */
import { L } from './layout.js';
import { jw, jw2, jw4 } from './journal.js';
import { checkPoison, deferPoison } from './poison.js';
import type { PoolState } from './state.js';

/** Sentinel descriptor of the free list for runs of `len` pages. */
export function binSentinel(s: PoolState, len: number): number {
  return len < L.FREE_BINS ? s.freeSentinel + len : s.freeSentinel;
}

/** Mask bit of the free list for runs of `len` pages (bit 0: the >= FREE_BINS list). */
function binBit(len: number): number {
  return len < L.FREE_BINS ? 1 << len : 1;
}

/** Links free-run head d (INFO/MAP already set to length len) into its bin. 4 writes. */
function pushRun(s: PoolState, d: number, len: number): void {
  pushFront(s, binSentinel(s, len), d);
  s.u32[s.base + L.H_FREE_BIN_MASK] |= binBit(len); // derived, not journaled
}

/** Unlinks free-run head d of length len from its bin. 4 writes. */
function unlinkRun(s: PoolState, d: number, len: number): void {
  unlink(s, d);
  const sent = binSentinel(s, len);
  const u32 = s.u32;
  if (u32[s.descWord + sent * L.DESC_WORDS + L.D_NEXT] === sent) {
    u32[s.base + L.H_FREE_BIN_MASK] &= ~binBit(len); // that bin is empty now
  }
}

/**
 * Takes `n` pages: the first run of the smallest non-empty exact-length bin >= n, else the
 * first fit in the >= FREE_BINS list; the front part is taken and the rest goes back to the
 * bin of its length. Returns the head descriptor index with INFO/MAP left for the caller to
 * set and NEXT/PREV zero, or 0 when no run is long enough.
 */
export function allocPages(s: PoolState, n: number): number {
  const u32 = s.u32;
  const D = s.descWord;
  let d = 0;
  if (n < L.FREE_BINS) {
    // Bins n..31 that hold runs: clear the bits below n (bit 0, the big list, goes too).
    const m = (u32[s.base + L.H_FREE_BIN_MASK] >>> n) << n;
    if (m !== 0) {
      const sent = s.freeSentinel + (31 - Math.clz32(m & -m));
      d = u32[D + sent * L.DESC_WORDS + L.D_NEXT];
      // A stale mask bit (only possible mid-recovery) reads as the sentinel: fall through.
      if (d === sent) d = 0;
    }
  }
  if (d === 0) {
    const sent = s.freeSentinel;
    let e = u32[D + sent * L.DESC_WORDS + L.D_NEXT];
    // At most one entry per page: a longer walk is a cycle.
    for (let steps = 0; e !== sent; steps++) {
      if (e < s.firstDesc || e >= s.descEnd || steps >= s.pagesTotal)
        s.damaged(`free list of >= ${L.FREE_BINS} pages: bad link ${e}`);
      if (u32[D + e * L.DESC_WORDS + L.D_MAP] >= n) {
        d = e;
        break;
      }
      e = u32[D + e * L.DESC_WORDS + L.D_NEXT];
    }
    if (d === 0) return 0;
  }
  const w = D + d * L.DESC_WORDS;
  const len = u32[w + L.D_MAP];
  // The head taken must be a free run of at least n pages inside the pool.
  if (d < s.firstDesc || u32[w + L.D_INFO] !== L.T_FREE || len < n || len > s.descEnd - d)
    s.damaged(`free list entry ${d} is not a free run of >= ${n} pages`);
  unlinkRun(s, d, len);
  if (len === n) {
    if (n > 1) {
      const tw = w + (n - 1) * L.DESC_WORDS; // old tail becomes an inner page
      jw(s, tw + L.D_INFO, 0);
      jw(s, tw + L.D_MAP, 0);
    }
  } else {
    // The remainder becomes a run of its own. When it is one page long it is the old tail
    // descriptor, whose INFO/MAP are rewritten here as a head.
    const r = d + n;
    const rw = w + n * L.DESC_WORDS;
    const rest = len - n;
    jw(s, rw + L.D_INFO, L.T_FREE);
    jw(s, rw + L.D_MAP, rest);
    pushRun(s, r, rest);
    if (rest > 1) jw(s, w + (len - 1) * L.DESC_WORDS + L.D_MAP, r);
  }
  u32[s.base + L.H_PAGES_FREE] -= n; // derived counter, not journaled
  if (s.poison) checkPoison(s, s.dataStart + (d - s.firstDesc) * L.PAGE_SIZE, n * L.PAGE_SIZE);
  return d;
}

/**
 * Returns `n` pages at head descriptor `h` (already unlinked from any list) to the free lists,
 * joining free neighbours.
 */
export function freePages(s: PoolState, h: number, n: number): void {
  const u32 = s.u32;
  const D = s.descWord;
  const hw = D + h * L.DESC_WORDS;
  // n comes from a run's MAP word on free(): pages h .. h + n - 1 must exist.
  if (n < 1 || n > s.descEnd - h) s.damaged(`run at descriptor ${h} has length ${n}`);
  if (s.poison) deferPoison(s, s.dataStart + (h - s.firstDesc) * L.PAGE_SIZE, n * L.PAGE_SIZE);
  u32[s.base + L.H_PAGES_FREE] += n;
  let len = n;

  // Right neighbour: absorb a free run that starts just past ours.
  const r = h + n;
  if (r < s.firstDesc + s.pagesTotal) {
    const rw = D + r * L.DESC_WORDS;
    if ((u32[rw + L.D_INFO] & L.TYPE_MASK) === L.T_FREE) {
      const rlen = u32[rw + L.D_MAP];
      if (rlen < 1 || rlen > s.descEnd - r)
        s.damaged(`free run at descriptor ${r} has length ${rlen}`);
      unlinkRun(s, r, rlen);
      jw(s, rw + L.D_INFO, 0);
      jw(s, rw + L.D_MAP, 0);
      len += rlen;
    }
  }

  // Left neighbour: the page before ours is a one-page free run or the tail of a longer one.
  let head = h;
  if (h > s.firstDesc) {
    const l = h - 1;
    const lw = D + l * L.DESC_WORDS;
    const lt = u32[lw + L.D_INFO] & L.TYPE_MASK;
    const lh = lt === L.T_FREE ? l : lt === L.T_FREE_TAIL ? u32[lw + L.D_MAP] : 0;
    if (lh !== 0) {
      // The run before ours must end exactly at h (a tail's MAP names its head).
      const llen = lh < s.firstDesc || lh > l ? 0 : u32[D + lh * L.DESC_WORDS + L.D_MAP];
      if (lh + llen !== h || u32[D + lh * L.DESC_WORDS + L.D_INFO] !== L.T_FREE)
        s.damaged(`free run before descriptor ${h} (head ${lh}) does not end at it`);
      unlinkRun(s, lh, llen);
      if (lh !== l) {
        jw(s, lw + L.D_INFO, 0);
        jw(s, lw + L.D_MAP, 0);
      }
      jw(s, hw + L.D_INFO, 0);
      jw(s, hw + L.D_MAP, 0);
      head = lh;
      len += llen;
    }
  }

  const headw = D + head * L.DESC_WORDS;
  if (head === h) jw(s, hw + L.D_INFO, L.T_FREE);
  jw(s, headw + L.D_MAP, len);
  pushRun(s, head, len);
  if (len > 1) {
    const tw = D + (head + len - 1) * L.DESC_WORDS;
    jw(s, tw + L.D_INFO, L.T_FREE_TAIL);
    jw(s, tw + L.D_MAP, head);
  }
}

/** Removes descriptor d from its doubly-linked list and clears its links. 4 writes. */
export function unlink(s: PoolState, d: number): void {
  unlinkFull(s, d);
  const w = s.descWord + d * L.DESC_WORDS;
  jw(s, w + L.D_NEXT, 0);
  jw(s, w + L.D_PREV, 0);
}

/**
 * Removes a slab that just became full from its class list: 2 writes. Its own NEXT/PREV keep
 * stale values, never followed: a full slab leaves that state only through freeChunk(), whose
 * pushFront() overwrites both links (verify() ignores the links of full slabs, and proves list
 * membership by walking the lists).
 */
export function unlinkFull(s: PoolState, d: number): void {
  const u32 = s.u32;
  const D = s.descWord;
  const w = D + d * L.DESC_WORDS;
  const next = u32[w + L.D_NEXT];
  const prev = u32[w + L.D_PREV];
  // glibc's safe unlinking: both neighbours exist and point back at d, else nothing is written.
  if (
    next === 0 ||
    next >= s.descEnd ||
    prev === 0 ||
    prev >= s.descEnd ||
    u32[D + prev * L.DESC_WORDS + L.D_NEXT] !== d ||
    u32[D + next * L.DESC_WORDS + L.D_PREV] !== d
  )
    badLinks(s, d);
  jw2(s, D + prev * L.DESC_WORDS + L.D_NEXT, next, D + next * L.DESC_WORDS + L.D_PREV, prev);
}

/** Pushes descriptor d at the front of the list whose sentinel is `sent`. 4 writes. */
export function pushFront(s: PoolState, sent: number, d: number): void {
  const u32 = s.u32;
  const D = s.descWord;
  const w = D + d * L.DESC_WORDS;
  const sw = D + sent * L.DESC_WORDS;
  const first = u32[sw + L.D_NEXT];
  if (first === 0 || first >= s.descEnd || u32[D + first * L.DESC_WORDS + L.D_PREV] !== sent)
    badLinks(s, sent);
  // One journal count store for the four (this runs on most W2 steps: ~8% of a step as jw()s).
  jw4(
    s,
    w + L.D_NEXT,
    first,
    w + L.D_PREV,
    sent,
    D + first * L.DESC_WORDS + L.D_PREV,
    d,
    sw + L.D_NEXT,
    d,
  );
}

/** Out of line (cold message building costs the hot callers inlining budget). */
function badLinks(s: PoolState, d: number): never {
  s.damaged(`list links of descriptor ${d} do not point back at it`);
}
