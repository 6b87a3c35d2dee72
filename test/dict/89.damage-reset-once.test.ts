/**
 * One layer decides about a reset: when the slab pool itself finds damage under a dict call
 * (its own structures: SlabCorruptionError, pool already re-initialised), the dict must not
 * reset it a second time (src/dict/damage.ts, afterLockedError). One reset means one
 * generation step and one recovery report; the next call rebuilds the dict and works.
 */
import { expect } from 'chai';
import type { RecoveryReport } from '../../src/slab/api.js';
import { L } from '../../src/slab/layout.js';
import { STORED } from '../../src/dict/status.js';
import { makeDict, thrown } from './util.js';

describe('dict over a damaged pool: one reset', () => {
  it('slab damage met by set: ERR_DICT_CORRUPT, the generation moves by exactly one', () => {
    const t = makeDict();
    const { dict, pool } = t;
    dict.set('before', 'x');
    const reports: RecoveryReport[] = [];
    pool.onRecovery((r) => reports.push(r));
    const generation = pool.generation;

    // Every size class's list head links out of the zone: the dict's next allocation follows one.
    for (const c of new Set(pool.classes.byEighth)) {
      pool.u32[pool.descWord + (c + 1) * L.DESC_WORDS + L.D_NEXT] = 0x0fffffff;
    }
    const err = thrown(() => dict.set('after', 'y'.repeat(100)));
    expect(err.code).to.equal('ERR_DICT_CORRUPT');
    expect(err.cause).to.have.property('code', 'ERR_SLAB_CORRUPT');
    expect(pool.generation, 'reset once').to.equal(generation + 1);
    expect(reports, 'one recovery report').to.have.length(1);
    expect(reports[0]).to.include({ deadOwnerId: 0, reset: true });

    // The next call finds an empty, working pool and rebuilds the dict on it.
    expect(dict.set('again', 'z')).to.equal(STORED);
    expect(dict.get('again')).to.equal('z');
    expect(dict.get('before')).to.equal(undefined);
    expect(pool.generation).to.equal(generation + 1);
  });

  it('damage only the dict sees (its own words): the dict resets, once', () => {
    const t = makeDict();
    const { dict, pool, host } = t;
    dict.set('a', '1');
    const reports: RecoveryReport[] = [];
    pool.onRecovery((r) => reports.push(r));
    const generation = pool.generation;
    // The dict header's LRU tail names an entry outside the zone.
    const hw = host.root / 4;
    for (let w = 0; w < 32; w++) pool.u32[hw + w] = 0xfffffff0;
    const err = thrown(() => dict.set('b', '2'));
    expect(err.code).to.equal('ERR_DICT_CORRUPT');
    expect(pool.generation).to.equal(generation + 1);
    expect(reports).to.have.length(1);
  });
});
