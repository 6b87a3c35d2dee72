/**
 * Back-out on failure: every syscall of create/open is made to fail once (injectFault), and the
 * error must carry the errno name and syscall, the name must be unlinked (create) or untouched
 * (open), and no file descriptor may leak.
 */
import { expect } from 'chai';
import { native } from '../../src/native.js';
import { uniqueNamespace } from '../helpers/shm.js';
import { openFdCount, segmentExists } from './child.js';

describe('native fault injection and back-out', () => {
  afterEach(() => {
    for (const s of ['shm_open', 'fchmod', 'ftruncate', 'posix_fallocate', 'fstat', 'mmap']) native.injectFault(s, 0, '');
  });

  const createSteps: Array<[string, string]> = [
    ['shm_open', 'EMFILE'],
    ['fchmod', 'EPERM'],
    ['ftruncate', 'EFBIG'],
    ['posix_fallocate', 'ENOSPC'],
    ['fstat', 'EIO'],
    ['mmap', 'ENOMEM'],
  ];
  for (const [syscall, errno] of createSteps) {
    it(`createSegment: ${syscall} failing with ${errno} leaves no name and no fd`, () => {
      const name = `/shmzone.${uniqueNamespace('fault')}.z`;
      const fds = openFdCount();
      native.injectFault(syscall, 1, errno);
      let err: NodeJS.ErrnoException | undefined;
      try {
        native.createSegment(name, 65536, 0o600);
      } catch (e) {
        err = e as NodeJS.ErrnoException;
      }
      expect(err, 'createSegment should have thrown').to.not.equal(undefined);
      expect(err!.code).to.equal(errno);
      expect(err!.syscall).to.equal(syscall);
      expect(err!.path).to.equal(name);
      expect(err!.message).to.match(new RegExp(`^${errno}: .+, ${syscall} '${name.replace(/\./g, '\\.')}'$`));
      expect(segmentExists(name), 'name must be unlinked').to.equal(false);
      expect(openFdCount()).to.equal(fds);
      // The fault fired once and is spent: the same call now succeeds.
      native.createSegment(name, 65536, 0o600);
      native.unlinkSegment(name);
    });
  }

  for (const [syscall, errno] of [['fstat', 'EIO'], ['mmap', 'ENOMEM']] as const) {
    it(`openSegment: ${syscall} failing with ${errno} leaves the segment and no fd`, () => {
      const name = `/shmzone.${uniqueNamespace('fault')}.z`;
      native.createSegment(name, 65536, 0o600);
      try {
        const fds = openFdCount();
        native.injectFault(syscall, 1, errno);
        expect(() => native.openSegment(name, 0o600, 0))
          .to.throw()
          .that.satisfies((e: NodeJS.ErrnoException) => e.code === errno && e.syscall === syscall);
        expect(segmentExists(name)).to.equal(true);
        expect(openFdCount()).to.equal(fds);
      } finally {
        native.unlinkSegment(name);
      }
    });
  }

  it('counts calls: nth = 2 fails the second call, not the first', () => {
    const ns = uniqueNamespace('nth');
    native.injectFault('ftruncate', 2, 'ENOSPC');
    native.createSegment(`/shmzone.${ns}.a`, 4096, 0o600);
    expect(() => native.createSegment(`/shmzone.${ns}.b`, 4096, 0o600)).to.throw().with.property('code', 'ENOSPC');
    native.unlinkSegment(`/shmzone.${ns}.a`);
    expect(segmentExists(`/shmzone.${ns}.b`)).to.equal(false);
  });

  it('rejects unknown syscalls and errno names', () => {
    expect(() => native.injectFault('read', 1, 'EIO')).to.throw(RangeError);
    expect(() => native.injectFault('mmap', 1, 'ENOTANERRNO')).to.throw(RangeError);
  });
});
