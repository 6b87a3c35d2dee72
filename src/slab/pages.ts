/**
 * Runs of whole pages: first-fit allocation from a LIFO list of free runs, and freeing with
 * coalescing of both neighbours (nginx 1.7.2's scheme), so that freeing everything always
 * leaves one free run.
 *
 * Free run of `len` pages starting at descriptor h:
 *   desc h:           INFO = T_FREE, MAP = len, NEXT/PREV = free-list links
 *   desc h+len-1:     (len >= 2) INFO = T_FREE_TAIL, MAP = h   (for left-coalescing)
 *   descs in between: zero
 *
 * Writes per call are bounded: allocPages <= 8, freePages <= 14 (journaled).
 */
import {
  CLASS_MASK,
  CLASS_SHIFT,
  DESC_WORDS,
  D_INFO,
  D_MAP,
  D_NEXT,
  D_PREV,
  H_PAGES_FREE,
  PAGE_SIZE,
  TYPE_MASK,
  T_FREE,
  T_FREE_TAIL,
  T_SLAB,
} from './layout.js';
import { SlabCorruptionError } from '../errors.js';
import { journalRollback, jw } from './journal.js';
import type { PoolState } from './state.js';
import { recount } from './verify.js';

export const POISON_BYTE = 0xa5;

/**
 * Takes `n` pages from the first free run long enough (front part). Returns the head
 * descriptor index with INFO/MAP left for the caller to set and NEXT/PREV zero, or 0.
 */
export function allocPages(s: PoolState, n: number): number {
  const u32 = s.u32;
  const D = s.descWord;
  const sent = s.freeSentinel;
  let d = u32[D + sent * DESC_WORDS + D_NEXT];
  while (d !== sent) {
    const w = D + d * DESC_WORDS;
    const len = u32[w + D_MAP];
    if (len >= n) {
      const next = u32[w + D_NEXT];
      const prev = u32[w + D_PREV];
      if (len === n) {
        jw(s, D + prev * DESC_WORDS + D_NEXT, next);
        jw(s, D + next * DESC_WORDS + D_PREV, prev);
        if (n > 1) {
          const tw = w + (n - 1) * DESC_WORDS; // old tail becomes an inner page
          jw(s, tw + D_INFO, 0);
          jw(s, tw + D_MAP, 0);
        }
      } else {
        // The remainder takes the run's place in the list. When it is one page long it is
        // the old tail descriptor, whose INFO/MAP are rewritten here as a head.
        const r = d + n;
        const rw = w + n * DESC_WORDS;
        const rest = len - n;
        jw(s, rw + D_INFO, T_FREE);
        jw(s, rw + D_MAP, rest);
        jw(s, rw + D_NEXT, next);
        jw(s, rw + D_PREV, prev);
        jw(s, D + prev * DESC_WORDS + D_NEXT, r);
        jw(s, D + next * DESC_WORDS + D_PREV, r);
        if (rest > 1) jw(s, w + (len - 1) * DESC_WORDS + D_MAP, r);
      }
      jw(s, w + D_NEXT, 0);
      jw(s, w + D_PREV, 0);
      u32[s.base + H_PAGES_FREE] -= n; // derived counter, not journaled
      if (s.poison) checkPoison(s, s.dataStart + (d - s.firstDesc) * PAGE_SIZE, n * PAGE_SIZE);
      return d;
    }
    d = u32[w + D_NEXT];
  }
  return 0;
}

/**
 * Returns `n` pages at head descriptor `h` (already unlinked from any list) to the free list,
 * joining free neighbours.
 */
export function freePages(s: PoolState, h: number, n: number): void {
  const u32 = s.u32;
  const D = s.descWord;
  const hw = D + h * DESC_WORDS;
  if (s.poison)
    s.u8.fill(
      POISON_BYTE,
      s.dataStart + (h - s.firstDesc) * PAGE_SIZE,
      s.dataStart + (h - s.firstDesc + n) * PAGE_SIZE,
    );
  u32[s.base + H_PAGES_FREE] += n;
  let len = n;

  // Right neighbour: absorb a free run that starts just past ours.
  const r = h + n;
  if (r < s.firstDesc + s.pagesTotal) {
    const rw = D + r * DESC_WORDS;
    if ((u32[rw + D_INFO] & TYPE_MASK) === T_FREE) {
      len += u32[rw + D_MAP];
      unlink(s, r);
      jw(s, rw + D_INFO, 0);
      jw(s, rw + D_MAP, 0);
    }
  }

  // Left neighbour: the page before ours is a one-page free run or the tail of a longer one.
  let head = h;
  if (h > s.firstDesc) {
    const l = h - 1;
    const lw = D + l * DESC_WORDS;
    const lt = u32[lw + D_INFO] & TYPE_MASK;
    const lh = lt === T_FREE ? l : lt === T_FREE_TAIL ? u32[lw + D_MAP] : 0;
    if (lh !== 0) {
      if (lh !== l) {
        jw(s, lw + D_INFO, 0);
        jw(s, lw + D_MAP, 0);
      }
      jw(s, hw + D_INFO, 0);
      jw(s, hw + D_MAP, 0);
      head = lh;
      len += u32[D + lh * DESC_WORDS + D_MAP];
      jw(s, D + lh * DESC_WORDS + D_MAP, len);
    }
  }

  if (head === h) {
    jw(s, hw + D_INFO, T_FREE);
    jw(s, hw + D_MAP, len);
    const sw = D + s.freeSentinel * DESC_WORDS;
    const first = u32[sw + D_NEXT];
    jw(s, hw + D_NEXT, first);
    jw(s, hw + D_PREV, s.freeSentinel);
    jw(s, D + first * DESC_WORDS + D_PREV, h);
    jw(s, sw + D_NEXT, h);
  }

  if (len > 1) {
    const tw = D + (head + len - 1) * DESC_WORDS;
    jw(s, tw + D_INFO, T_FREE_TAIL);
    jw(s, tw + D_MAP, head);
  }
}

/** Removes descriptor d from its doubly-linked list and clears its links. 4 writes. */
export function unlink(s: PoolState, d: number): void {
  const u32 = s.u32;
  const D = s.descWord;
  const w = D + d * DESC_WORDS;
  const next = u32[w + D_NEXT];
  const prev = u32[w + D_PREV];
  jw(s, D + prev * DESC_WORDS + D_NEXT, next);
  jw(s, D + next * DESC_WORDS + D_PREV, prev);
  jw(s, w + D_NEXT, 0);
  jw(s, w + D_PREV, 0);
}

/** Pushes descriptor d at the front of the list whose sentinel is `sent`. 4 writes. */
export function pushFront(s: PoolState, sent: number, d: number): void {
  const u32 = s.u32;
  const D = s.descWord;
  const w = D + d * DESC_WORDS;
  const sw = D + sent * DESC_WORDS;
  const first = u32[sw + D_NEXT];
  jw(s, w + D_NEXT, first);
  jw(s, w + D_PREV, sent);
  jw(s, D + first * DESC_WORDS + D_PREV, d);
  jw(s, sw + D_NEXT, d);
}

/** Debug mode: every free byte holds POISON_BYTE; a different byte means a use after free. */
export function checkPoison(s: PoolState, start: number, bytes: number): void {
  const u8 = s.u8;
  const end = start + bytes;
  for (let i = start; i < end; i++) {
    if (u8[i] !== POISON_BYTE) {
      journalRollback(s); // back to the last commit before throwing mid-operation
      recount(s); // derived counters are not journaled
      throw new SlabCorruptionError(
        `use after free: byte ${i} of freed memory no longer holds the poison pattern 0xa5`,
      );
    }
  }
}

/**
 * Debug mode after a takeover: the dead owner may have written into memory that the rollback
 * made free again. Re-poison every free page and every free chunk so that the poison checks
 * keep meaning "written after free". Walks the (verified) descriptors.
 */
export function repoisonFree(s: PoolState): void {
  const u32 = s.u32;
  const t = s.classes;
  let p = 0;
  while (p < s.pagesTotal) {
    const w = s.descWord + (s.firstDesc + p) * DESC_WORDS;
    const info = u32[w + D_INFO];
    const type = info & TYPE_MASK;
    const start = s.dataStart + p * PAGE_SIZE;
    if (type === T_FREE) {
      const len = u32[w + D_MAP];
      s.u8.fill(POISON_BYTE, start, start + len * PAGE_SIZE);
      p += len;
    } else if (type === T_SLAB) {
      const c = (info >>> CLASS_SHIFT) & CLASS_MASK;
      const bw = t.bitmapWords[c];
      for (let i = 0; i < t.count[c]; i++) {
        const word = bw === 0 ? u32[w + D_MAP] : u32[(start >>> 2) + (i >>> 5)];
        if ((word & (1 << (i & 31))) === 0) {
          const off = start + t.dataOffset[c] + i * t.size[c];
          s.u8.fill(POISON_BYTE, off, off + t.size[c]);
        }
      }
      p += t.span[c];
    } else {
      p += Math.max(1, u32[w + D_MAP]); // T_RUN: MAP = length
    }
  }
}
