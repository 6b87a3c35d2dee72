/**
 * Eviction under random load, safety only: in a small zone, every get returns either nothing
 * or a value that was set for that key (never another key's, never a torn one), stores say
 * FAILED only with a no-memory status, and the slab and dict invariants hold throughout.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { DictStatus } from '../../src/dict/status.js';
import { makeDict } from '../dict/util.js';

type Cmd =
  | {
      op: 'set' | 'add' | 'safeSet' | 'get' | 'delete' | 'push';
      k: number;
      size: number;
      ttl: number;
    }
  | { op: 'tick' };

const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      op: fc.constantFrom('set', 'add', 'safeSet', 'get', 'delete', 'push' as const),
      k: fc.integer({ min: 0, max: 300 }),
      size: fc.integer({ min: 0, max: 6000 }),
      ttl: fc.constantFrom(0, 0, 0, 5, 50),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ op: 'tick' as const }) },
);

describe('SharedDict eviction safety (fast-check)', function () {
  this.timeout(120_000);
  const variants = [
    ['pow2', false],
    ['fine', false],
    ['fine', true], // stores build their entries before the lock (src/dict/held-entry.ts)
  ] as const;
  for (const [sizeClasses, threadCache] of variants) {
    it(`gets only ever return a value stored for that key (${sizeClasses}${threadCache ? ', thread cache' : ''})`, () => {
      fc.assert(
        fc.property(fc.array(cmdArb, { minLength: 50, maxLength: 600 }), (cmds) => {
          const { dict, clock } = makeDict(192 * 1024, { sizeClasses, threadCache });
          const written = new Map<string, Set<string>>();
          let seq = 0;
          for (const c of cmds) {
            if (c.op === 'tick') {
              clock.advance(10);
              continue;
            }
            const key = `key${c.k}`;
            if (c.op === 'get') {
              const v = dict.get(key);
              if (v !== undefined)
                expect(
                  written.get(key)?.has(v as string),
                  `${key} -> ${String(v).slice(0, 30)}`,
                ).to.equal(true);
            } else if (c.op === 'delete') {
              dict.delete(key);
            } else if (c.op === 'push') {
              dict.rpush(`list${c.k % 7}`, 'e'.repeat(c.size % 500));
            } else {
              const v = `${key}#${seq++}#${'v'.repeat(c.size)}`;
              if (!written.has(key)) written.set(key, new Set());
              written.get(key)!.add(v);
              const r = dict[c.op](key, v, c.ttl);
              if (!r)
                expect([
                  DictStatus.NO_MEMORY,
                  DictStatus.NO_MEMORY_FORCIBLE,
                  DictStatus.EXISTS,
                ]).to.include(dict.lastStatus);
            }
          }
          dict.verify();
          for (const k of dict.keys(0)) dict.delete(k);
          dict.flushExpired();
          expect(dict.stats().bytesUsed).to.equal(0);
          dict.verify();
        }),
        { numRuns: 60 },
      );
    });
  }
});
