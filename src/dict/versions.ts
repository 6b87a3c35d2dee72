/**
 * Key versions: the shared words that tell a process's local cache (local-cache.ts) whether a
 * value it decoded earlier is still the key's value.
 *
 * The VERSIONS area (layout.ts) holds one u32 per key bucket, `hash & VER_MASK`. A writer
 * adds 1 to the key's word in every seqlock section that changes what a get of that key
 * returns. That is every section a writer enters for one key: `DictSession.enter` (stores,
 * incr, expire, list changes), `entryDrop` (delete, eviction, expiry) and the in-place
 * overwrite. Sections that only move slots (backward shift, resize) leave entries as they
 * were and do not bump. A flush_all changes FLUSHGEN instead, which the local cache checks too.
 *
 * Order: the bump comes right after the stripe's `Atomics.add` (a full barrier) and before
 * the section's first data store. So a lock-free reader that loads the word between its two
 * stripe loads, and finds the stripe unchanged, loaded the word as it was before the section
 * (x86-TSO keeps loads in order; arm64 rechecks with an Atomics.load, seqlock.ts). A local
 * cache hit loads only this word: equal means no section for the key's bucket was entered
 * since the value was read.
 *
 * The words are plain, never journaled, and only ever move forward. A rollback does not
 * move them back; it does not need to, because a recovery bumps the pool's takeover count and
 * every local cache checks that count and starts over (local-cache.ts). A word wraps after 2^32
 * sections in one bucket; a cached value would have to be read before and served after exactly
 * that many, as with the stripe words.
 *
 * Guarded by test/dict/37.local-cache.test.ts.
 */
import type { DictCore } from './core.js';
import { D_VERSIONS, D_VER_MASK } from './layout.js';

/** Writer, right after entering the key's stripe section: the key's bucket moves on. */
export function bumpKeyVersion(c: DictCore, hash: number): void {
  const u32 = c.u32;
  const word = u32[c.hw + D_VERSIONS] * 2 + (hash & u32[c.hw + D_VER_MASK]);
  u32[word] = u32[word] + 1;
}
