#!/usr/bin/env bash
# The README's two quick-start commands, on a fresh Debian 12 machine as root:
#
#   bash deploy/quickstart.sh serve   # install what is missing, build, start urnd
#   bash deploy/quickstart.sh test    # install what is missing, build, run every test
#
# Both are idempotent and incremental: a second run installs nothing and rebuilds only what
# changed (ccache keeps even a fresh build directory fast).
#
# Environment:
#   BUILD_DIR      build directory (default: build)
#   URN_SANITIZE   e.g. address,undefined or thread: build with those sanitizers
#   URN_JOBS       parallel build jobs (default: number of cores)
# Extra arguments after `serve` go to urnd; after `test` they go to ctest.
set -euo pipefail

cd "$(dirname "$0")/.."
mode=${1:-}
[[ $# -gt 0 ]] && shift
case "$mode" in
  serve|test) ;;
  *) echo "usage: bash deploy/quickstart.sh serve|test [args...]" >&2; exit 2 ;;
esac

# Serving needs no PyTorch; the tests do (the `torch` label).
if [[ "$mode" == serve ]]; then bash deploy/install-deps.sh --no-torch; else bash deploy/install-deps.sh; fi

# ccache: paths relative to the checkout, so that clones in other directories share the cache.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1

build_dir=${BUILD_DIR:-build}
jobs=${URN_JOBS:-$(nproc)}
cmake_args=(-S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release)
[[ -n "${URN_SANITIZE:-}" ]] && cmake_args+=("-DURN_SANITIZE=${URN_SANITIZE}")
if [[ ! -f "$build_dir/build.ninja" || -n "${URN_SANITIZE:-}" ]]; then
  cmake "${cmake_args[@]}" >/dev/null
fi

if [[ "$mode" == serve ]]; then
  cmake --build "$build_dir" -j "$jobs" --target urnd urn
  exec "$build_dir/server/urnd" "$@"
fi

cmake --build "$build_dir" -j "$jobs"
cd "$build_dir"
ctest --output-on-failure -j "$jobs" --timeout 900 "$@"
