// npm "install" script: builds build/Release/shmzone.node with node-gyp.
//
// - Skips the build only in an installed package (not a git checkout) where node-gyp-build
//   would load a prebuild (prebuilds/, shipped by `npm pack`, see native/prebuild.mjs);
//   otherwise ALWAYS builds: a checkout may hold prebuilds of older sources, and a stale
//   build/Release, which node-gyp-build loads before any prebuild.
// - Uses npm's own node-gyp (npm_config_node_gyp) when npm provides it, else ours.
// - Headers: see nodeHeaders() below; never another Node line's.
// - Exits non-zero with a message that says what to install when the build fails.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

function hasPrebuild() {
  // Ask node-gyp-build itself (the runtime loader), looking at prebuilds/ only.
  process.env.PREBUILDS_ONLY = '1';
  try {
    require('node-gyp-build').resolve(root);
    return true;
  } catch {
    return false;
  } finally {
    delete process.env.PREBUILDS_ONLY;
  }
}

/** "v22.3.1" as written in <nodedir>/include/node/node_version.h, or null. */
export function headersVersion(nodedir) {
  let text;
  try {
    text = fs.readFileSync(path.join(nodedir, 'include', 'node', 'node_version.h'), 'utf8');
  } catch {
    return null;
  }
  const part = (name) => new RegExp(`#define\\s+NODE_${name}_VERSION\\s+(\\d+)`).exec(text)?.[1];
  const [major, minor, patch] = ['MAJOR', 'MINOR', 'PATCH'].map(part);
  return major && minor && patch && fs.existsSync(path.join(nodedir, 'include', 'node', 'node_api.h'))
    ? `v${major}.${minor}.${patch}`
    : null;
}

/**
 * The --nodedir for the running Node, in this order: the running Node's own prefix (official
 * tarballs, nvm, the node-linux-* packages ship include/node), /usr when its headers are exactly
 * this version (Debian's nodejs + libnode-dev), a nodedir the user configured; else null, and
 * node-gyp downloads the headers for process.version. Headers of another version would build an
 * addon for the wrong ABI (or the wrong Node-API feature set: native/detect-napi.mjs).
 */
function nodeHeaders() {
  const prefix = path.dirname(path.dirname(process.execPath));
  if (headersVersion(prefix) === process.version) return { nodedir: prefix, why: "the running Node's prefix" };
  if (headersVersion('/usr') === process.version) return { nodedir: '/usr', why: `/usr/include/node (${process.version})` };
  const userNodedir = process.env.npm_config_nodedir;
  if (userNodedir) {
    const version = headersVersion(userNodedir);
    if (version !== null && version.split('.')[0] !== process.version.split('.')[0]) {
      fail(`the configured nodedir ${userNodedir} has headers of Node ${version}, but this is Node ${process.version}.`);
    }
    return { nodedir: userNodedir, why: 'the configured nodedir' };
  }
  return { nodedir: null, why: `node-gyp's download for ${process.version}` };
}

function nodeGypScript() {
  const fromNpm = process.env.npm_config_node_gyp;
  if (fromNpm && fs.existsSync(fromNpm)) return fromNpm;
  const local = path.join(root, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  if (fs.existsSync(local)) return local;
  try {
    return require.resolve('node-gyp/bin/node-gyp.js');
  } catch {
    return null;
  }
}

function fail(message) {
  process.stderr.write(`\nshmzone: ${message}\n`);
  process.exit(1);
}

function main() {
  if (!fs.existsSync(path.join(root, '.git')) && hasPrebuild()) {
    console.log(`shmzone: using the prebuilt addon for ${process.platform}-${process.arch}, Node ${process.version}`);
    return;
  }
  const gyp = nodeGypScript();
  if (gyp === null) fail('node-gyp was not found (neither npm_config_node_gyp nor node_modules/node-gyp); run "npm install node-gyp".');

  const headers = nodeHeaders();
  const args = [gyp, 'rebuild'];
  if (headers.nodedir !== null) args.push(`--nodedir=${headers.nodedir}`);
  console.log(`shmzone: building the native addon with the headers from ${headers.why}: node ${args.map((a) => JSON.stringify(a)).join(' ')}`);
  const result = spawnSync(process.execPath, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.error) fail(`could not run node-gyp: ${result.error.message}`);
  if (result.status !== 0) {
    fail(
      `building the native addon failed (node-gyp exited with ${result.status ?? result.signal}).\n` +
        'It needs python3, make and a C++ compiler (Debian/Ubuntu: apt-get install python3 make g++),\n' +
        `and Node ${process.version}'s headers (from ${headers.why}; or set npm_config_nodedir).`,
    );
  }
  const out = path.join(root, 'build', 'Release', 'shmzone.node');
  if (!fs.existsSync(out)) fail(`node-gyp reported success but ${out} does not exist.`);
  console.log(`shmzone: built ${path.relative(root, out)}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
