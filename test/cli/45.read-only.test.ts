/**
 * `shmzone stat`, `ls` and `metrics` never write to a zone (issue 16, item 2): on a dict zone
 * with a damaged header word they report the damage (exit code, a `damage` field in --json,
 * `shmzone_zone_damaged 1`) and leave the segment byte-for-byte as it was; `verify` checks
 * the dict's own structures too and names the damage.
 */
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { ZoneRegistry, sharedDict } from '../../src/index.js';
import { D_LRU_HEAD, D_MASK, D_STATS, E_NEXT } from '../../src/dict/layout.js';
import { inspectZone } from '../../src/zone/inspect.js';
import { uniqueNamespace } from '../helpers/shm.js';
import { shmzone, shmzoneJson } from './util.js';

function digest(file: string): string {
  return createHash('sha1').update(fs.readFileSync(file)).digest('hex');
}

/** A persistent dict zone with 300 entries, no process attached. */
async function persistedDict(ns: string): Promise<void> {
  const r = new ZoneRegistry({ namespace: ns, mode: 'standalone', persist: true });
  const d = sharedDict(r, 'd', '1m');
  await r.start();
  for (let i = 0; i < 300; i++) d.set(`key${i}`, `value${i}`);
  d.get('key1');
  r.stop();
}

/** Writes `value` at word `word` of the dict header (or relative to an entry, via `at`). */
function damage(ns: string, at: (u32: Uint32Array, hw: number) => number, value: number): void {
  const z = inspectZone(ns, 'd');
  const u32 = z.pool.u32;
  u32[at(u32, z.root / 4)] = value;
}

describe('cli: read-only commands on a damaged dict zone', () => {
  const cases: Array<[string, (u32: Uint32Array, hw: number) => number, number, boolean]> = [
    ['D_STATS', (_u, hw) => hw + D_STATS, 3, true],
    ['D_MASK', (_u, hw) => hw + D_MASK, 0xffffffff, true],
    // Deep damage: stat's O(1) header check passes, verify finds it.
    ['an LRU link', (u, hw) => u[hw + D_LRU_HEAD] * 2 + E_NEXT, 0x00ffffff, false],
  ];
  for (const [what, at, value, statSees] of cases) {
    it(`${what}: stat/ls/metrics leave the segment unchanged and report; verify names it`, async () => {
      const ns = uniqueNamespace('ro');
      const file = `/dev/shm/shmzone.${ns}.d`;
      try {
        await persistedDict(ns);
        const healthy = shmzoneJson<{ dict: { entries: number } }>('stat', `${ns}.d`);
        expect(healthy.code).to.equal(0);
        expect(healthy.json.dict.entries).to.equal(300);
        damage(ns, at, value);
        const before = digest(file);

        const stat = shmzoneJson<{ damage?: { code: string; message: string } }>('stat', `${ns}.d`);
        const text = shmzone('stat', `${ns}.d`);
        const ls = shmzoneJson<unknown[]>('ls', '-n', ns);
        const metrics = shmzone('metrics', `${ns}.d`);
        expect(digest(file), 'stat/ls/metrics wrote to the zone').to.equal(before);

        expect(ls.code).to.equal(0);
        expect(metrics.code, metrics.stderr).to.equal(0);
        if (statSees) {
          expect(stat.code).to.equal(1);
          expect(stat.json.damage?.code).to.equal('ERR_DICT_CORRUPT');
          expect(text.code).to.equal(1);
          expect(text.stdout).to.include('DAMAGED: ERR_DICT_CORRUPT');
          expect(metrics.stdout).to.match(/^shmzone_zone_damaged\{[^}]*\} 1$/m);
        } else {
          expect(stat.code).to.equal(0);
          expect(metrics.stdout).to.match(/^shmzone_zone_damaged\{[^}]*\} 0$/m);
        }
        const verify = shmzoneJson<{ ok: boolean; error?: { code: string } }>('verify', `${ns}.d`);
        expect(verify.code).to.equal(1);
        expect(verify.json.ok).to.equal(false);
        expect(verify.json.error?.code).to.equal('ERR_DICT_CORRUPT');
      } finally {
        fs.rmSync(file, { force: true });
      }
    });
  }

  it('verify of a healthy dict zone reports the dict it checked', async () => {
    const ns = uniqueNamespace('ro');
    try {
      await persistedDict(ns);
      const v = shmzoneJson<{ ok: boolean; dict: { state: string; entries: number } }>(
        'verify',
        `${ns}.d`,
      );
      expect(v.code).to.equal(0);
      expect(v.json.dict).to.include({ state: 'ok', entries: 300 });
    } finally {
      fs.rmSync(`/dev/shm/shmzone.${ns}.d`, { force: true });
    }
  });
});
