/**
 * TypeScript consumers of the packed tarball: typescript@5.0 from the registry, no
 * skipLibCheck, `module` node16, nodenext and bundler, from .ts, .mts and .cts files (a .cts
 * compiles to require(), which resolves the "require" condition). Guards the published .d.ts
 * against types newer compilers accept only (generic typed arrays: TS 5.7), and against types
 * that an ES module can import but a CommonJS file cannot (TS1479).
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

const CONSUMER = `import { zones, sharedDict, SharedDict, ShmzoneError, SlabPool } from 'shmzone';
import { KeyvShmzone } from 'shmzone/keyv';
const dict: SharedDict = sharedDict(zones, 'c', '1m');
const err: ShmzoneError | undefined = undefined;
const pool: typeof SlabPool = SlabPool;
export const used = [dict, err, pool, new KeyvShmzone(dict)];
`;
const FILES = ['consumer.ts', 'consumer.mts', 'consumer.cts'];

describe('TypeScript 5.0 consumers of the packed tarball', function () {
  this.timeout(180_000);
  let dir: string;
  const run = (cmd: string, args: string[]): string =>
    execFileSync(cmd, args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shmzone-tsc-'));
    execFileSync('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], {
      cwd: root,
      stdio: 'ignore',
    });
    const tarball = fs.readdirSync(dir).find((f) => f.endsWith('.tgz'))!;
    fs.writeFileSync(path.join(dir, 'package.json'), '{"private":true,"type":"module"}');
    run('npm', [
      'install',
      '--no-audit',
      '--no-fund',
      '--ignore-scripts',
      `./${tarball}`,
      'typescript@5.0',
      '@types/node@20',
    ]);
    for (const file of FILES) fs.writeFileSync(path.join(dir, file), CONSUMER);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('the scratch consumer really has TypeScript 5.0', () => {
    expect(run('node', ['node_modules/typescript/bin/tsc', '-v'])).to.match(/^Version 5\.0\./);
  });

  for (const [module, resolution] of [
    ['node16', 'node16'],
    ['nodenext', 'nodenext'],
    ['esnext', 'bundler'],
  ] as const) {
    it(`compiles with module ${module}, moduleResolution ${resolution}, no skipLibCheck`, () => {
      const args = ['node_modules/typescript/bin/tsc', '--noEmit', '--strict', '--target'];
      args.push('es2022', '--module', module, '--moduleResolution', resolution);
      args.push('--types', 'node', ...FILES);
      let output = '';
      try {
        run('node', args);
      } catch (err) {
        output = String((err as { stdout?: string }).stdout);
      }
      expect(output, 'tsc errors').to.equal('');
    });
  }
});
