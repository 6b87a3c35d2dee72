/**
 * Cluster (issue 5, docs/specs/reliability.md anchor test 1 with nginx's timing): a cluster primary
 * SIGKILLs a dict worker at the moment that worker holds the pool lock (mid-operation), and
 * respawns it. Kills 1-3 happen while that worker is the only one, so the primary's reap
 * hook (recoverProcess) is the only possible recoverer: it must log exactly one line per
 * recovered lock. Later kills run with two workers: exactly one party (primary or the
 * surviving worker) recovers each lock, and the logs of both add up to the recoveries.
 * Respawned workers attach and continue; at the end verify() passes, every value is complete,
 * counters are exact, no lock is held, no pool was reset, and no segment is left.
 */
import { expect } from 'chai';
import { uniqueNamespace, segmentsWithPrefix } from '../helpers/shm.js';
import { killAllFixtures, runFixture } from '../helpers/processes.js';
import { LONG } from './util.js';

describe('crash: cluster worker SIGKILLed holding the lock', function () {
  this.timeout(LONG ? 600_000 : 120_000);
  afterEach(killAllFixtures);

  it('the primary recovers it (one log line), a respawned worker continues, verify() passes', async () => {
    const ns = uniqueNamespace('ccl');
    const kills = LONG ? 100 : 12;
    const t0 = Date.now();
    const r = await runFixture('crash-cluster', [ns, String(kills)], {
      timeoutMs: LONG ? 550_000 : 100_000,
    });
    expect(r.code, r.stderr + JSON.stringify(r.lines)).to.equal(0);
    const res = r.lines.find((l) => l.event === 'result') as {
      records: Array<{
        phase: number;
        recoveries: number;
        primaryLogs: number;
        counterOk: boolean;
      }>;
      logs: string[];
      workerLogs: string[];
      workerLogCount: number;
      verified: boolean;
      badValues: string[];
      counters: Array<{ value: number; committed: number }>;
      lockOwner: number;
      recoveries: number;
      generation: number;
      zoneGeneration: number;
      livePeers: number;
    };
    expect(res, JSON.stringify(r.lines)).to.not.equal(undefined);
    const recovered = res.records.filter((x) => x.recoveries === 1).length;
    console.log(
      `      cluster: ${res.records.length} kills in ${Date.now() - t0} ms, ${recovered} locks recovered ` +
        `(${res.recoveries} in all: ${res.logs.length} by the primary, ${res.workerLogCount} by a surviving worker)`,
    );
    // The fixture kills on (up to 4x) until half the asked-for kills hit the critical section.
    expect(res.records.length).to.be.within(kills, kills * 4);
    for (const [i, x] of res.records.entries()) {
      expect(x.recoveries, `kill ${i + 1}: at most one recovery`).to.be.within(0, 1);
      expect(
        x.counterOk,
        `kill ${i + 1}: counter within [committed, committed + in flight]`,
      ).to.equal(true);
      if (x.phase === 1)
        expect(
          x.primaryLogs,
          `kill ${i + 1} (one worker): primary logged iff it recovered`,
        ).to.equal(x.recoveries);
    }
    const phase1 = res.records.filter((x) => x.phase === 1);
    expect(
      phase1.filter((x) => x.recoveries === 1).length,
      'the primary recovered locks of dead workers',
    ).to.be.greaterThan(0);
    for (const line of res.logs)
      expect(line).to.match(/zone "d": recovered the lock held by dead pid \d+ \(owner \d+\)/);
    // Compared with the pool's own count over the whole run, not with the per-kill records: a
    // surviving worker descheduled in the middle of its takeover can count it after the kill's
    // window has closed (seen once, under load, on Node 22); it is then logged but in no record.
    expect(
      res.logs.length + res.workerLogs.length,
      'every recovery logged exactly once: ' +
        JSON.stringify([res.records, res.logs, res.workerLogs]),
    ).to.equal(res.recoveries);
    expect(res.recoveries, 'no recovery without a kill').to.be.within(
      recovered,
      res.records.length,
    );
    expect(
      recovered,
      'at least half the asked-for kills hit inside the critical section',
    ).to.be.at.least(Math.ceil(kills / 2));
    expect(res.verified).to.equal(true);
    expect(res.badValues).to.deep.equal([]);
    for (const c of res.counters) expect(c.value).to.equal(c.committed);
    expect(res.lockOwner).to.equal(0);
    expect(res.generation, 'no recovery had to reset the pool').to.equal(0);
    expect(res.zoneGeneration, 'zone generation never bumped').to.equal(1);
    expect(res.livePeers, 'only the primary is left registered').to.equal(1);
    expect(segmentsWithPrefix(ns)).to.deep.equal([]);
  });
});
