/**
 * The cross-process futex: a waiter in another process is woken by our wake (which
 * Atomics.notify cannot do, docs/specs/reliability.md 8.1), a timeout returns TimedOut, a changed word
 * returns NotEqual at once, and bad offsets are RangeErrors.
 */
import { expect } from 'chai';
import { FutexResult, native } from '../../src/native.js';
import { uniqueNamespace } from '../helpers/shm.js';
import { runFixture, startFixture, until } from './child.js';

interface WaiterReport {
  result: number;
  calls: number;
  elapsedMs: number;
  value: number;
}

describe('native futex', () => {
  let name: string;
  let buffer: SharedArrayBuffer;
  let i32: Int32Array;
  beforeEach(() => {
    name = `/shmzone.${uniqueNamespace('futex')}.z`;
    buffer = native.createSegment(name, 4096, 0o600).buffer;
    i32 = new Int32Array(buffer);
  });
  afterEach(() => native.unlinkSegment(name));

  it('wakes a waiter in another process', async () => {
    const { done } = startFixture('native-futex-waiter', [name, 'once', '20000']);
    await until(() => Atomics.load(i32, 1) === 1, 10_000, 'the child to get ready');
    // The child may not be inside FUTEX_WAIT yet; keep waking (word unchanged) until the kernel
    // says it woke someone: that one is our child, sleeping in another process.
    let woken = 0;
    await until(() => (woken = native.futexWake(buffer, 0, 1)) === 1, 10_000, 'a sleeper to wake');
    const r = await done;
    expect(r.code, r.stderr).to.equal(0);
    const report = JSON.parse(r.stdout) as WaiterReport;
    expect(woken).to.equal(1);
    expect(report.result).to.equal(FutexResult.Woken);
    expect(report.elapsedMs).to.be.below(10_000);
  });

  it('a store + wake releases a waiter that re-checks the word', async () => {
    const { done } = startFixture('native-futex-waiter', [name, 'loop', '20000']);
    await until(() => Atomics.load(i32, 1) === 1, 10_000, 'the child to get ready');
    await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    Atomics.store(i32, 0, 1); // publish first, then wake: a waiter that has not slept yet sees 1
    native.futexWake(buffer, 0, Infinity);
    const r = await done;
    expect(r.code, r.stderr).to.equal(0);
    const report = JSON.parse(r.stdout) as WaiterReport;
    expect(report.value).to.equal(1);
    expect(report.result).to.be.oneOf([FutexResult.Woken, FutexResult.NotEqual]);
    expect(Date.now() - t0).to.be.below(5_000);
  });

  it('times out after about timeoutMs when nobody wakes it', () => {
    const t0 = performance.now();
    expect(native.futexWait(buffer, 8, 0, 50)).to.equal(FutexResult.TimedOut);
    const elapsed = performance.now() - t0;
    expect(elapsed).to.be.at.least(45);
    expect(elapsed).to.be.below(2_000);
    expect(native.futexWait(buffer, 8, 0, 0)).to.equal(FutexResult.TimedOut);
  });

  it('times out in another process too', async () => {
    const report = await runFixture<WaiterReport>('native-futex-waiter', [name, 'once', '100']);
    expect(report.result).to.equal(FutexResult.TimedOut);
    expect(report.elapsedMs).to.be.at.least(95);
  });

  it('returns NotEqual at once when the word differs (32-bit pattern compare)', () => {
    Atomics.store(i32, 3, -1);
    expect(native.futexWait(buffer, 12, 0, -1)).to.equal(FutexResult.NotEqual);
    expect(native.futexWait(buffer, 12, 0xffffffff, 10)).to.equal(FutexResult.TimedOut);
    expect(native.futexWait(buffer, 12, -1, 10)).to.equal(FutexResult.TimedOut);
    expect(native.futexWake(buffer, 12, 1)).to.equal(0);
  });

  it('rejects unaligned, outside and non-shared arguments', () => {
    expect(() => native.futexWait(buffer, 2, 0, 1)).to.throw(RangeError);
    expect(() => native.futexWait(buffer, 4096, 0, 1)).to.throw(RangeError);
    expect(() => native.futexWait(buffer, -4, 0, 1)).to.throw(RangeError);
    expect(() => native.futexWake(buffer, 4093, 1)).to.throw(RangeError);
    expect(() => native.futexWake(buffer, 0, -1)).to.throw(RangeError);
    expect(() => native.futexWait(new ArrayBuffer(8) as unknown as SharedArrayBuffer, 0, 0, 1)).to.throw(TypeError);
    expect(() => native.futexWait(buffer, 0, 0, NaN)).to.throw(RangeError);
    // A plain JS SharedArrayBuffer works in-process (same futex word for all threads).
    expect(native.futexWait(new SharedArrayBuffer(8), 4, 1, 0)).to.equal(FutexResult.NotEqual);
  });
});
