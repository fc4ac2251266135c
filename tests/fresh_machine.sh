#!/usr/bin/env bash
# Fresh-machine proof: runs the README's test command (bash deploy/quickstart.sh test) on a
# clean checkout of HEAD inside a fresh debian:bookworm-slim container, as root, with nothing
# preinstalled. Needs podman (see ../shared/CONTAINERS.md); not part of CI (it takes minutes).
#
#   bash tests/fresh_machine.sh          # prints the elapsed time and the test summary
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
shared=${URN_SHARED:-$repo/../shared}
# shellcheck source=/dev/null
source "$shared/containers/podman-env.sh"

work=$(mktemp -d /var/tmp/urn-fresh.XXXXXX)
name=urn-fresh-$$
cleanup() {
  podman rm -f "$name" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

git -C "$repo" archive --format=tar HEAD | tar -C "$work" -xf -
start=$(date +%s)
# Not under `set -e` here: a failing run must still print its status line below.
set +e
podman run --name "$name" --network=host --pull=never -v "$work:/src" -w /src \
  debian:bookworm-slim bash -c 'bash deploy/quickstart.sh test' 2>&1 | tee "$work.log" | tail -n 25
status=${PIPESTATUS[0]}
set -e
echo "fresh-machine: exit ${status} after $(( $(date +%s) - start ))s (full log: $work.log)"
exit "$status"
