// npm "install" script: builds build/Release/shmzone.node with node-gyp.
//
// - Skips the build only when a prebuild for this platform exists (node-gyp-build layout:
//   prebuilds/<platform>-<arch>/*.node); otherwise ALWAYS builds, so a checkout never runs
//   against a stale binary.
// - Uses npm's own node-gyp (npm_config_node_gyp) when npm provides it, else ours.
// - Passes --nodedir=/usr when the system has Node's headers there, so nothing is downloaded
//   (CI has no internet apart from the npm registry).
// - Exits non-zero with a message that says what to install when the build fails.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function hasPrebuild() {
  const dir = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);
  let files;
  try {
    files = fs.readdirSync(dir);
  } catch {
    return false;
  }
  return files.some((f) => f.endsWith('.node') && (f.includes('napi') || f.includes(`abi${process.versions.modules}`)));
}

function nodeGypScript() {
  const fromNpm = process.env.npm_config_node_gyp;
  if (fromNpm && fs.existsSync(fromNpm)) return fromNpm;
  const local = path.join(root, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  if (fs.existsSync(local)) return local;
  try {
    return createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
  } catch {
    return null;
  }
}

function fail(message) {
  process.stderr.write(`\nshmzone: ${message}\n`);
  process.exit(1);
}

if (hasPrebuild()) {
  console.log(`shmzone: using the prebuilt addon for ${process.platform}-${process.arch}`);
  process.exit(0);
}

const gyp = nodeGypScript();
if (gyp === null) fail('node-gyp was not found (neither npm_config_node_gyp nor node_modules/node-gyp); run "npm install node-gyp".');

const args = [gyp, 'rebuild'];
// A nodedir given by the user (npm config / env) wins; else use system headers when present.
const userNodedir = process.env.npm_config_nodedir;
if (userNodedir) args.push(`--nodedir=${userNodedir}`);
else if (fs.existsSync('/usr/include/node/node_api.h')) args.push('--nodedir=/usr');

console.log(`shmzone: building the native addon: node ${args.map((a) => JSON.stringify(a)).join(' ')}`);
const result = spawnSync(process.execPath, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
if (result.error) fail(`could not run node-gyp: ${result.error.message}`);
if (result.status !== 0) {
  fail(
    `building the native addon failed (node-gyp exited with ${result.status ?? result.signal}).\n` +
      'It needs python3, make and a C++17 compiler (Debian/Ubuntu: apt-get install python3 make g++),\n' +
      "and Node's headers (found in /usr/include/node, or downloaded by node-gyp).",
  );
}
const out = path.join(root, 'build', 'Release', 'shmzone.node');
if (!fs.existsSync(out)) fail(`node-gyp reported success but ${out} does not exist.`);
console.log(`shmzone: built ${path.relative(root, out)}`);
