/**
 * The error classes: stable codes, Node's fs shape for OS errors, and `instanceof` that still
 * answers correctly across two loaded copies of the package (a second module instance).
 */
import { expect } from 'chai';
import {
  DictError,
  SegmentError,
  ShmzoneError,
  SlabCorruptionError,
  SlabError,
  ZoneError,
} from '../../src/errors.js';

describe('errors', () => {
  it('carry a code, their class name, and a cause', () => {
    const cause = new Error('inner');
    const e = new ZoneError('ERR_ZONE_SIZE', 'bad size', { cause });
    expect(e.code).to.equal('ERR_ZONE_SIZE');
    expect(e.name).to.equal('ZoneError');
    expect(e.cause).to.equal(cause);
    expect(e).to.be.instanceOf(Error);
    expect(new SlabCorruptionError('x').code).to.equal('ERR_SLAB_CORRUPT');
  });

  it('SegmentError has the shape of a Node fs error', () => {
    const e = new SegmentError('ENOSPC', 'no space', {
      errno: 28,
      syscall: 'posix_fallocate',
      path: '/shmzone.a.b',
    });
    expect({ code: e.code, errno: e.errno, syscall: e.syscall, path: e.path }).to.deep.equal({
      code: 'ENOSPC',
      errno: 28,
      syscall: 'posix_fallocate',
      path: '/shmzone.a.b',
    });
  });

  it('instanceof matches the class and its bases only', () => {
    const e = new SlabError('ERR_SLAB_CHUNK_FREE', 'double free', 4096);
    expect(e instanceof SlabError).to.equal(true);
    expect(e instanceof ShmzoneError).to.equal(true);
    expect(e instanceof ZoneError).to.equal(false);
    expect(e instanceof DictError).to.equal(false);
    expect(new Error('plain') instanceof ShmzoneError).to.equal(false);
    expect((null as unknown as object) instanceof ShmzoneError).to.equal(false);
  });

  it('instanceof works across two copies of the module', async () => {
    // A query string makes Node load a second, independent instance of the same file.
    const copy = (await import(
      new URL('../../src/errors.js?second-copy', import.meta.url).href
    )) as typeof import('../../src/errors.js');
    expect(copy.ZoneError).not.to.equal(ZoneError);
    const foreign = new copy.ZoneError('ERR_ZONE_TAG', 'other copy');
    expect(foreign instanceof ZoneError).to.equal(true);
    expect(foreign instanceof ShmzoneError).to.equal(true);
    expect(foreign instanceof SlabError).to.equal(false);
    expect(new ZoneError('ERR_ZONE_TAG', 'this copy') instanceof copy.ShmzoneError).to.equal(true);
  });
});
