/**
 * The pool's takeover count sits alone on a cache line (layout.ts H_LOCK_RECOVERIES):
 * SharedDict's lock-free readers load it on every get, so nothing that runs on every lock
 * acquisition may write that line.
 */
import { expect } from 'chai';
import { survivorAndVictim } from './util.js';

const LINE_WORDS = 16;

describe('slab pool header: the takeover count line', () => {
  it('is 64-byte aligned and untouched by locked work; a takeover bumps it', () => {
    const { survivor, victim } = survivorAndVictim(1024 * 1024);
    const word = survivor.recoveriesWord;
    expect((word * 4) % 64).to.equal(0);
    const line = () => Array.from(survivor.u32.subarray(word, word + LINE_WORDS));
    const before = line();
    const held: number[] = [];
    for (let i = 0; i < 500; i++) held.push(survivor.alloc(8 + ((i * 37) % 3000)));
    for (const off of held.splice(0, 250)) survivor.free(off);
    survivor.lock();
    held.push(survivor.allocLocked(100_000));
    survivor.unlock();
    for (let i = 0; i < 100; i++) victim.free(held.pop()!);
    expect(survivor.stats().lock.acquisitions).to.be.above(800);
    expect(line()).to.deep.equal(before);

    victim.lock();
    victim.allocLocked(64); // a journaled change, then the victim "dies" holding the lock
    survivor.lock(); // takes over from owner 2, which it sees as dead
    survivor.unlock();
    expect(survivor.stats().lock.recoveries).to.equal(1);
    expect(survivor.u32[word]).to.equal(before[0] + 1);
    expect(line().slice(1)).to.deep.equal(before.slice(1));
  });
});
