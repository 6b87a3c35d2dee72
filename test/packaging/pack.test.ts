/**
 * What `npm pack` would publish (issue 18, packaging): a LICENSE matching package.json, every
 * relative link of the README inside the package, no source map pointing at a file the
 * package does not ship, and no test or benchmark code.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

interface PackResult {
  files: { path: string }[];
}

describe('npm pack contents', function () {
  this.timeout(60_000);
  let shipped: Set<string>;

  before(() => {
    // --ignore-scripts: `prepare` would rebuild dist/ under the running suite.
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const [result] = JSON.parse(out) as PackResult[];
    shipped = new Set(result!.files.map((f) => f.path));
  });

  it('ships the entry points, README and an MIT LICENSE matching package.json', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
      license: string;
      main: string;
      types: string;
    };
    for (const f of ['README.md', 'LICENSE', 'package.json', pkg.main, pkg.types]) {
      expect(shipped.has(f.replace(/^\.\//, '')), f).to.equal(true);
    }
    expect(pkg.license).to.equal('MIT');
    expect(fs.readFileSync(path.join(root, 'LICENSE'), 'utf8')).to.match(/^MIT License/);
  });

  it('ships every file the README links to', () => {
    const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
    const links = [...readme.matchAll(/\]\(([^)#\s]+)\)/g)]
      .map((m) => m[1]!)
      .filter((l) => !/^[a-z]+:/i.test(l));
    expect(links.length, 'relative links in the README').to.be.greaterThan(0);
    for (const link of links) {
      const target = path.posix.normalize(link).replace(/\/$/, '');
      const inside = [...shipped].some((f) => f === target || f.startsWith(`${target}/`));
      expect(inside, link).to.equal(true); // a file, or a directory with shipped files
    }
  });

  it('every shipped source map and the sources it names are shipped', () => {
    const maps = [...shipped].filter((f) => f.endsWith('.map'));
    const scripts = [...shipped].filter((f) => f.endsWith('.js'));
    for (const js of scripts) {
      const url = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(
        fs.readFileSync(path.join(root, js), 'utf8'),
      )?.[1];
      if (url !== undefined) {
        expect(shipped.has(path.posix.join(path.posix.dirname(js), url)), js).to.equal(true);
      }
    }
    for (const map of maps) {
      const { sources } = JSON.parse(fs.readFileSync(path.join(root, map), 'utf8')) as {
        sources: string[];
      };
      for (const s of sources) {
        const target = path.posix.join(path.posix.dirname(map), s);
        expect(shipped.has(target), `${map} -> ${target}`).to.equal(true);
      }
    }
  });

  it('ships no tests, benchmarks or build output of the addon', () => {
    const stray = [...shipped].filter((f) => /^(dist\/)?(test|bench)\/|^build\//.test(f));
    expect(stray).to.deep.equal([]);
  });
});
