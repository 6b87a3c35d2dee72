/**
 * Standalone / PM2 (no primary): racing starts, a creator killed before ready, persistence
 * across a full restart, last one out.
 */
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { native } from '../../src/native.js';
import { HEADER_SIZE, H_CREATOR_PID, PeerState, ZoneState } from '../../src/zone/layout.js';
import { joinZone, readZoneHeader } from '../../src/zone/open.js';
import { openSegment } from '../../src/zone/segment.js';
import { uniqueNamespace } from '../helpers/shm.js';
import {
  killAllFixtures,
  spawnFixture,
  runFixture,
  type FixtureProcess,
  stillRunning,
} from '../helpers/processes.js';
import { removeSegment, segmentExists } from './segments.js';

const cfg = (o: object): string[] => [JSON.stringify({ mode: 'standalone', ...o })];

async function finish(p: FixtureProcess): Promise<void> {
  p.child.stdin!.end();
  const timer = setTimeout(() => p.child.kill('SIGKILL'), 10_000);
  await p.exited;
  clearTimeout(timer);
}

describe('zone standalone (PM2, independent services)', () => {
  let ns: string;
  let segment: string;
  beforeEach(() => {
    ns = uniqueNamespace('sa');
    segment = `/shmzone.${ns}.z`;
  });
  afterEach(async () => {
    await killAllFixtures();
    removeSegment(segment);
  });

  it('two processes racing to start: one creates, the other attaches; the last one out removes it', async () => {
    const a = spawnFixture('zone-proc', cfg({ ns, action: 'hold' }));
    const b = spawnFixture('zone-proc', cfg({ ns, action: 'hold' }));
    const [ra, rb] = await Promise.all([a.waitFor('ready'), b.waitFor('ready')]);
    expect([ra.created, rb.created].sort()).to.deep.equal([false, true]);
    expect([ra.counter, rb.counter].sort()).to.deep.equal([1, 2]);
    await finish(a);
    expect(segmentExists(segment)).to.equal(true); // b still uses it
    await finish(b);
    expect(segmentExists(segment)).to.equal(false);
  });

  it('a creator SIGKILLed before ready is taken over by a waiting process', async () => {
    const a = spawnFixture('zone-proc', cfg({ ns, action: 'hold', hangInit: true }));
    await a.waitFor('in-init');
    const b = spawnFixture('zone-proc', cfg({ ns, action: 'hold' }));
    await new Promise((r) => setTimeout(r, 200)); // b is now waiting for ready
    expect(b.lines.find((l) => l.event === 'ready')).to.equal(undefined);
    a.child.kill('SIGKILL');
    await a.exited;
    const rb = await b.waitFor('ready', 10_000);
    expect(rb).to.include({ created: true, reused: false, counter: 1 });
    await finish(b);
    expect(segmentExists(segment)).to.equal(false);
  });

  it('a creator SIGKILLed before ready is taken over by a process started later', async () => {
    const a = spawnFixture('zone-proc', cfg({ ns, action: 'hold', hangInit: true }));
    await a.waitFor('in-init');
    a.child.kill('SIGKILL');
    await a.exited;
    expect(segmentExists(segment)).to.equal(true); // SIGKILL: no clean-up possible
    const r = await runFixture('zone-proc', cfg({ ns, action: 'incr' }));
    expect(r.lines.find((l) => l.event === 'ready')).to.include({ created: true, counter: 1 });
    expect(segmentExists(segment)).to.equal(false);
  });

  it('an attacher waiting on a hung creator times out with ERR_ZONE_TIMEOUT', async () => {
    const a = spawnFixture('zone-proc', cfg({ ns, action: 'hold', hangInit: true }));
    try {
      await a.waitFor('in-init');
      const r = await runFixture('zone-proc', cfg({ ns, action: 'report', readyTimeoutMs: 300 }));
      expect(r.code).to.equal(3);
      expect(r.lines[0]).to.include({ event: 'error', code: 'ERR_ZONE_TIMEOUT' });
    } finally {
      a.child.kill('SIGKILL');
      await a.exited;
    }
  });

  it('persist: the zone outlives a full restart and keeps its contents (init sees reused)', async () => {
    const first = await runFixture('zone-proc', cfg({ ns, action: 'incr', persist: true }));
    expect(first.lines.find((l) => l.event === 'ready')).to.include({
      created: true,
      reused: false,
      counter: 1,
    });
    expect(segmentExists(segment)).to.equal(true);
    const second = await runFixture('zone-proc', cfg({ ns, action: 'incr', persist: true }));
    expect(second.lines.find((l) => l.event === 'ready')).to.include({
      created: false,
      reused: true,
      counter: 2,
    });
    // Another size: refused clearly, or re-created when asked.
    const bigger = await runFixture(
      'zone-proc',
      cfg({ ns, action: 'incr', persist: true, size: '128k' }),
    );
    expect(bigger.lines[0]).to.include({ event: 'error', code: 'ERR_ZONE_MISMATCH' });
    const recreated = await runFixture(
      'zone-proc',
      cfg({ ns, action: 'incr', persist: true, size: '128k', onMismatch: 'recreate' }),
    );
    expect(recreated.lines.find((l) => l.event === 'ready')).to.include({
      created: true,
      counter: 1,
    });
  });

  it('without persist, a zone left by processes that all died is replaced, not reused', async () => {
    const a = spawnFixture('zone-proc', cfg({ ns, action: 'hold' }));
    await a.waitFor('ready');
    a.child.kill('SIGKILL');
    await a.exited;
    expect(segmentExists(segment)).to.equal(true);
    const r = await runFixture('zone-proc', cfg({ ns, action: 'incr' }));
    expect(r.lines.find((l) => l.event === 'ready')).to.include({ created: true, counter: 1 });
    expect(segmentExists(segment)).to.equal(false);
  });

  it('a starter still deciding (its slot Joining) is no user: the stale zone is replaced under it', async () => {
    // What one of two racing starters sees of the other: a claimed slot, alive, not yet joined.
    const a = spawnFixture('zone-proc', cfg({ ns, action: 'hold' }));
    await a.waitFor('ready');
    a.child.kill('SIGKILL');
    await a.exited;
    const stale = openSegment(segment, 0o600, HEADER_SIZE).buffer;
    const read = readZoneHeader(stale, ns, 'z');
    if (read.kind !== 'valid') throw new Error(`expected a valid header, got ${read.kind}`);
    const deciding = joinZone(stale, read.header, segment, undefined, PeerState.Joining);
    try {
      const r = await runFixture('zone-proc', cfg({ ns, action: 'incr' }));
      expect(r.lines.find((l) => l.event === 'ready')).to.include({ created: true, counter: 1 });
      expect(deciding.header.state, 'the stale zone was marked for removal').to.equal(
        ZoneState.Closing,
      );
    } finally {
      deciding.peers.release();
    }
  });

  it('a whole process group SIGKILLed at once (kill -9 -pgid), then two racing starts: one fresh zone', async () => {
    // Three holders in one process group of their own, as a container's or a service's are.
    const fixture = new URL('../fixtures/zone-proc.js', import.meta.url).pathname;
    const group = spawn(
      'sh',
      // A background job's stdin would be /dev/null (and `hold` leaves at its end): keep ours.
      ['-c', 'exec 3<&0; for i in 1 2 3; do "$NODE" "$FIXTURE" "$ARGS" <&3 & done; wait'],
      {
        detached: true,
        stdio: ['pipe', 'pipe', 'inherit'],
        env: {
          ...process.env,
          NODE: process.execPath,
          FIXTURE: fixture,
          ARGS: cfg({ ns, action: 'hold' })[0],
        },
      },
    );
    let out = '';
    group.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const t0 = Date.now();
    while ((out.match(/"event":"ready"/g) ?? []).length < 3) {
      expect(Date.now() - t0, out).to.be.below(20_000);
      await new Promise((r) => setTimeout(r, 20));
    }
    const counters = [...out.matchAll(/"counter":(\d+)/g)].map((m) => Number(m[1]));
    expect(Math.max(...counters), 'the three shared one zone').to.equal(3);
    const pids = [...out.matchAll(/"pid":(\d+),"event":"ready"/g)].map((m) => Number(m[1]));
    process.kill(-group.pid!, 'SIGKILL');
    // The shell's exit comes first; wait until every holder is dead too (gone or a zombie).
    while (pids.some(stillRunning)) await new Promise((r) => setTimeout(r, 10));
    expect(segmentExists(segment), 'left behind by the killed group').to.equal(true);
    // Two new processes start at the same moment: one replaces the stale segment, the other
    // joins the new zone (or replaces it first and is joined): never the old contents.
    const a = spawnFixture('zone-proc', cfg({ ns, action: 'hold' }));
    const b = spawnFixture('zone-proc', cfg({ ns, action: 'hold' }));
    const [ra, rb] = await Promise.all([a.waitFor('ready'), b.waitFor('ready')]);
    expect([ra.counter, rb.counter].sort(), 'a fresh zone, shared by both').to.deep.equal([1, 2]);
    expect([ra.created, rb.created].sort()).to.deep.equal([false, true]);
    await finish(a);
    await finish(b);
    expect(segmentExists(segment), 'the last one out removed it').to.equal(false);
  });

  it('a segment whose creator died before its header: removed by one of two racing starters', async () => {
    // What a creator SIGKILLed between ftruncate and its header leaves: zeros and its pid.
    const gone = spawnSync(process.execPath, ['-e', '0']).pid!; // a pid that is now dead
    const blank = native.createSegment(segment, 64 * 1024, 0o600);
    new Uint32Array(blank.buffer)[H_CREATOR_PID] = gone;
    const a = spawnFixture('zone-proc', cfg({ ns, action: 'hold' }));
    const b = spawnFixture('zone-proc', cfg({ ns, action: 'hold' }));
    const [ra, rb] = await Promise.all([a.waitFor('ready'), b.waitFor('ready')]);
    expect([ra.counter, rb.counter].sort(), 'one fresh zone, shared').to.deep.equal([1, 2]);
    expect(new Uint32Array(blank.buffer)[H_CREATOR_PID], 'claimed once, then unlinked').to.equal(
      0xffffffff,
    );
    await finish(a);
    await finish(b);
  });

  it('a blank segment whose creator is alive is waited for, never removed', async () => {
    const blank = native.createSegment(segment, 64 * 1024, 0o600);
    new Uint32Array(blank.buffer)[H_CREATOR_PID] = process.pid; // alive: this test process
    const r = await runFixture('zone-proc', cfg({ ns, action: 'incr', readyTimeoutMs: 300 }));
    expect(r.lines.find((l) => l.event === 'error')).to.include({ code: 'ERR_ZONE_TIMEOUT' });
    expect(segmentExists(segment)).to.equal(true);
    expect(new Uint32Array(blank.buffer)[H_CREATOR_PID]).to.equal(process.pid);
  });

  it('owner mode replaces a stale segment of a dead owner and refuses a live one (ERR_ZONE_IN_USE)', async () => {
    const a = spawnFixture('zone-proc', [JSON.stringify({ ns, mode: 'owner', action: 'hold' })]);
    await a.waitFor('ready');
    const live = await runFixture('zone-proc', [
      JSON.stringify({ ns, mode: 'owner', action: 'report' }),
    ]);
    expect(live.lines[0]).to.include({ event: 'error', code: 'ERR_ZONE_IN_USE' });
    a.child.kill('SIGKILL');
    await a.exited;
    const again = await runFixture('zone-proc', [
      JSON.stringify({ ns, mode: 'owner', action: 'incr' }),
    ]);
    expect(again.lines.find((l) => l.event === 'ready')).to.include({ created: true, counter: 1 });
    expect(segmentExists(segment)).to.equal(false);
  });
});
