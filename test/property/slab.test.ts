/**
 * Model-based property test of the slab pool (fast-check): random alloc/free/calloc sequences
 * against a model of live blocks. After every step: no two live blocks overlap, every block is
 * inside the data pages and aligned, usableSize covers the request, verify() passes. At the end
 * freeing everything leaves one free run (the whole data area allocatable at once).
 * On failure fast-check prints the seed and the shrunk command list; re-run with
 * SLAB_PROPERTY_SEED=<seed>.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { SlabPool } from '../../src/slab/pool.js';
import { L } from '../../src/slab/layout.js';
import type { SizeClassMode } from '../../src/slab/api.js';

interface Model {
  live: Map<number, { size: number; fill: number }>;
  failures: number;
}

interface Real {
  pool: SlabPool;
}

function checkAll(m: Model, r: Real): void {
  const blocks = [...m.live.entries()]
    .map(([off, b]) => [off, r.pool.usableSize(off), b.size] as const)
    .sort((a, b) => a[0] - b[0]);
  for (let i = 0; i < blocks.length; i++) {
    const [off, usable, size] = blocks[i];
    expect(off % 8).to.equal(0);
    expect(usable).to.be.at.least(size);
    if (size > r.pool.classes.maxSize) expect(off % L.PAGE_SIZE).to.equal(0);
    expect(off).to.be.at.least(r.pool.dataStart);
    expect(off + usable).to.be.at.most(r.pool.dataEnd);
    if (i > 0) expect(blocks[i - 1][0] + blocks[i - 1][1], 'overlap').to.be.at.most(off);
  }
  r.pool.verify();
}

class AllocCmd implements fc.Command<Model, Real> {
  constructor(
    readonly size: number,
    readonly zero: boolean,
  ) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    const off = this.zero ? r.pool.calloc(this.size) : r.pool.alloc(this.size);
    if (off === 0) {
      m.failures++;
    } else {
      expect(m.live.has(off)).to.equal(false);
      if (this.zero)
        expect(r.pool.u8.subarray(off, off + this.size).every((x) => x === 0)).to.equal(true);
      const fill = (off >>> 3) & 0xff;
      r.pool.u8.fill(fill, off, off + this.size); // pattern: proves no one else writes here
      m.live.set(off, { size: this.size, fill });
    }
    checkAll(m, r);
  }
  toString(): string {
    return `${this.zero ? 'calloc' : 'alloc'}(${this.size})`;
  }
}

class FreeCmd implements fc.Command<Model, Real> {
  constructor(readonly pick: number) {}
  check(m: Readonly<Model>): boolean {
    return m.live.size > 0;
  }
  run(m: Model, r: Real): void {
    const keys = [...m.live.keys()];
    const off = keys[this.pick % keys.length];
    const b = m.live.get(off)!;
    const bytes = r.pool.u8.subarray(off, off + b.size);
    expect(
      bytes.every((x) => x === b.fill),
      `pattern of block ${off}`,
    ).to.equal(true);
    r.pool.free(off);
    m.live.delete(off);
    expect(() => r.pool.free(off)).to.throw(); // a double free is refused
    checkAll(m, r);
  }
  toString(): string {
    return `free(#${this.pick})`;
  }
}

const sizeArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 4096 }) },
  { weight: 2, arbitrary: fc.integer({ min: 4097, max: 40000 }) },
  { weight: 1, arbitrary: fc.constantFrom(0, 1, 8, 2048, 2049, 3584, 3585, 4096, 4097) },
);

const commands = [
  sizeArb.map((s) => new AllocCmd(s, false)),
  sizeArb.map((s) => new AllocCmd(s, true)),
  fc.nat().map((n) => new FreeCmd(n)),
  fc.nat().map((n) => new FreeCmd(n)),
];

function property(mode: SizeClassMode, zoneBytes: number) {
  return fc.property(fc.commands(commands, { maxCommands: 300, size: 'max' }), (cmds) => {
    const sab = new SharedArrayBuffer(zoneBytes);
    const pool = SlabPool.create(
      sab,
      0,
      zoneBytes,
      { selfId: 1, isOwnerDead: () => false },
      { sizeClasses: mode, threadCache: true },
    );
    const model: Model = { live: new Map(), failures: 0 };
    fc.modelRun(() => ({ model, real: { pool } }), cmds);
    for (const off of [...model.live.keys()]) pool.free(off);
    pool.verify();
    pool.releaseThreadCache(); // the thread cache (on, the default) held some of them
    expect(pool.freeSpace()).to.equal(pool.pagesTotal * L.PAGE_SIZE);
    expect(pool.alloc(pool.pagesTotal * L.PAGE_SIZE)).to.equal(pool.dataStart);
  });
}

const seed =
  process.env.SLAB_PROPERTY_SEED === undefined ? undefined : Number(process.env.SLAB_PROPERTY_SEED);

describe('slab pool property: random alloc/free vs a model of live blocks', function () {
  this.timeout(120_000);
  for (const mode of ['pow2', 'fine'] as const) {
    // A small zone (about 60 pages) so that sequences reach "no memory" and page joins often.
    it(`${mode}: no overlap, in bounds, aligned, verify after every step, all freed = one free run`, () => {
      fc.assert(property(mode, 300 * 1024), { numRuns: 60, seed, verbose: 1 });
    });
  }
});
