import { expect } from 'chai';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ZoneRegistry } from '../../src/zone/registry.js';
import { sharedDict } from '../../src/dict/declare.js';
import { uniqueNamespace } from '../helpers/shm.js';

const FIXTURE = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../fixtures/dict-hammer.js',
);

function run(args: string[]): Promise<{ incrs: number; gets: number; torn: number; hits: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [FIXTURE, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) =>
      code === 0
        ? resolve(JSON.parse(out.trim().split('\n').pop()!))
        : reject(new Error(`hammer exited ${code}`)),
    );
  });
}

describe('SharedDict across processes', function () {
  this.timeout(120_000);

  for (const procs of [2, 4]) {
    it(`${procs} processes hammer the same keys: exact incr totals, no torn values, verify() passes`, async () => {
      const namespace = uniqueNamespace('dictmp');
      const registry = new ZoneRegistry({ namespace, mode: 'owner' });
      const dict = sharedDict(registry, 'hammer', '4m');
      await registry.start();
      try {
        const iters = 200_000;
        const results = await Promise.all(
          Array.from({ length: procs }, (_, i) => run([namespace, String(i + 1), String(iters)])),
        );
        const incrs = results.reduce((a, r) => a + r.incrs, 0);
        expect(incrs).to.be.above(0);
        expect(dict.get('counter')).to.equal(incrs);
        for (const r of results) {
          expect(r.torn).to.equal(0);
          expect(r.hits).to.be.above(0);
        }
        dict.verify();
        expect(dict.size()).to.be.at.most(51);
      } finally {
        await registry.stop();
      }
    });
  }
});
