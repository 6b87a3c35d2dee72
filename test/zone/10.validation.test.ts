/** Names, sizes and registry declarations: every bad input gets its code and touches nothing. */
import { expect } from 'chai';
import { ZoneRegistry, parseSize, MAX_ZONE_SIZE, MIN_ZONE_SIZE } from '../../src/index.js';
import { uniqueNamespace } from '../helpers/shm.js';
import { shmListing } from './segments.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
}

describe('zone validation', () => {
  let before: string[];
  beforeEach(() => (before = shmListing()));
  afterEach(() => expect(shmListing()).to.deep.equal(before));

  describe('sizes', () => {
    it('parses bytes and k/m/g suffixes, case-insensitive, rounding up to pages', () => {
      expect(parseSize(32768)).to.equal(32768);
      expect(parseSize('512k')).to.equal(512 * 1024);
      expect(parseSize('64M')).to.equal(64 * 1024 * 1024);
      expect(parseSize('1g')).to.equal(1024 ** 3);
      expect(parseSize('4G')).to.equal(MAX_ZONE_SIZE);
      expect(parseSize(MIN_ZONE_SIZE + 1)).to.equal(MIN_ZONE_SIZE + 4096);
    });

    it("accepts the common spellings: '1MB', '1mb', '1 m', '1 MiB', '64 KiB', '40960B'", () => {
      for (const s of ['1MB', '1mb', '1 m', '1 MiB', '1mib', '1 Mb']) {
        expect(parseSize(s), s).to.equal(1024 * 1024);
      }
      expect(parseSize('64 KiB')).to.equal(64 * 1024);
      expect(parseSize('40960B')).to.equal(40960);
      expect(parseSize('2GB')).to.equal(2 * 1024 ** 3);
    });

    const bad: unknown[] = [
      0,
      -1,
      NaN,
      Infinity,
      -Infinity,
      1.5,
      '12q',
      '',
      'k',
      '1.5m',
      '1 ib',
      '1mbb',
      '1 m b',
      '1bk',
      '-1k',
      4096,
      MIN_ZONE_SIZE - 1,
      MAX_ZONE_SIZE + 1,
      '5g',
      null,
      {},
      10n,
    ];
    for (const value of bad) {
      it(`refuses ${typeof value === 'bigint' ? '10n' : (JSON.stringify(value) ?? String(value))} with ERR_ZONE_SIZE`, () => {
        expect(codeOf(() => parseSize(value, 'x'))).to.equal('ERR_ZONE_SIZE');
        const r = new ZoneRegistry({ namespace: uniqueNamespace('v') });
        // 0 is the reference-only size in add(); everything else is refused there too.
        if (value !== 0)
          expect(codeOf(() => r.add('x', value as number))).to.equal('ERR_ZONE_SIZE');
      });
    }

    it('names the zone in the message', () => {
      expect(() => parseSize(-1, 'cache')).to.throw(/zone "cache"/);
    });
  });

  describe('names', () => {
    const badNames: unknown[] = [
      '',
      'a'.repeat(65),
      'a/b',
      '/x',
      'a\0b',
      'a.b',
      'é',
      'a b',
      42,
      undefined,
    ];
    for (const name of badNames) {
      it(`refuses zone name ${JSON.stringify(name)} with ERR_ZONE_NAME`, () => {
        const r = new ZoneRegistry({ namespace: uniqueNamespace('v') });
        expect(codeOf(() => r.add(name as string, '64k'))).to.equal('ERR_ZONE_NAME');
      });
    }
    it('accepts 64 characters of [A-Za-z0-9_-]', () => {
      const r = new ZoneRegistry({ namespace: uniqueNamespace('v') });
      expect(r.add('A-z_9'.padEnd(64, 'x'), '64k').name).to.have.length(64);
    });
    it('refuses bad namespaces with ERR_ZONE_NAMESPACE', () => {
      expect(codeOf(() => new ZoneRegistry({ namespace: 'a.b' }))).to.equal('ERR_ZONE_NAMESPACE');
      expect(codeOf(() => new ZoneRegistry({ namespace: '' }))).to.equal('ERR_ZONE_NAMESPACE');
      expect(codeOf(() => new ZoneRegistry({ namespace: 'n'.repeat(65) }))).to.equal(
        'ERR_ZONE_NAMESPACE',
      );
    });
    it('refuses bad options with ERR_ZONE_OPTIONS', () => {
      expect(codeOf(() => new ZoneRegistry({ mode: 'boss' as 'owner' }))).to.equal(
        'ERR_ZONE_OPTIONS',
      );
      expect(codeOf(() => new ZoneRegistry({ segmentMode: 0o444 }))).to.equal('ERR_ZONE_OPTIONS');
      expect(codeOf(() => new ZoneRegistry({ readyTimeoutMs: -1 }))).to.equal('ERR_ZONE_OPTIONS');
      const r = new ZoneRegistry();
      expect(codeOf(() => r.add('x', '64k', { tag: 'x'.repeat(65) }))).to.equal('ERR_ZONE_OPTIONS');
      expect(codeOf(() => r.add('x', '64k', { init: 3 as unknown as () => void }))).to.equal(
        'ERR_ZONE_OPTIONS',
      );
    });
  });

  describe('declarations (ngx_shared_memory_add)', () => {
    it('returns the same zone for the same name, size and tag', () => {
      const r = new ZoneRegistry();
      const a = r.add('x', '64k', { tag: 't' });
      expect(r.add('x', 65536, { tag: 't' })).to.equal(a);
      expect(r.get('x')).to.equal(a);
    });
    it('refuses another tag with ERR_ZONE_TAG', () => {
      const r = new ZoneRegistry();
      r.add('x', '64k', { tag: 't' });
      expect(() => r.add('x', '64k', { tag: 'u' }))
        .to.throw(/already declared for a different use/)
        .with.property('code', 'ERR_ZONE_TAG');
    });
    it('refuses another non-zero size with ERR_ZONE_SIZE_CONFLICT', () => {
      const r = new ZoneRegistry();
      r.add('x', '64k');
      expect(() => r.add('x', '128k'))
        .to.throw(/the size 131072 of zone "x" conflicts with already declared size 65536/i)
        .with.property('code', 'ERR_ZONE_SIZE_CONFLICT');
    });
    it('lets size 0 reference a zone and adopt a later size', () => {
      const r = new ZoneRegistry();
      const a = r.add('x', 0);
      expect(a.size).to.equal(0);
      expect(r.add('x', '64k')).to.equal(a);
      expect(a.size).to.equal(65536);
      expect(r.add('x', 0)).to.equal(a);
    });
    it('fails start with ERR_ZONE_UNSIZED for a zone only referenced', async () => {
      const r = new ZoneRegistry({ namespace: uniqueNamespace('v') });
      r.add('x', 0);
      let code: string | undefined;
      await r.start().catch((e: { code: string }) => (code = e.code));
      expect(code).to.equal('ERR_ZONE_UNSIZED');
    });
    it('throws ERR_ZONE_NOT_STARTED before start and ERR_ZONE_UNKNOWN for unknown names', () => {
      const r = new ZoneRegistry();
      const z = r.add('x', '64k');
      expect(codeOf(() => z.pool)).to.equal('ERR_ZONE_NOT_STARTED');
      expect(codeOf(() => z.buffer)).to.equal('ERR_ZONE_NOT_STARTED');
      expect(codeOf(() => z.root)).to.equal('ERR_ZONE_NOT_STARTED');
      expect(codeOf(() => r.get('nope'))).to.equal('ERR_ZONE_UNKNOWN');
    });
    it('throws ERR_ZONE_STARTED for add/configure after start, ERR_ZONE_CLOSED after stop', async () => {
      const r = new ZoneRegistry({ namespace: uniqueNamespace('v') });
      const z = r.add('x', '64k');
      await r.start();
      try {
        expect(codeOf(() => r.add('y', '64k'))).to.equal('ERR_ZONE_STARTED');
        expect(codeOf(() => r.configure({ persist: true }))).to.equal('ERR_ZONE_STARTED');
      } finally {
        r.stop();
      }
      expect(codeOf(() => z.pool)).to.equal('ERR_ZONE_CLOSED');
    });
  });
});
