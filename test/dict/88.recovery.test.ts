/**
 * In-process recovery: a "thread" (owner id 1) dies inside a dict write, holding the lock with
 * journaled changes made and its stripe odd; another (owner id 2) takes the lock over. The
 * dict must come back consistent with the old value, and the seqlock words must have moved
 * forward to even values. (Multi-process SIGKILL torture lives in test/crash/.)
 */
import { expect } from 'chai';
import { SlabPool } from '../../src/slab/pool.js';
import { SharedDict } from '../../src/dict/dict.js';
import type { DictHost } from '../../src/dict/pool.js';
import { D_SEQ, LINE_WORDS, SEQ_STRIPES } from '../../src/dict/layout.js';
import { KeyScratch } from '../../src/dict/hash.js';
import { seqEnter, stripeWord } from '../../src/dict/seqlock.js';
import { repointSlot } from '../helpers/dict-index.js';

describe('SharedDict after a writer died holding the lock', () => {
  it('rolls back the half-done write, bumps every seqlock word, and keeps working', () => {
    const size = 1024 * 1024;
    const sab = new SharedArrayBuffer(size);
    let dead = false;
    const p1 = SlabPool.create(sab, 0, size, { selfId: 1, isOwnerDead: () => false });
    const host1: DictHost = { pool: p1, root: 0 };
    const d1 = new SharedDict('r', {}, host1);
    d1.set('k', 'old');
    d1.set('other', 1);
    const hw = host1.root / 4;
    const seqW = p1.u32[hw + D_SEQ] * 2;
    const before = Array.from({ length: SEQ_STRIPES + 1 }, (_, s) => p1.i32[seqW + s * LINE_WORDS]);

    // Thread 1 starts a write and dies: stripe odd, the key's slot pointed at garbage.
    const ks = new KeyScratch();
    ks.load('k');
    p1.lock();
    seqEnter(p1.i32, stripeWord(seqW, ks.hash));
    repointSlot(p1, hw, ks.hash, 12345);
    dead = true;

    const p2 = SlabPool.open(sab, 0, { selfId: 2, isOwnerDead: (id) => dead && id === 1 });
    const d2 = new SharedDict('r', {}, { pool: p2, root: host1.root });
    // Attaching took the lock over: rolled back, seqlocks bumped.
    expect(d2.get('k')).to.equal('old');
    expect(d2.get('other')).to.equal(1);
    const after = Array.from({ length: SEQ_STRIPES + 1 }, (_, s) => p2.i32[seqW + s * LINE_WORDS]);
    after.forEach((v, s) => {
      expect(v & 1, `stripe ${s}`).to.equal(0);
      expect(v, `stripe ${s}`).to.be.above(before[s]);
    });
    expect(d2.set('k', 'new')).to.equal(1);
    expect(d2.get('k')).to.equal('new');
    d2.verify();
  });
});
