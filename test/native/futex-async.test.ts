/**
 * futexWaitAsync: WaitOnWord on a libuv pool thread. The JS thread keeps running while it
 * sleeps, a wake settles it with Woken, a differing word with NotEqual at once, a timeout
 * with TimedOut, and bad arguments throw synchronously as futexWait's do.
 */
import { expect } from 'chai';
import { FutexResult, native } from '../../src/native.js';
import { uniqueNamespace } from '../helpers/shm.js';

describe('native futexWaitAsync', () => {
  let name: string;
  let buffer: SharedArrayBuffer;
  let i32: Int32Array;
  beforeEach(() => {
    name = `/shmzone.${uniqueNamespace('futexa')}.z`;
    buffer = native.createSegment(name, 4096, 0o600).buffer;
    i32 = new Int32Array(buffer);
  });
  afterEach(() => native.unlinkSegment(name));

  it('sleeps off the JS thread and settles with Woken after a store + wake', async () => {
    const waiting = native.futexWaitAsync(buffer, 16, 0, 10_000);
    let ticks = 0;
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        if (++ticks === 10) {
          clearInterval(timer);
          resolve();
        }
      }, 5);
    });
    Atomics.store(i32, 4, 1);
    let woken = 0;
    // The pool thread may not be inside FUTEX_WAIT yet; it then sees 1 and returns NotEqual.
    for (let i = 0; i < 100 && woken === 0; i++) woken = native.futexWake(buffer, 16, Infinity);
    const t0 = performance.now();
    expect(await waiting).to.be.oneOf([FutexResult.Woken, FutexResult.NotEqual]);
    expect(performance.now() - t0).to.be.below(1000);
    expect(ticks).to.equal(10);
  });

  it('settles with NotEqual at once and TimedOut after about timeoutMs', async () => {
    Atomics.store(i32, 2, 7);
    expect(await native.futexWaitAsync(buffer, 8, 6, 10_000)).to.equal(FutexResult.NotEqual);
    const t0 = performance.now();
    expect(await native.futexWaitAsync(buffer, 8, 7, 50)).to.equal(FutexResult.TimedOut);
    expect(performance.now() - t0).to.be.within(40, 2000);
  });

  it('throws on bad arguments before queueing anything', () => {
    expect(() => native.futexWaitAsync(buffer, 2, 0, 1)).to.throw(RangeError);
    expect(() => native.futexWaitAsync(buffer, 4096, 0, 1)).to.throw(RangeError);
    expect(() => native.futexWaitAsync(buffer, 0, 0, NaN)).to.throw(RangeError);
    const plain = new ArrayBuffer(8) as unknown as SharedArrayBuffer;
    expect(() => native.futexWaitAsync(plain, 0, 0, 1)).to.throw(TypeError);
  });
});
