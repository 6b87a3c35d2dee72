// npm "prepack" script: builds prebuilds/linux-<arch>/shmzone.abi<N>.glibc.node for every even
// Node line the package claims, so that `npm pack` ships them and an install needs no compiler.
// linux-x64 always; linux-arm64 when Debian's cross compiler (g++-aarch64-linux-gnu) and
// qemu-user-static are installed: each arm64 binary is loaded under qemu by that line's arm64
// Node before it is kept, as no prebuild ships that was never run (.ci/pack-install.sh then
// runs two processes from the tarball under qemu).
//
// Per ABI, not Node-API only: native/args.cc reads a SharedArrayBuffer's data pointer through
// V8 on every line (Node-API's napi_get_arraybuffer_info refuses a SharedArrayBuffer), and on
// Node 20 native/mapping.cc also creates the external SharedArrayBuffer through V8. So each
// line gets a binary built against its own headers, from the registry package node-linux-<arch>@N
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

const CROSS = {
  x64: { env: {}, strip: 'strip', run: [] },
  arm64: {
    env: {
      CC: 'aarch64-linux-gnu-gcc',
      CXX: 'aarch64-linux-gnu-g++',
      LINK: 'aarch64-linux-gnu-g++',
      AR: 'aarch64-linux-gnu-ar',
    },
    strip: 'aarch64-linux-gnu-strip',
    run: ['qemu-aarch64-static'],
    runEnv: { QEMU_LD_PREFIX: '/usr/aarch64-linux-gnu' }, // the arm64 dynamic loader and libc
    tools: ['aarch64-linux-gnu-g++', 'aarch64-linux-gnu-strip', 'qemu-aarch64-static'],
  },
};

const onPath = (tool) => spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;

/** The directory of the registry package node-linux-<arch>@<line> (installed once into the cache). */
function nodePackage(line, arch) {
  const name = `node-linux-${arch}`;
  const prefix = path.join(cache, arch === 'x64' ? `node-${line}` : `node-${arch}-${line}`);
  const dir = path.join(prefix, 'node_modules', name);
  if (headersVersion(dir) === null) {
    fs.mkdirSync(prefix, { recursive: true });
    fs.writeFileSync(path.join(prefix, 'package.json'), '{"private":true}\n');
    const npm = process.env.npm_execpath ? [process.execPath, process.env.npm_execpath] : ['npm'];
    // --force --cpu: the package declares its cpu; here only its files are needed.
    const foreign = arch === process.arch ? [] : ['--force', `--cpu=${arch}`];
    console.log(`shmzone: fetching ${name}@${line} (headers and binary)`);
    execFileSync(npm[0], [...npm.slice(1), 'install', '--prefix', prefix, '--no-audit', '--no-fund', '--no-save', ...foreign, `${name}@${line}`], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }
  const version = headersVersion(dir);
  if (version === null || !version.startsWith(`v${line}.`)) throw new Error(`${name}@${line} in ${dir} has no Node ${line} headers`);
  return { dir, version: version.slice(1), node: path.join(dir, 'bin', 'node') };
}

function prebuildify(work, nodedir, version, arch) {
  const prebuildifyMain = require('prebuildify');
  // node-gyp reads npm_config_nodedir and the compiler variables; prebuildify passes process.env on
  const overrides = { npm_config_nodedir: nodedir, ...CROSS[arch].env };
  const saved = Object.fromEntries(Object.keys(overrides).map((key) => [key, process.env[key]]));
  Object.assign(process.env, overrides);
  const restore = () => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  };
  return new Promise((resolve, reject) => {
    prebuildifyMain(
      { cwd: work, out: root, arch, targets: [{ runtime: 'node', target: version }], tagLibc: true, strip: true, stripBin: CROSS[arch].strip, quiet: true },
      (err) => {
        restore();
        if (err) reject(err);
        else resolve();
      },
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
    const archs = ['x64'];
    const missing = CROSS.arm64.tools.filter((tool) => !onPath(tool));
    if (missing.length === 0) archs.push('arm64');
    else console.log(`shmzone: no linux-arm64 prebuilds (${missing.join(', ')} not on PATH)`);
    for (const arch of archs) {
      for (const line of LINES) {
        const target = nodePackage(line, arch);
        console.log(`shmzone: prebuilding for Node ${target.version} on linux-${arch}`);
        await prebuildify(work, target.dir, target.version, arch);
        // Load it the way the package will: node-gyp-build, prebuilds/ only, with that Node.
        const code = `const a = require('node-gyp-build')(${JSON.stringify(root)}); if (typeof a.createSegment !== 'function' || process.arch !== '${arch}') process.exit(3)`;
        const [command, ...args] = [...CROSS[arch].run, target.node, '-e', code];
        const check = spawnSync(command, args, {
          cwd: root,
          env: { ...process.env, ...CROSS[arch].runEnv, PREBUILDS_ONLY: '1' },
          stdio: 'inherit',
        });
        if (check.status !== 0) throw new Error(`the linux-${arch} Node ${target.version} prebuild did not load in its Node`);
      }
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  for (const dir of fs.readdirSync(path.join(root, 'prebuilds'))) {
    console.log(`shmzone: prebuilds/${dir}: ${fs.readdirSync(path.join(root, 'prebuilds', dir)).join(', ')}`);
  }
}

await main();
