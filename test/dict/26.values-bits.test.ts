/**
 * Binary values come back bit for bit. `bytesOut` copies them as Float64 words, so every
 * 8-byte pattern that is a NaN (signalling, quiet, either sign, any payload, V8's hole NaN)
 * must survive the copy, in interpreted and in optimised code alike.
 */
import { expect } from 'chai';
import { makeDict, type TestDict } from './util.js';

/** 8-byte little-endian words (as [lo, hi] u32 pairs) that are NaNs or otherwise special. */
const SPECIAL: [number, number][] = [
  [0x00000001, 0x7ff00000], // signalling NaN, smallest payload
  [0xffffffff, 0x7ff7ffff], // signalling NaN, largest payload
  [0x00000000, 0x7ff80000], // the canonical quiet NaN
  [0x00000001, 0x7ff80000], // quiet NaN with a payload
  [0x00000001, 0xfff00000], // negative signalling NaN
  [0xffffffff, 0xffffffff], // all ones (a negative quiet NaN)
  [0xfff7ffff, 0xfff7ffff], // V8's hole NaN
  [0x00000000, 0x7ff00000], // +Infinity
  [0x00000000, 0x80000000], // -0
  [0x00000001, 0x00000000], // smallest denormal
];

function valueOf(len: number, seed: number): Buffer {
  const b = Buffer.alloc(len);
  for (let i = 0; i < len; i++) b[i] = (i * 131 + seed * 17) & 0xff;
  // Put special words at every 8-aligned position the copy handles as one word.
  for (let w = 0; (w + 1) * 8 <= len; w++) {
    const [lo, hi] = SPECIAL[(w + seed) % SPECIAL.length];
    b.writeUInt32LE(lo, w * 8);
    b.writeUInt32LE(hi, w * 8 + 4);
  }
  return b;
}

for (const reads of ['seqlock', 'locked'] as const) {
  describe(`SharedDict binary values bit for bit (reads: ${reads})`, () => {
    let t: TestDict;
    beforeEach(() => {
      t = makeDict(4 * 1024 * 1024, { reads });
    });
    afterEach(() => t.dict.verify());

    it('every NaN pattern and every length up to the pool limit, cold and hot', () => {
      const { dict } = t;
      const values: Buffer[] = [];
      for (let len = 0; len <= 1100; len += len < 40 ? 1 : 37) {
        const v = valueOf(len, len);
        values.push(v);
        dict.set(`v${len}`, v);
      }
      // The first pass runs cold (interpreter / baseline); the loop makes the copy hot
      // enough for TurboFan, and the last pass checks the optimised code's results.
      for (let pass = 0; pass < 400; pass++) {
        const check = pass === 0 || pass === 399;
        for (const v of values) {
          const got = dict.get(`v${v.length}`) as Buffer;
          if (check) {
            expect(Buffer.isBuffer(got)).to.equal(true);
            expect(got.length).to.equal(v.length);
            expect(got.equals(v), `length ${v.length}, pass ${pass}`).to.equal(true);
          }
        }
      }
    });
  });
}
