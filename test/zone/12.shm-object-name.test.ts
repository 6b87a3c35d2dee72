/**
 * The shm_open name of a segment (src/zone/names.ts, shmObjectName): unchanged on Linux; on
 * macOS, whose PSHMNAMLEN leaves 30 bytes, long names are shortened to a stable hash. Only the
 * naming runs here (no macOS machine); the zone header's full-name check is what makes a
 * hash collision harmless (test/zone/20.security.test.ts covers that check).
 */
import { expect } from 'chai';
import {
  MACOS_SHM_NAME_MAX,
  MAX_NAME_LENGTH,
  segmentName,
  shmObjectName,
} from '../../src/zone/names.js';

describe('shm object names (shmObjectName)', () => {
  const longest = segmentName('n'.repeat(MAX_NAME_LENGTH), 'z'.repeat(MAX_NAME_LENGTH));

  it('Linux: the segment name itself, up to the longest', () => {
    expect(shmObjectName('/shmzone.app.cache', 'linux')).to.equal('/shmzone.app.cache');
    expect(shmObjectName(longest, 'linux')).to.equal(longest);
  });

  it('macOS: short names kept, long ones within PSHMNAMLEN, stable and distinct', () => {
    expect(shmObjectName('/shmzone.app.cache', 'darwin')).to.equal('/shmzone.app.cache');
    const names = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const segment = segmentName(`namespace-${i}`, 'a-long-zone-name');
      const short = shmObjectName(segment, 'darwin');
      expect(short.length).to.be.at.most(MACOS_SHM_NAME_MAX);
      expect(short).to.match(/^\/shz\.[0-9a-f]{25}$/);
      expect(shmObjectName(segment, 'darwin'), 'the same in every call').to.equal(short);
      names.add(short);
    }
    expect(names.size, 'no two of 2,000 names collide').to.equal(2000);
    expect(shmObjectName(longest, 'darwin').length).to.equal(MACOS_SHM_NAME_MAX);
  });
});
