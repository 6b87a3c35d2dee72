/**
 * The README's code must run as written. Every ```ts block of README.md is plain JavaScript
 * apart from its fence, so each is written verbatim to a `.mjs` file inside this package
 * (where `import 'shmzone'` resolves to the package itself through its `exports`) and run as a
 * real process that must exit 0 with nothing on stderr and nothing left in /dev/shm.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { segmentsWithPrefix, uniqueNamespace } from '../helpers/shm.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const snippetDir = path.join(root, 'dist', 'readme-snippets');

function readmeBlocks(): string[] {
  const text = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  return [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
}

function run(
  file: string,
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; out: string; err: string; pid: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file], { cwd: root, env, stdio: 'pipe' });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err, pid: child.pid ?? -1 });
    });
  });
}

describe('README: every TypeScript block runs as written', function () {
  this.timeout(60_000);
  const blocks = readmeBlocks();

  before(() => fs.mkdirSync(snippetDir, { recursive: true }));
  after(() => fs.rmSync(snippetDir, { recursive: true, force: true }));

  it('has the four process-model examples', () => {
    expect(blocks.length).to.be.at.least(4);
    for (const b of blocks) expect(b).to.include("from 'shmzone'");
  });

  blocks.forEach((block, i) => {
    const firstLine = block.split('\n').find((l) => l.trim() !== '' && !l.startsWith('import'));
    it(`block ${i + 1} (${firstLine?.trim().slice(0, 50)}) exits 0 cleanly`, async () => {
      const file = path.join(snippetDir, `block${i + 1}.mjs`);
      fs.writeFileSync(file, block);
      // Owner-mode blocks default to the namespace p<pid>; the standalone block names its own.
      const ns = uniqueNamespace('readme');
      const before = new Set(fs.readdirSync('/dev/shm'));
      const r = await run(file, { ...process.env, SHMZONE_NAMESPACE: ns });
      expect(r.err, r.err).to.equal('');
      expect(r.code, r.out).to.equal(0);
      // This block's own names only: other suites may run on the same machine at once. Its
      // namespaces: SHMZONE_NAMESPACE, owner mode's p<pid>-<random>, standalone's s-<script>-.
      const own = [`shmzone.${ns}.`, `shmzone.p${r.pid}-`, `shmzone.s-block${i + 1}-`];
      const leftovers = fs
        .readdirSync('/dev/shm')
        .filter((n) => own.some((prefix) => n.startsWith(prefix)) && !before.has(n));
      expect(leftovers, 'segments left behind').to.deep.equal([]);
      expect(segmentsWithPrefix(ns)).to.deep.equal([]);
      if (block.includes("console.log('hits'")) expect(r.out.trim()).to.equal('hits 2');
      if (block.includes("console.log('origin calls'"))
        expect(r.out.trim()).to.equal('origin calls 1');
      if (block.includes("console.log(pages.get('page:1')")) expect(r.out.trim()).to.equal('2');
    });
  });
});
