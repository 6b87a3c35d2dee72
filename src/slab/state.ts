/**
 * The per-process view of one pool: typed arrays over the whole zone buffer plus the pool's
 * geometry copied into plain fields (read on every call, so never re-read from shared memory).
 * `pages.ts`, `chunks.ts`, `journal.ts`, `verify.ts` are functions over this state; `pool.ts`
 * composes them behind the public class.
 */
import { SlabCorruptionError } from '../errors.js';
import type { Geometry } from './layout.js';
import { L } from './layout.js';
import type { SizeClassTable } from './sizeclass.js';
import { CRASH_HOOK } from './crashpoint.js';

export class PoolState {
  readonly buffer: SharedArrayBuffer;
  readonly u8: Uint8Array;
  readonly i32: Int32Array;
  readonly u32: Uint32Array;
  /** @internal */
  readonly classes: SizeClassTable;
  /** @internal `classes.packed`, one load closer for the hot paths. */
  readonly ct: Uint32Array;
  /** @internal */
  readonly nClasses: number;

  /** @internal First word of the pool (header word 0). */
  readonly base: number;
  readonly byteOffset: number;
  /** @internal */
  readonly length: number;
  /** @internal */
  readonly journalWord: number;
  /** @internal */
  readonly journalCountWord: number;
  /** @internal */
  readonly lockWord: number;
  /** @internal First of the SLEEPER_WORDS sleeper bitmap words (layout.ts, L.H_SLEEPERS). */
  readonly sleepersWord: number;
  /** @internal */
  readonly statsWord: number;
  /** @internal */
  readonly descWord: number;
  /** @internal */
  readonly firstDesc: number;
  /** @internal */
  readonly freeSentinel: number;
  /** @internal */
  readonly dataStart: number;
  /** @internal */
  readonly pagesTotal: number;
  /** @internal */
  readonly dataEnd: number;
  /** @internal One past the last page descriptor: a list link is valid in [1, descEnd). */
  readonly descEnd: number;

  /** @internal Set by pool.ts: verify after every mutation (SHMZONE_DEBUG=1). */
  debug = false;
  /** @internal Set by pool.ts from the header: poison freed memory and check it on reuse. */
  poison = false;
  /**
   * @internal
   * Debug mode: byte ranges [start, end) freed since the last commit, poisoned only at the
   * commit (see poison.ts for why not at once). Process-local; empty outside debug mode.
   */
  readonly pendingPoison: number[] = [];

  /** @internal crashpoint.ts's CRASH_HOOK, read by jw() as a field (an imported binding costs a load and a hole check per use). */
  readonly crashHook: boolean = CRASH_HOOK;

  /** @internal Word index of this thread's cache block (cache.ts), 0 = none. */
  cacheWord = 0;
  /** @internal The owner id `cacheWord`'s block belongs to (owner.selfId, one load closer). */
  cacheOwner = 0;
  /** @internal The pool generation `cacheWord` belongs to: a reset frees every block. */
  cacheGen = 0;
  /** @internal The pool was made with thread caches (and not in debug mode, not poisoned). */
  cacheEnabled = false;
  /** @internal True while this thread may still attach a cache block (once per generation). */
  cacheAttach = false;
  /** @internal cache.ts `binCaps()`: entries each bin may hold, 0 = not cached. */
  cacheCaps: Uint8Array = new Uint8Array(0);
  /** @internal Word index of H_GENERATION (one load less a call on the cached paths). */
  readonly generationWord: number;
  /** @internal The class table's byEighth (one load less a call on the cached paths). */
  readonly byEighth: Uint8Array;

  /** @internal Scratch results of `locate()` (chunks.ts), so that free() allocates no object. */
  locDesc = 0;
  /** @internal */
  locClass = 0;
  /** @internal */
  locIndex = 0;
  /** @internal Word index of the bitmap word holding the located chunk's bit. */
  locWord = 0;

  constructor(buffer: SharedArrayBuffer, g: Geometry, classes: SizeClassTable) {
    this.buffer = buffer;
    this.u8 = new Uint8Array(buffer);
    this.i32 = new Int32Array(buffer, 0, Math.floor(buffer.byteLength / 4));
    this.u32 = new Uint32Array(buffer, 0, Math.floor(buffer.byteLength / 4));
    this.classes = classes;
    this.ct = classes.packed;
    this.nClasses = classes.n;
    this.base = g.base;
    this.generationWord = g.base + L.H_GENERATION;
    this.byEighth = classes.byEighth;
    this.byteOffset = g.base * 4;
    this.length = g.length;
    this.journalWord = g.journalWord;
    this.journalCountWord = g.base + L.H_JOURNAL_COUNT;
    this.lockWord = g.base + L.H_LOCK;
    this.sleepersWord = g.base + L.H_SLEEPERS;
    this.statsWord = g.statsWord;
    this.descWord = g.descWord;
    this.firstDesc = g.firstDesc;
    this.freeSentinel = g.freeSentinel;
    this.dataStart = g.dataStart;
    this.pagesTotal = g.pagesTotal;
    this.dataEnd = g.dataStart + g.pagesTotal * 4096;
    this.descEnd = g.firstDesc + g.pagesTotal;
  }

  /**
   * @internal An allocation path found damaged metadata (a link, length or count out of range, a list
   * that does not link back) before following it. SlabPool overrides this to reset the pool
   * EMPTY first, so that the next call works (pool.ts, resetDamaged). Guarded by
   * test/slab/damage.test.ts and test/fuzz/20.damaged-pool.test.ts.
   */
  damaged(what: string): never {
    throw new SlabCorruptionError(`slab: damaged shared memory: ${what}`);
  }
}
