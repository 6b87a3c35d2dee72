/**
 * Segments: create, open, stat, list, unlink, and the attach checks (owner, mode, size).
 */
import { expect } from 'chai';
import fs from 'node:fs';
import { native } from '../../src/native.js';
import { uniqueNamespace } from '../helpers/shm.js';
import { isLinux, isRoot, segmentExists } from './child.js';

function expectThrowCode(fn: () => unknown, code: string): NodeJS.ErrnoException {
  try {
    fn();
  } catch (err) {
    expect((err as NodeJS.ErrnoException).code, (err as Error).message).to.equal(code);
    return err as NodeJS.ErrnoException;
  }
  throw new Error(`expected an error with code ${code}`);
}

describe('native segments', () => {
  const created: string[] = [];
  function segName(zone = 'z'): string {
    const name = `/shmzone.${uniqueNamespace('seg')}.${zone}`;
    created.push(name);
    return name;
  }
  afterEach(() => {
    for (const name of created.splice(0)) {
      try {
        native.unlinkSegment(name);
      } catch {
        // already gone
      }
    }
  });

  it('creates a zero-filled segment of the exact size, mapped as a SharedArrayBuffer', () => {
    const name = segName();
    const m = native.createSegment(name, 65536, 0o600);
    expect(m.buffer).to.be.instanceOf(SharedArrayBuffer);
    expect(m.buffer.byteLength).to.equal(65536);
    expect(m.size).to.equal(65536);
    expect(m.mode).to.equal(0o600);
    expect(m.uid).to.equal(process.geteuid!());
    expect(new Uint8Array(m.buffer).every((b) => b === 0)).to.equal(true);
    expect(segmentExists(name)).to.equal(true);
  });

  it('opens an existing segment over the same memory and never resizes it', () => {
    const name = segName();
    const a = native.createSegment(name, 8192, 0o600);
    new Int32Array(a.buffer)[5] = 1234;
    const b = native.openSegment(name, 0o600, 4096);
    expect(b.size).to.equal(8192);
    expect(b.buffer.byteLength).to.equal(8192);
    expect(new Int32Array(b.buffer)[5]).to.equal(1234);
    Atomics.store(new Int32Array(b.buffer), 6, 99);
    expect(Atomics.load(new Int32Array(a.buffer), 6)).to.equal(99);
    expect(native.statSegment(name).size).to.equal(8192);
  });

  it('stats, lists by prefix and unlinks', () => {
    const ns = uniqueNamespace('list');
    const names = [`/shmzone.${ns}.a`, `/shmzone.${ns}.b`];
    created.push(...names);
    for (const n of names) native.createSegment(n, 4096, 0o600);
    const st = native.statSegment(names[0]);
    expect(st).to.deep.equal({ size: 4096, uid: process.geteuid!(), mode: 0o600 });
    const listed = native.listSegments(`shmzone.${ns}.`);
    expect(listed.map((l) => l.name).sort()).to.deep.equal([`shmzone.${ns}.a`, `shmzone.${ns}.b`]);
    for (const l of listed) {
      expect(l.size).to.equal(4096);
      expect(l.mode).to.equal(0o600);
      expect(l.mtimeMs).to.be.closeTo(Date.now(), 60_000);
    }
    native.unlinkSegment(names[0]);
    expect(segmentExists(names[0])).to.equal(false);
    expect(native.listSegments(`shmzone.${ns}.`).map((l) => l.name)).to.deep.equal([`shmzone.${ns}.b`]);
    expect(native.listSegments(`shmzone.${ns}.nothing`)).to.deep.equal([]);
  });

  it('applies the requested mode exactly, whatever the umask', () => {
    const old = process.umask(0o077);
    try {
      const name = segName();
      const m = native.createSegment(name, 4096, 0o640);
      expect(m.mode).to.equal(0o640);
      expect(fs.statSync(`/dev/shm${name}`).mode & 0o777).to.equal(0o640);
    } finally {
      process.umask(old);
    }
  });

  it('refuses an existing name with EEXIST (O_EXCL) and leaves it intact', () => {
    const name = segName();
    const a = native.createSegment(name, 4096, 0o600);
    new Uint8Array(a.buffer)[0] = 7;
    const err = expectThrowCode(() => native.createSegment(name, 8192, 0o600), 'EEXIST');
    expect(err.syscall).to.equal('shm_open');
    expect(err.path).to.equal(name);
    expect(err.errno).to.equal(17);
    expect(err.message).to.equal(`EEXIST: file already exists, shm_open '${name}'`);
    expect(native.statSegment(name).size).to.equal(4096);
    expect(new Uint8Array(native.openSegment(name, 0o600, 0).buffer)[0]).to.equal(7);
  });

  it('reports a missing segment as ENOENT on open, stat and unlink', () => {
    const name = `/shmzone.${uniqueNamespace('missing')}.z`;
    expect(expectThrowCode(() => native.openSegment(name, 0o600, 0), 'ENOENT').syscall).to.equal('shm_open');
    expectThrowCode(() => native.statSegment(name), 'ENOENT');
    expect(expectThrowCode(() => native.unlinkSegment(name), 'ENOENT').syscall).to.equal('shm_unlink');
  });

  it('refuses a segment with looser permissions than allowed (ERR_SEGMENT_MODE)', () => {
    const name = segName();
    native.createSegment(name, 4096, 0o600);
    fs.chmodSync(`/dev/shm${name}`, 0o666);
    const err = expectThrowCode(() => native.openSegment(name, 0o600, 0), 'ERR_SEGMENT_MODE');
    expect(err.path).to.equal(name);
    expect(native.openSegment(name, 0o666, 0).mode).to.equal(0o666);
  });

  it('refuses a segment smaller than required (ERR_SEGMENT_SIZE), and an empty one', () => {
    const name = segName();
    native.createSegment(name, 4096, 0o600);
    expectThrowCode(() => native.openSegment(name, 0o600, 4097), 'ERR_SEGMENT_SIZE');
    expect(native.openSegment(name, 0o600, 4096).size).to.equal(4096);
    // A planted empty file must never reach mmap (length 0).
    const empty = segName('empty');
    fs.writeFileSync(`/dev/shm${empty}`, '', { mode: 0o600 });
    expectThrowCode(() => native.openSegment(empty, 0o600, 0), 'ERR_SEGMENT_SIZE');
  });

  it('refuses a segment owned by another user (ERR_SEGMENT_OWNER)', function () {
    if (!isLinux || !isRoot) {
      console.log('      (skipped: planting a foreign segment needs root to chown)');
      this.skip();
    }
    const name = segName();
    native.createSegment(name, 4096, 0o600);
    fs.chownSync(`/dev/shm${name}`, 65534, 65534);
    const err = expectThrowCode(() => native.openSegment(name, 0o777, 0), 'ERR_SEGMENT_OWNER');
    expect(err.message).to.contain('65534');
    expect(native.statSegment(name).uid).to.equal(65534);
  });

  describe('argument checks (TypeError/RangeError, never a crash)', () => {
    const never = `/shmzone.${uniqueNamespace('never')}.z`;
    const bad: Array<[string, () => unknown, string]> = [
      ['name not a string', () => native.createSegment(42 as unknown as string, 4096, 0o600), 'TypeError'],
      ['name without slash', () => native.createSegment('shmzone.x', 4096, 0o600), 'RangeError'],
      ['name with a second slash', () => native.openSegment('/a/b', 0o600, 0), 'RangeError'],
      ['name too long', () => native.statSegment('/' + 'a'.repeat(300)), 'RangeError'],
      ['size 0', () => native.createSegment(never, 0, 0o600), 'RangeError'],
      ['size NaN', () => native.createSegment(never, NaN, 0o600), 'RangeError'],
      ['size fractional', () => native.createSegment(never, 1.5, 0o600), 'RangeError'],
      ['size negative', () => native.createSegment(never, -4096, 0o600), 'RangeError'],
      ['size a string', () => native.createSegment(never, '4096' as unknown as number, 0o600), 'TypeError'],
      ['mode out of range', () => native.createSegment(never, 4096, 0o1777), 'RangeError'],
      ['missing arguments', () => (native.openSegment as unknown as () => unknown)(), 'TypeError'],
      ['prefix not a string', () => native.listSegments(undefined as unknown as string), 'TypeError'],
    ];
    for (const [what, call, type] of bad) {
      it(`${what} -> ${type}`, () => {
        expect(call).to.throw().with.property('name', type);
      });
    }
    it('created nothing', () => {
      expect(segmentExists(never)).to.equal(false);
    });
  });
});
