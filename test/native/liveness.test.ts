/**
 * Liveness tokens (robust process-shared mutexes): a holder that dies, as a process (SIGKILL)
 * or as a worker thread (terminate), is reported Dead; a live one Alive; nobody Free.
 */
import { TOKEN_SIZE } from '../../src/zone/layout.js';
import { expect } from 'chai';
import { Worker } from 'node:worker_threads';
import { native, TokenAcquire, TokenState } from '../../src/native.js';
import { uniqueNamespace } from '../helpers/shm.js';
import { fixture, isLinux, startFixture, until } from './child.js';

const OFFSET = 64; // word 0 is the holder's "I hold it" flag

describe('native liveness tokens', () => {
  let name: string;
  let buffer: SharedArrayBuffer;
  let i32: Int32Array;
  beforeEach(() => {
    name = `/shmzone.${uniqueNamespace('token')}.z`;
    buffer = native.createSegment(name, 4096, 0o600).buffer;
    i32 = new Int32Array(buffer);
    native.tokenInit(buffer, OFFSET);
  });
  afterEach(() => native.unlinkSegment(name));

  it('is 64 bytes, the TOKEN_SIZE the zone geometry assumes without asking the addon', () => {
    expect(native.tokenSize).to.equal(64);
    expect(native.tokenSize).to.equal(TOKEN_SIZE);
  });

  it('acquire / probe / release in one thread', () => {
    expect(native.tokenProbe(buffer, OFFSET)).to.equal(TokenState.Free);
    expect(native.tokenAcquire(buffer, OFFSET)).to.equal(TokenAcquire.Acquired);
    // The holder probing (or re-acquiring) its own token: alive, busy, and still held after.
    expect(native.tokenProbe(buffer, OFFSET)).to.equal(TokenState.Alive);
    expect(native.tokenAcquire(buffer, OFFSET)).to.equal(TokenAcquire.Busy);
    native.tokenRelease(buffer, OFFSET);
    expect(native.tokenProbe(buffer, OFFSET)).to.equal(TokenState.Free);
    // Releasing a token we do not hold is an error (robust mutexes check the owner), not a crash.
    expect(() => native.tokenRelease(buffer, OFFSET)).to.throw().with.property('code', 'EPERM');
  });

  it('a SIGKILLed holder process is reported Dead, then the token is Free', async function () {
    if (!isLinux) this.skip();
    const { child, done } = startFixture('native-token-holder', [name, String(OFFSET)]);
    try {
      await until(() => Atomics.load(i32, 0) !== 0, 10_000, 'the child to take its token');
      expect(Atomics.load(i32, 0) - 1).to.equal(TokenAcquire.Acquired);
      expect(native.tokenProbe(buffer, OFFSET)).to.equal(TokenState.Alive);
      expect(native.tokenAcquire(buffer, OFFSET)).to.equal(TokenAcquire.Busy);
    } finally {
      child.kill('SIGKILL');
    }
    const r = await done;
    expect(r.signal).to.equal('SIGKILL');
    expect(native.tokenProbe(buffer, OFFSET)).to.equal(TokenState.Dead);
    expect(native.tokenProbe(buffer, OFFSET)).to.equal(TokenState.Free);
  });

  it('the next acquirer after a dead holder gets AcquiredFromDead and can use it normally', async function () {
    if (!isLinux) this.skip();
    const { child, done } = startFixture('native-token-holder', [name, String(OFFSET)]);
    await until(() => Atomics.load(i32, 0) !== 0, 10_000, 'the child to take its token');
    child.kill('SIGKILL');
    await done;
    expect(native.tokenAcquire(buffer, OFFSET)).to.equal(TokenAcquire.AcquiredFromDead);
    expect(native.tokenProbe(buffer, OFFSET)).to.equal(TokenState.Alive);
    native.tokenRelease(buffer, OFFSET);
    expect(native.tokenAcquire(buffer, OFFSET)).to.equal(TokenAcquire.Acquired);
    native.tokenRelease(buffer, OFFSET);
  });

  it('a terminated worker thread is reported Dead', async function () {
    if (!isLinux) this.skip();
    const worker = new Worker(fixture('native-token-worker'), { workerData: { buffer, offset: OFFSET } });
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    await until(() => Atomics.load(i32, 0) !== 0, 10_000, 'the worker to take its token');
    expect(Atomics.load(i32, 0) - 1).to.equal(TokenAcquire.Acquired);
    expect(native.tokenProbe(buffer, OFFSET)).to.equal(TokenState.Alive);
    await worker.terminate();
    await exited;
    // The kernel marks the mutex when the thread has fully exited; allow it a moment.
    let state: number = TokenState.Alive;
    await until(() => (state = native.tokenProbe(buffer, OFFSET)) !== TokenState.Alive, 5_000, 'owner-dead');
    expect(state).to.equal(TokenState.Dead);
  });

  it('a terminated worker whose own mapping held the token is reported Dead (mapping kept while held)', async function () {
    if (!isLinux) this.skip();
    // The worker's mapping dies with the worker's isolate, before the thread exits; the addon must
    // keep it mapped so the kernel can still mark the robust mutex owner-dead.
    const worker = new Worker(fixture('native-token-worker'), { workerData: { name, offset: OFFSET } });
    await until(() => Atomics.load(i32, 0) !== 0, 10_000, 'the worker to take its token');
    expect(native.tokenProbe(buffer, OFFSET)).to.equal(TokenState.Alive);
    await worker.terminate();
    let state: number = TokenState.Alive;
    await until(() => (state = native.tokenProbe(buffer, OFFSET)) !== TokenState.Alive, 5_000, 'owner-dead');
    expect(state).to.equal(TokenState.Dead);
  });

  it('tokens work in a plain JS SharedArrayBuffer too, and check bounds and alignment', () => {
    const sab = new SharedArrayBuffer(256);
    native.tokenInit(sab, 128);
    expect(native.tokenAcquire(sab, 128)).to.equal(TokenAcquire.Acquired);
    native.tokenRelease(sab, 128);
    expect(() => native.tokenInit(sab, 4)).to.throw(RangeError);
    expect(() => native.tokenInit(sab, 200)).to.throw(RangeError);
    expect(() => native.tokenProbe(sab, 256)).to.throw(RangeError);
    expect(() => native.tokenAcquire({} as SharedArrayBuffer, 0)).to.throw(TypeError);
  });

  it('gettid and processStartTime', () => {
    expect(native.gettid()).to.be.a('number').and.to.be.above(0);
    if (isLinux) {
      expect(native.gettid()).to.equal(process.pid); // the main thread's tid is the pid
      const start = native.processStartTime(process.pid);
      expect(start).to.be.above(0);
      expect(native.processStartTime(process.pid)).to.equal(start);
      expect(native.processStartTime(1)).to.be.at.most(start);
    }
    expect(native.processStartTime(0x7ffffffe)).to.equal(0);
    expect(() => native.processStartTime(-1)).to.throw(RangeError);
  });
});
