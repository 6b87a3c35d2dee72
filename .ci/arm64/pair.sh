#!/usr/bin/env bash
# Usage: .ci/arm64/pair.sh <arm64 node> <dir>: under qemu-user-static, two arm64 processes run
# <dir>/dict-pair.mjs (cwd <dir>) and share a dict. The shell starts both: without binfmt_misc
# an arm64 node cannot spawn another arm64 node itself. The arm64 loader and libc come from
# /usr/aarch64-linux-gnu (libc6-arm64-cross, which g++-aarch64-linux-gnu installs).
set -euo pipefail
node_arm64=(qemu-aarch64-static "$1")
cd "$2"
export QEMU_LD_PREFIX=/usr/aarch64-linux-gnu
ready="$(mktemp -u)"
namespace="arm$$"
PACK_NAMESPACE="$namespace" READY_FILE="$ready" timeout 300 "${node_arm64[@]}" dict-pair.mjs &
first=$!
for _ in $(seq 1 120); do [ -e "$ready" ] && break; sleep 1; done
[ -e "$ready" ] || { echo "the first arm64 process did not start its zone"; kill "$first"; exit 1; }
rm -f "$ready"
PACK_NAMESPACE="$namespace" timeout 300 "${node_arm64[@]}" dict-pair.mjs second
wait "$first"
