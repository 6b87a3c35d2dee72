import { expect } from 'chai';
import {
  buildSizeClasses,
  K_MAGIC,
  K_SHIFT,
  K_STRIDE,
  MAX_SPAN,
} from '../../src/slab/sizeclass.js';
import { PAGE_SIZE } from '../../src/slab/layout.js';

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

  it('fine has four classes per doubling and wastes at most 2% per slab', () => {
    const t = buildSizeClasses('fine');
    expect(t.maxSize).to.equal(3584);
    for (let c = 0; c < t.n; c++) {
      expect(t.size[c] % 8).to.equal(0);
      expect(t.span[c]).to.be.within(1, MAX_SPAN);
      const bytes = t.span[c] * PAGE_SIZE;
      expect(t.dataOffset[c] + t.count[c] * t.size[c]).to.be.at.most(bytes);
      expect(1 - (t.count[c] * t.size[c]) / bytes, `class ${t.size[c]}`).to.be.at.most(0.021);
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
        for (let rel = 0; rel < MAX_SPAN * PAGE_SIZE && bad < 0; rel++) {
          if (Math.imul(rel, magic) >>> shift !== Math.floor(rel / size)) bad = rel;
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
