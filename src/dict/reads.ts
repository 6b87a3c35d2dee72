/**
 * get / getStale / has / getInto. By default without the lock: a seqlock-validated copy
 * (`readShared`, seqlock.ts), falling back to the lock after READ_RETRIES attempts. With
 * `reads: 'locked'` every read takes the lock (`readLocked`) and moves a hit to the LRU head,
 * as Lua does. Both paths end in `finishRead`: one place counts hits and misses and marks
 * the key's reference bit for the eviction clock (expiry.ts).
 */
import { BYTE_POOL, copyOut, POOL_MAX, PooledBuffer, readValue, type DictValue } from './codec.js';
import {
  D_FLUSH_GEN,
  D_MASK,
  D_TABLE,
  E_EXP_HI,
  E_EXP_LO,
  E_FLAGS,
  E_GEN,
  E_HASH,
  E_META,
  E_VLEN,
  ENTRY_HEADER_BYTES,
  LINE_WORDS,
  META_KEYLEN_MASK,
  META_TYPE_MASK,
  META_TYPE_SHIFT,
  SEQ_STRIPE_SHIFT,
  SLOT_WORDS,
  STAT_HITS_F64,
  STAT_MISSES_F64,
  T_BYTES,
  T_LIST,
  T_STRING,
  align8,
} from './layout.js';
import { keepable, keepRead } from './local-cache.js';
import { lruTouch } from './lru.js';
import { throwIfClosed } from './not-started.js';
import { locked, type DictSession } from './session.js';
import { DictStatus } from './status.js';

export const READ_GET = 0;
export const READ_STALE = 1;
export const READ_HAS = 2;
export const READ_INTO = 3;

const READ_RETRIES = 16;
/** Loads of the seq word a reader spends waiting for a writer to leave, per attempt. */
const SPINS_ON_ODD = 256;

/** A read in the session's mode: lock-free (default) or locked. */
export function read(s: DictSession, mode: number): DictValue | undefined {
  return s.lockedReads
    ? locked(s, lockedExpires(mode), readLocked, mode, 0, 0, 0)
    : readShared(s, mode);
}

/** Locked reads run Lua's expire(1) first, as its get does; getStale and has do not. */
function lockedExpires(mode: number): boolean {
  return mode === READ_GET || mode === READ_INTO;
}

/**
 * Lock-free read. Closed (or not started) host: never touch its memory. A dict rebuilt
 * under this session needs no check of its own: ROOT is stored only under the lock, and
 * only at the first build (before `attach` returned) or after a reset, which only a
 * recovery does, and every recovery bumps the shared takeover count before its first store.
 * So a session with an out-of-date header rejects its copy at the count check below, and
 * every load on the way is bounds-checked: no throw, no unbounded loop
 * (test/dict/93.recovery-elsewhere.test.ts, test/crash/30.dict-crash.test.ts).
 */
function readShared(s: DictSession, mode: number): DictValue | undefined {
  // Set by get just before this read, for this read only (local-cache.ts).
  const localKey = s.localKey;
  s.localKey = null;
  if (s.host.started === false) {
    throwIfClosed(s.host);
    return locked(s, false, readLocked, mode, 0, 0, 0);
  }
  const c = s.core;
  const u32 = c.u32;
  const u8 = c.u8;
  const i32 = c.i32;
  const kb = s.key.bytes;
  const klen = s.key.length;
  const h = s.key.hash;
  const size = u8.length;
  const words = u32.length;
  for (let attempt = 0; attempt < READ_RETRIES; attempt++) {
    const sw = s.seqW + (1 + (h >>> SEQ_STRIPE_SHIFT)) * LINE_WORDS;
    // Acquire: the stripe word even and remembered before any data load below (the one
    // word covers everything this key's read depends on, see seqlock.ts).
    const s0 = Atomics.load(i32, sw);
    if ((s0 & 1) !== 0) {
      // A writer is inside: wait a little (its sections are short) before trying again.
      for (let spin = 0; spin < SPINS_ON_ODD && (Atomics.load(i32, sw) & 1) !== 0; spin++);
      continue;
    }
    // ---- speculative: anything may be torn; check every offset before using it.
    const hw = c.hw;
    const tw = u32[hw + D_TABLE] * 2;
    const mask = u32[hw + D_MASK];
    if (((mask + 1) & mask) !== 0 || tw + (mask + 1) * SLOT_WORDS > words) continue;
    const hashMask = c.slotHashMask;
    let i = h & mask;
    let e = 0;
    for (let n = 0; n <= mask; n++) {
      const slot = u32[tw + i * SLOT_WORDS];
      if (slot === 0) break;
      // The slot's hash bits filter; the entry's HASH word and key decide (layout.ts).
      const ref = slot & c.slotRefMask;
      if (((slot ^ h) & hashMask) === 0 && ref * 8 + ENTRY_HEADER_BYTES + klen <= size) {
        const ew = ref * 2;
        if (u32[ew + E_HASH] === h && (u32[ew + E_META] & META_KEYLEN_MASK) === klen) {
          const base = ref * 8 + ENTRY_HEADER_BYTES;
          let j = 0;
          while (j < klen && u8[base + j] === kb[j]) j++;
          if (j === klen) {
            e = ref;
            break;
          }
        }
      }
      i = (i + 1) & mask;
    }
    let value: DictValue | undefined;
    let status: number = DictStatus.NOT_FOUND;
    let flags = 0;
    let stale = false;
    // For the local cache: the key's version, inside the section this read validates.
    let version = -1;
    let expires = 0;
    let flushGen = 0;
    if (e !== 0) {
      const ew = e * 2;
      const type = (u32[ew + E_META] >>> META_TYPE_SHIFT) & META_TYPE_MASK;
      const vlen = u32[ew + E_VLEN];
      const off = e * 8 + ENTRY_HEADER_BYTES + align8(klen);
      const hi = u32[ew + E_EXP_HI];
      const lo = u32[ew + E_EXP_LO];
      let live = u32[ew + E_GEN] === u32[hw + D_FLUSH_GEN];
      if (live && (hi | lo) !== 0) live = hi * 4294967296 + lo > s.now();
      if (live || mode === READ_STALE) {
        stale = !live;
        flags = u32[ew + E_FLAGS];
        if (mode === READ_HAS) {
          value = true;
          status = DictStatus.OK;
        } else if (type === T_LIST) {
          status = DictStatus.NOT_LIST;
        } else {
          if (off + vlen > size) continue; // torn length
          if (mode === READ_INTO) {
            status = copyToTarget(s, off, type, vlen);
            if (status !== DictStatus.NOT_BYTES) value = vlen;
          } else if (type === T_BYTES && vlen <= POOL_MAX) {
            // codec.ts bytesOut's pooled path, inlined (V8 does not inline it into this big
            // function): the same 8-byte word copy into a slice of the shared pool.
            const slot = (vlen + 7) & ~7;
            const bp = BYTE_POOL;
            const at = bp.take(slot);
            const dst = bp.f64;
            const src = c.f64;
            const sw8 = off / 8;
            const dw = at >>> 3;
            const n = slot >>> 3;
            for (let k = 0; k < n; k++) dst[dw + k] = src[sw8 + k];
            value = new PooledBuffer(bp.buf, at, vlen) as unknown as Buffer;
            status = DictStatus.OK;
          } else {
            value = readValue(c, off, type, vlen);
            status = DictStatus.OK;
            if (localKey !== null && live && keepable(type, vlen)) {
              version = u32[s.verW + (h & s.verMask)];
              expires = hi * 4294967296 + lo;
              flushGen = u32[ew + E_GEN]; // what `live` compared with FLUSHGEN
            }
          }
        }
      }
    }
    // Release check: nothing we read changed if the word still holds what we saw. A plain
    // load on x86 (after the copy's loads in program and in hardware order; seqlock.ts).
    if ((s.recheckPlain ? i32[sw] : Atomics.load(i32, sw)) !== s0) continue;
    // ...and no recovery started since this session last synced: a rollback (or a reset)
    // rewrites data without touching the stripe words, and the takeover count is bumped
    // before its first store. Loaded after the data (x86 keeps loads in order; V8 does not
    // move a load above the Atomics.load call). Mismatch: repair/sync under the lock.
    if (u32[s.recWord] !== s.repairedAt) break;
    if (version !== -1 && s.local !== null && localKey !== null) {
      keepRead(
        s,
        s.local,
        localKey,
        value as string | number | boolean,
        flags,
        expires,
        flushGen,
        version,
      );
    }
    finishRead(s, mode, status, flags, stale);
    return value;
  }
  return locked(s, false, readLocked, mode, 0, 0, 0);
}

/** Read under the lock (reads: 'locked', or the lock-free path's fallback). */
function readLocked(s: DictSession, mode: number): DictValue | undefined {
  const c = s.core;
  const e = s.lookup();
  let value: DictValue | undefined;
  let status: number = DictStatus.NOT_FOUND;
  let flags = 0;
  let stale = false;
  if (e !== 0) {
    const live = c.isLive(e, s.now());
    if (live || mode === READ_STALE) {
      stale = !live;
      flags = c.u32[e * 2 + E_FLAGS];
      const type = c.type(e);
      if (mode === READ_HAS) {
        value = true;
        status = DictStatus.OK;
      } else if (type === T_LIST) {
        status = DictStatus.NOT_LIST;
      } else if (mode === READ_INTO) {
        const vlen = c.u32[e * 2 + E_VLEN];
        status = copyToTarget(s, c.valueOffset(e), type, vlen);
        if (status !== DictStatus.NOT_BYTES) value = vlen;
      } else {
        value = readValue(c, c.valueOffset(e), type, c.u32[e * 2 + E_VLEN]);
        status = DictStatus.OK;
      }
      // Exact LRU, as Lua: only get and getInto move the entry.
      if (status === DictStatus.OK && live && s.lockedReads && lockedExpires(mode)) {
        lruTouch(c, e);
      }
    }
  }
  finishRead(s, mode, status, flags, stale);
  return value;
}

/**
 * A read's outcome: status, flags and staleness (has sets only the status), a hit or a
 * miss in this session's stats line (plain racy f64 adds, read-stats.ts), and the key's
 * reference bit for a live hit unless reads are locked (which move the entry instead). The
 * bit is a plain racy byte store into memory never freed while the dict lives; skipped
 * when set so hot keys do not dirty the line.
 */
function finishRead(
  s: DictSession,
  mode: number,
  status: number,
  flags: number,
  stale: boolean,
): void {
  s.lastStatus = status;
  const c = s.core;
  if (mode !== READ_HAS) {
    s.lastFlags = flags;
    s.lastStale = stale;
    if (status === DictStatus.OK) c.f64[s.statF64 + STAT_HITS_F64] += 1;
    else c.f64[s.statF64 + STAT_MISSES_F64] += 1;
  }
  if (status === DictStatus.OK && !stale && !s.lockedReads) {
    const b = s.refOff + (s.key.hash & s.refMask);
    if (c.u8[b] === 0) c.u8[b] = 1;
  }
}

/**
 * getInto's copy of `vlen` bytes at zone byte `off` (inside the zone, 8-aligned) into
 * `s.target`: a word loop when the target is 4-aligned, else bytes. Returns the status.
 */
function copyToTarget(s: DictSession, off: number, type: number, vlen: number): number {
  if (type !== T_BYTES && type !== T_STRING) return DictStatus.NOT_BYTES;
  const target = s.target;
  if (vlen > target.length) return DictStatus.BUFFER_TOO_SMALL;
  if (vlen === 0) return DictStatus.OK;
  if (s.targetView !== target) {
    s.targetView = target;
    s.targetI32 =
      (target.byteOffset & 3) === 0
        ? new Int32Array(target.buffer, target.byteOffset, target.length >>> 2)
        : null;
  }
  const i32 = s.targetI32;
  if (i32 !== null) {
    copyOut(s.core, off, vlen, i32, target, 0);
  } else {
    const u8 = s.core.u8;
    for (let k = 0; k < vlen; k++) target[k] = u8[off + k];
  }
  return DictStatus.OK;
}
