/**
 * hugePages: true (src/zone/backend.ts): zones are files of a hugetlbfs mount, so 2 MiB pages
 * back them, reserved at start. As root: reserves pages with vm.nr_hugepages (restored after),
 * mounts hugetlbfs in a private mount namespace, and reads /proc/meminfo that the zone took
 * them; a zone larger than the free pages fails with ENOSPC naming vm.nr_hugepages; the CLI
 * lists and reads the zone without being told where it is.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const NR = '/proc/sys/vm/nr_hugepages';

describe('huge pages (hugePages: true)', function () {
  this.timeout(60_000);

  it('2 MiB pages back the zone, taken at start; too few fail with ENOSPC', function () {
    if (process.getuid?.() !== 0 || !fs.existsSync(NR)) this.skip();
    const saved = fs.readFileSync(NR, 'utf8').trim();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shmzone-huge-'));
    try {
      fs.writeFileSync(NR, String(Number(saved) + 4));
      const script = new URL('../fixtures/huge-pages.js', import.meta.url).pathname;
      const r = spawnSync(
        'unshare',
        [
          '-m',
          'sh',
          '-c',
          'mount -t hugetlbfs none "$1" && exec "$2" "$3" "$1"',
          'sh',
          dir,
          process.execPath,
          script,
        ],
        { encoding: 'utf8', timeout: 30_000 },
      );
      if (r.error !== undefined || /mount:|unshare:/.test(r.stderr)) this.skip();
      expect(r.status, r.stderr).to.equal(0);
      const out = JSON.parse(r.stdout.trim()) as {
        before: number;
        after: number;
        size: number;
        get: string;
        files: string[];
        big: { code: string; message: string };
        filesAfterFailure: string[];
        filesAfterStop: string[];
        ls: { exit: number; json: Array<{ zone: string; backend: string; health: string }> };
        stat: { exit: number; json: { summary: { backend: string }; dict?: { entries: number } } };
      };
      expect(out.size, '3m rounded up to 2 MiB pages').to.equal(4 * 1024 * 1024);
      expect(out.before - out.after, 'huge pages taken by the zone').to.equal(2);
      expect(out.get).to.equal('v');
      expect(out.files).to.deep.equal(['shmzone.hp.d']);
      // The CLI finds it through /proc/mounts (no option needed) and reads it.
      expect(out.ls.exit).to.equal(0);
      expect(out.ls.json.map((z) => [z.zone, z.backend, z.health])).to.deep.equal([
        ['d', 'hugetlbfs', 'ok'],
      ]);
      expect(out.stat.exit).to.equal(0);
      expect(out.stat.json.summary.backend).to.equal('hugetlbfs');
      expect(out.stat.json.dict?.entries).to.equal(1);
      expect(out.big.code).to.equal('ENOSPC');
      expect(out.big.message).to.include('vm.nr_hugepages');
      expect(out.filesAfterFailure).to.deep.equal(['shmzone.hp.d']);
      expect(out.filesAfterStop, 'removed at stop like a POSIX segment').to.deep.equal([]);
    } finally {
      fs.writeFileSync(NR, saved);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
