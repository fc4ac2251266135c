#!/usr/bin/env bash
# Installs every Debian package that urn's build, tests and benchmarks need.
#
#   bash deploy/install-deps.sh            build, test and benchmark dependencies
#   bash deploy/install-deps.sh --no-torch the same without PyTorch (the image's build stage)
#   bash deploy/install-deps.sh --runtime  only the shared libraries urnd and urn run with
#                                          (the container image's runtime stage)
#
# This is the only place in the repository that names packages. It is idempotent: when every
# package is already installed it prints nothing and exits 0 at once; otherwise it runs
# `apt-get update` and `apt-get install`, shows apt's output, and exits non-zero if anything
# cannot be installed. Run it as root (or through sudo) on Debian 12 (bookworm).
set -euo pipefail

runtime_packages=(
  libgrpc++1.51 libgrpc29 libprotobuf32 libabsl20220623 libspdlog1.10 libfmt9 libssl3
  libyaml-cpp0.7 libxxhash0 libc-ares2 libre2-9 libsnappy1v5 liblz4-1 libzstd1 libbz2-1.0
  zlib1g libcivetweb1 ca-certificates
)

build_packages=(
  # toolchain
  g++ cmake ninja-build ccache pkg-config git ca-certificates
  # libraries (see CMakeLists.txt)
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler grpc-proto
  libabsl-dev libspdlog-dev libfmt-dev libcli11-dev libxxhash-dev libyaml-cpp-dev
  libgtest-dev libgmock-dev libbenchmark-dev librocksdb-dev libssl-dev libcivetweb-dev
  # tests and benchmark scripts: the Python client (client/python) needs python3-grpcio and
  # python3-protobuf, the manifest test (tests/deploy) python3-yaml
  python3 python3-numpy python3-grpcio python3-protobuf python3-yaml procps time openssl
  # fuzzing (tests/fuzz): clang with libFuzzer and the sanitizer runtimes
  clang libclang-rt-14-dev
)

# PyTorch (~150 MB) for the `torch` tests; the image's build stage runs only unit tests and
# skips it with --no-torch.
torch_packages=(python3-torch)

case "${1:-}" in
  "") packages=("${build_packages[@]}" "${torch_packages[@]}") ;;
  --no-torch) packages=("${build_packages[@]}") ;;
  --runtime) packages=("${runtime_packages[@]}") ;;
  *) echo "usage: install-deps.sh [--no-torch|--runtime]" >&2; exit 2 ;;
esac

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then exec sudo -E "$0" "$@"; fi
  echo "install-deps: missing packages (${missing[*]}) and not root; rerun as root" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
if ! apt-get update; then
  echo "install-deps: apt-get update failed" >&2
  exit 1
fi
if ! apt-get install -y --no-install-recommends "${missing[@]}"; then
  echo "install-deps: apt-get install failed for: ${missing[*]}" >&2
  exit 1
fi
