import { expect } from 'chai';
import {
  buildSizeClasses,
  K_MAGIC,
  K_SHIFT,
  K_STRIDE,
  MAX_SPAN,
} from '../../src/slab/sizeclass.js';
import { L } from '../../src/slab/layout.js';

describe('slab size classes', () => {
  it('pow2 matches nginx: 8..2048 B, one page per slab, in-page bitmaps for small chunks', () => {
    const t = buildSizeClasses('pow2');
    expect(Array.from(t.size)).to.deep.equal([8, 16, 32, 64, 128, 256, 512, 1024, 2048]);
    expect(Array.from(t.span)).to.deep.equal([1, 1, 1, 1, 1, 1, 1, 1, 1]);
    // nginx (64-bit): 504, 254, 127, 64(exact), 32, 16, 8, 4, 2. Our map word is 32 bits, so
    // 64 B keeps its bitmap in the page and loses one chunk.
    expect(Array.from(t.count)).to.deep.equal([504, 254, 127, 63, 32, 16, 8, 4, 2]);
    expect(Array.from(t.dataOffset)).to.deep.equal([64, 32, 32, 64, 0, 0, 0, 0, 0]);
  });

  it('fine: quarter steps to 512 B, page divisors to 2 KiB, multi-page slabs only above', () => {
    const t = buildSizeClasses('fine');
    expect(Array.from(t.size)).to.deep.equal([
      ...[8, 16, 24, 32, 40, 48, 56, 64],
      ...[80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512],
      ...[584, 680, 816, 1024, 1360, 2048],
      ...[2560, 3072, 3584],
    ]);
    expect(t.maxSize).to.equal(3584);
    for (let c = 0; c < t.n; c++) {
      const size = t.size[c];
      expect(size % 8).to.equal(0);
      expect(t.span[c]).to.be.within(1, MAX_SPAN);
      const bytes = t.span[c] * L.PAGE_SIZE;
      const waste = 1 - (t.count[c] * size) / bytes;
      expect(t.dataOffset[c] + t.count[c] * size).to.be.at.most(bytes);
      if (size <= L.PAGE_SIZE / 2) {
        // One page per slab: free() reads one descriptor. The rounding stays small.
        expect(t.span[c], `class ${size}`).to.equal(1);
        expect(waste, `class ${size}`).to.be.at.most(0.0625);
      } else {
        expect(t.span[c], `class ${size}`).to.be.above(1);
        expect(waste, `class ${size}`).to.be.at.most(0.021);
      }
      if (size >= 512 && size <= L.PAGE_SIZE / 2) {
        // A page divisor: 8 bytes more would fit one chunk fewer in the page.
        expect(Math.floor(L.PAGE_SIZE / (size + 8)), `class ${size}`).to.be.below(t.count[c]);
      }
      if (t.bitmapWords[c] === 0) expect(t.count[c]).to.be.at.most(32);
      else expect(t.bitmapWords[c]).to.equal(Math.ceil(t.count[c] / 32));
    }
  });

  it('the reciprocal multiply gives floor(rel / size) for every offset of every slab span', () => {
    for (const mode of ['pow2', 'fine'] as const) {
      const t = buildSizeClasses(mode);
      for (let c = 0; c < t.n; c++) {
        const magic = t.packed[c * K_STRIDE + K_MAGIC];
        const shift = t.packed[c * K_STRIDE + K_SHIFT];
        const size = t.size[c];
        let bad = -1;
        // As chunks.ts computes it (plain `*`, in locate's fast path): exact only while the
        // product stays an int32, so that is checked too.
        for (let rel = 0; rel < MAX_SPAN * L.PAGE_SIZE && bad < 0; rel++) {
          const product = rel * magic;
          if (product >= 2 ** 31 || product >>> shift !== Math.floor(rel / size)) bad = rel;
        }
        expect(bad, `${mode} ${size} B`).to.equal(-1);
      }
    }
  });

  it('maps every request size to the smallest class that holds it', () => {
    for (const mode of ['pow2', 'fine'] as const) {
      const t = buildSizeClasses(mode);
      for (let size = 0; size <= t.maxSize; size++) {
        const c = t.byEighth[(size + 7) >>> 3];
        expect(t.size[c]).to.be.at.least(Math.max(size, 1));
        if (c > 0) expect(t.size[c - 1]).to.be.below(size);
      }
    }
  });
});
