/**
 * Standalone / PM2 (no primary): racing starts, a creator killed before ready, persistence
 * across a full restart, last one out.
 */
import { expect } from 'chai';
import { uniqueNamespace } from '../helpers/shm.js';
import {
  killAllFixtures,
  spawnFixture,
  runFixture,
  type FixtureProcess,
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
