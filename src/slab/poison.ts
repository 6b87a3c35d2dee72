/**
 * Debug mode (SHMZONE_DEBUG=1 when the pool was created): freed memory is filled with
 * POISON_BYTE and checked on reuse, so a write after free shows up at the next allocation.
 *
 * Poisoning is deferred to the next commit (`pool.commit()` or `unlock()`), never
 * done at the free itself: until the commit, a crash rolls the free back, and the memory must
 * then still hold what it held — a slab's in-page bitmap, a dict entry that the rollback links
 * again. Poisoning at once would destroy exactly what the rollback restores the pointers to.
 * A rollback empties the pending list: the frees it undoes never happened.
 */
import { SlabCorruptionError } from '../errors.js';
import { journalRollback } from './journal.js';
import { L } from './layout.js';
import type { PoolState } from './state.js';
import { recount } from './verify.js';

export const POISON_BYTE = 0xa5;

/**
 * Debug mode, at every allocation: the bytes handed out must still hold POISON_BYTE (a
 * different byte means someone wrote after free). Bytes freed earlier in this same locked
 * section are not poisoned yet: they are taken off the pending list and not checked.
 */
export function checkPoison(s: PoolState, start: number, bytes: number): void {
  const end = start + bytes;
  if (s.pendingPoison.length !== 0 && claimPending(s.pendingPoison, start, end)) return;
  const u8 = s.u8;
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

/** Debug mode, at every free: remember [start, start + bytes) for the next commit. */
export function deferPoison(s: PoolState, start: number, bytes: number): void {
  s.pendingPoison.push(start, start + bytes);
}

/** Debug mode, at commit: the frees of the section are final; poison what they released. */
export function flushPoison(s: PoolState): void {
  const pending = s.pendingPoison;
  for (let i = 0; i < pending.length; i += 2) s.u8.fill(POISON_BYTE, pending[i], pending[i + 1]);
  pending.length = 0;
}

/**
 * Removes [start, end) from the pending ranges (splitting any that straddle it). Returns true
 * when it overlapped one: that memory was freed and re-allocated within one section.
 */
function claimPending(pending: number[], start: number, end: number): boolean {
  let hit = false;
  for (let i = pending.length - 2; i >= 0; i -= 2) {
    const a = pending[i];
    const b = pending[i + 1];
    if (b <= start || a >= end) continue;
    hit = true;
    pending.splice(i, 2);
    if (a < start) pending.push(a, start);
    if (b > end) pending.push(end, b);
  }
  return hit;
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
    const w = s.descWord + (s.firstDesc + p) * L.DESC_WORDS;
    const info = u32[w + L.D_INFO];
    const type = info & L.TYPE_MASK;
    const start = s.dataStart + p * L.PAGE_SIZE;
    if (type === L.T_FREE) {
      const len = Math.max(1, u32[w + L.D_MAP]); // verified before; never a zero step
      s.u8.fill(POISON_BYTE, start, start + len * L.PAGE_SIZE);
      p += len;
    } else if (type === L.T_SLAB) {
      const c = (info >>> L.CLASS_SHIFT) & L.CLASS_MASK;
      const bw = t.bitmapWords[c];
      for (let i = 0; i < t.count[c]; i++) {
        const word = bw === 0 ? u32[w + L.D_MAP] : u32[(start >>> 2) + (i >>> 5)];
        if ((word & (1 << (i & 31))) === 0) {
          const off = start + t.dataOffset[c] + i * t.size[c];
          s.u8.fill(POISON_BYTE, off, off + t.size[c]);
        }
      }
      p += t.span[c];
    } else {
      p += Math.max(1, u32[w + L.D_MAP]); // T_RUN: MAP = length
    }
  }
}
