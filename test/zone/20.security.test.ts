/**
 * Planted and damaged segments (docs/specs/reliability.md 7.2, tests 8 and 10): a segment with the right
 * name but a looser mode, another owner, wrong magic or version, or truncated, is refused with
 * its code by both the owner (EEXIST path) and an attacher, and is left exactly as it was.
 */
import { expect } from 'chai';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { ZoneError, ZoneRegistry, type ZoneMode } from '../../src/index.js';
import { native } from '../../src/native.js';
import { uniqueNamespace } from '../helpers/shm.js';
import { removeSegment } from './segments.js';

const isRoot = process.geteuid?.() === 0;

function digest(segment: string): string {
  const file = `/dev/shm/${segment.slice(1)}`;
  const st = fs.statSync(file);
  return `${st.mode}:${st.uid}:${st.size}:${crypto.createHash('sha1').update(fs.readFileSync(file)).digest('hex')}`;
}

async function startCode(
  namespace: string,
  mode: ZoneMode,
  extra: { tag?: string; onMismatch?: 'error' | 'recreate' } = {},
): Promise<string | undefined> {
  const r = new ZoneRegistry({
    namespace,
    mode,
    readyTimeoutMs: 500,
    onMismatch: extra.onMismatch ?? 'error',
  });
  r.add('z', '64k', { tag: extra.tag ?? 't' });
  try {
    await r.start();
  } catch (err) {
    return (err as { code?: string }).code;
  } finally {
    r.stop();
  }
  return undefined;
}

/** A real zone left in place (persist), to damage. */
async function persistedZone(namespace: string, tag = 't'): Promise<string> {
  const r = new ZoneRegistry({ namespace, mode: 'standalone', persist: true });
  const z = r.add('z', '64k', {
    tag,
    init: (zone, reused) => void (reused || (zone.root = zone.pool.calloc(8))),
  });
  await r.start();
  const segment = z.segmentName;
  r.stop();
  return segment;
}

describe('zone security: planted and damaged segments', () => {
  let ns: string;
  let segment: string;
  beforeEach(() => {
    ns = uniqueNamespace('sec');
    segment = `/shmzone.${ns}.z`;
  });
  afterEach(() => removeSegment(segment));

  const cases: Array<{
    what: string;
    code: string;
    root?: boolean;
    plant: () => Promise<void> | void;
  }> = [
    {
      what: 'mode 0o666',
      code: 'ERR_SEGMENT_MODE',
      plant: async () => {
        await persistedZone(ns);
        fs.chmodSync(`/dev/shm/${segment.slice(1)}`, 0o666);
      },
    },
    {
      what: 'another owner',
      code: 'ERR_SEGMENT_OWNER',
      root: true,
      plant: async () => {
        await persistedZone(ns);
        fs.chownSync(`/dev/shm/${segment.slice(1)}`, 65534, 65534);
      },
    },
    {
      what: 'wrong magic',
      code: 'ERR_ZONE_HEADER',
      plant: () => {
        const m = native.createSegment(segment, 65536, 0o600);
        new Uint32Array(m.buffer).fill(0xdeadbeef);
      },
    },
    {
      what: 'another layout version',
      code: 'ERR_ZONE_VERSION',
      plant: async () => {
        await persistedZone(ns);
        const m = native.openSegment(segment, 0o600, 512);
        new Uint32Array(m.buffer)[1] = 99;
      },
    },
    {
      what: 'a truncated zone',
      code: 'ERR_ZONE_HEADER',
      plant: async () => {
        await persistedZone(ns);
        fs.truncateSync(`/dev/shm/${segment.slice(1)}`, 20480);
      },
    },
    {
      what: 'a 100-byte file',
      code: 'ERR_ZONE_HEADER',
      plant: () =>
        fs.writeFileSync(`/dev/shm/${segment.slice(1)}`, Buffer.alloc(100, 7), { mode: 0o600 }),
    },
    {
      what: 'garbage offsets in a valid-looking header',
      code: 'ERR_ZONE_HEADER',
      plant: async () => {
        await persistedZone(ns);
        const m = native.openSegment(segment, 0o600, 512);
        new Uint32Array(m.buffer)[18] = 0xfffff000; // pool offset far outside
      },
    },
  ];

  for (const c of cases) {
    for (const mode of ['owner', 'attach', 'standalone'] as const) {
      it(`${mode}: refuses ${c.what} with ${c.code} and leaves it untouched`, async function () {
        if (c.root === true && !isRoot) this.skip();
        await c.plant();
        const before = digest(segment);
        expect(await startCode(ns, mode)).to.equal(c.code);
        expect(digest(segment)).to.equal(before);
      });
    }
  }

  it('refuses a zone with another tag (ERR_ZONE_MISMATCH), or re-creates it when asked', async () => {
    await persistedZone(ns, 'old');
    expect(await startCode(ns, 'attach', { tag: 'new' })).to.equal('ERR_ZONE_MISMATCH');
    expect(await startCode(ns, 'standalone', { tag: 'new' })).to.equal('ERR_ZONE_MISMATCH');
    // recreate: the stale persisted zone has no live users, so it is replaced.
    const r = new ZoneRegistry({
      namespace: ns,
      mode: 'standalone',
      onMismatch: 'recreate',
      persist: true,
    });
    let reused: boolean | undefined;
    r.add('z', '64k', { tag: 'new', init: (_z, u) => void (reused = u) });
    await r.start();
    expect(reused).to.equal(false);
    r.stop();
  });

  it('times out (ERR_ZONE_TIMEOUT) on an all-zero segment instead of hanging', async () => {
    native.createSegment(segment, 65536, 0o600);
    const t0 = Date.now();
    expect(await startCode(ns, 'attach')).to.equal('ERR_ZONE_TIMEOUT');
    expect(Date.now() - t0).to.be.below(3000);
  });
});

describe('zone header overwritten at run time (a stray write through zone.buffer)', () => {
  it('stop() still closes every zone and removes the owner segments, then throws ERR_ZONE_HEADER', async () => {
    const r = new ZoneRegistry({ namespace: uniqueNamespace('stray'), mode: 'owner' });
    const a = r.add('a', '64k');
    const b = r.add('b', '64k');
    await r.start();
    const segments = [a.segmentName, b.segmentName];
    for (const s of segments) expect(fs.existsSync(`/dev/shm/${s.slice(1)}`)).to.equal(true);
    // Everything in front of b's pool: its header, peer table and tokens. stop() closes in
    // reverse order of declaration, so b fails first and a must still be closed after it.
    new Uint8Array(b.buffer, 0, b.pool.byteOffset).fill(0xff);
    let thrown: unknown;
    try {
      r.stop();
    } catch (err) {
      thrown = err;
    }
    expect(thrown).to.be.instanceOf(ZoneError);
    expect(thrown).to.have.property('code', 'ERR_ZONE_HEADER');
    expect((thrown as Error).message).to.contain(b.segmentName);
    expect((thrown as Error).cause).to.be.instanceOf(Error);
    for (const s of segments) expect(fs.existsSync(`/dev/shm/${s.slice(1)}`), s).to.equal(false);
    expect(a.started).to.equal(false);
    expect(() => a.buffer)
      .to.throw()
      .with.property('code', 'ERR_ZONE_CLOSED');
    expect(() => r.stop()).to.not.throw(); // idempotent: nothing left to close
  });
});
