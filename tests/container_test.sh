#!/usr/bin/env bash
# Container proof: builds the image from the Dockerfile as it stands (podman; see
# ../shared/CONTAINERS.md), runs it with a temporary data volume and --network=host on free
# ports, waits for its HEALTHCHECK command to pass, does a dataset create and sample round trip
# with the host's `urn` and the admin key from the volume, checks /metrics, stops the container
# and expects exit code 0. Reports the image's size. Not part of CI: a cold image build takes
# many minutes on two cores.
#
#   bash tests/container_test.sh     # needs a built tree (build/client/urn) for the host's urn
#
# The README's container commands, as this script runs them (with its own names and ports):
#   podman build --format docker --network=host -t urn:dev .
#   podman run -d --name urn --network=host -v urn-data:/var/lib/urn urn:dev --metrics-listen ...
#   podman exec urn cat /var/lib/urn/admin.key
#   podman stop urn
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
shared=${URN_SHARED:-$repo/../shared}
build=${URN_BUILD_DIR:-$repo/build}
urn="$build/client/urn"
[[ -x "$urn" ]] || { echo "container_test: build the tree first ($urn missing)" >&2; exit 2; }
# shellcheck source=/dev/null
source "$shared/containers/podman-env.sh"

image=urn:container-test
name=urn-container-test-$$
volume=urn-container-test-$$
work=$(mktemp -d)
cleanup() {
  podman rm -f "$name" >/dev/null 2>&1 || true
  podman volume rm -f "$volume" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "container_test: FAIL: $*" >&2; podman logs "$name" 2>&1 | tail -n 30 >&2 || true; exit 1; }
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start=$(date +%s)
# --format docker: the OCI format has no HEALTHCHECK, and podman would drop the Dockerfile's.
podman build --format docker --network=host --pull=never -t "$image" "$repo"
echo "container_test: image built in $(( $(date +%s) - start ))s"
size=$(podman image inspect "$image" --format '{{.Size}}')
echo "container_test: image size $(( size / 1024 / 1024 )) MiB"
podman run --rm --network=host --entrypoint sh "$image" -c \
  'id -u; ! command -v g++ && ! command -v cc && ! ls /usr/include/grpcpp 2>/dev/null' \
  > "$work/inside" || fail "the runtime image has a compiler or -dev headers"
[[ $(head -n 1 "$work/inside") == 10001 ]] || fail "the image does not run as uid 10001"
check=$(podman image inspect "$image" --format '{{json .Config.Healthcheck}}')
[[ "$check" == *'"urn","--server","127.0.0.1:50051","--timeout","2","health"'* ]] ||
  fail "the image has no HEALTHCHECK running urn health: $check"
[[ $(podman image inspect "$image" --format '{{.Config.User}}') == 10001:10001 ]] ||
  fail "the image's user is not 10001:10001"
[[ $(podman image inspect "$image" --format '{{json .Config.Volumes}}') == *'/var/lib/urn'* ]] ||
  fail "no /var/lib/urn volume"

port=$(free_port)
metrics=$(free_port)
podman volume create "$volume" >/dev/null
# The image's HEALTHCHECK targets the default port; on a free port the same command gets it.
podman run -d --name "$name" --network=host -v "$volume:/var/lib/urn" \
  --health-cmd "urn --server 127.0.0.1:$port --timeout 2 health" --health-interval 1s \
  "$image" --listen "0.0.0.0:$port" --metrics-listen "127.0.0.1:$metrics" >/dev/null

# Wait (bounded) for the HEALTHCHECK command to pass inside the container.
healthy=""
for _ in $(seq 120); do
  if podman healthcheck run "$name" >/dev/null 2>&1; then healthy=yes; break; fi
  sleep 0.5
done
[[ -n "$healthy" ]] || fail "never healthy"
echo "container_test: healthy"

podman exec "$name" cat /var/lib/urn/admin.key > "$work/admin.key" || fail "no admin key in the volume"
u() { "$urn" --server "127.0.0.1:$port" --key-file "$work/admin.key" "$@"; }
printf 'id\tlabel\n' > "$work/rows.tsv"
for i in $(seq 0 999); do printf '%d\tl%d\n' "$i" $(( i % 3 )); done >> "$work/rows.tsv"
u datasets create rows "$work/rows.tsv" -H || fail "datasets create"
lines=$(u sample --dataset rows -n 10 -v 1 | wc -l)
[[ "$lines" == 10 ]] || fail "sample returned $lines rows, not 10"
local_rows=$("$urn" sample -n 10 -v 1 <(tail -n +2 "$work/rows.tsv") | cut -f1 | tr '\n' ' ')
remote_rows=$(u sample --dataset rows -n 10 -v 1 | cut -f1 | tr '\n' ' ')
[[ "$local_rows" == "$remote_rows" ]] || fail "remote sample differs from the local one"
echo "container_test: dataset round trip ok"

curl_metrics() {
  /usr/bin/python3 -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())' \
    "http://127.0.0.1:$metrics/metrics"
}
curl_metrics > "$work/metrics" || fail "GET /metrics"
grep -q '^urn_grpc_requests_total{.*method="/urn.v1.Datasets/CreateDataset".*code="OK".*} 1' "$work/metrics" ||
  grep -q '^urn_grpc_requests_total{.*code="OK".*method="/urn.v1.Datasets/CreateDataset".*} 1' "$work/metrics" ||
  fail "/metrics lacks the CreateDataset count"
grep -q '^urn_rows_sampled_total{.*} 20' "$work/metrics" || fail "/metrics lacks 20 rows sampled"
if grep -q "$(cut -c1-20 "$work/admin.key")" "$work/metrics"; then fail "a key in /metrics"; fi
echo "container_test: /metrics ok ($(grep -c '^urn_' "$work/metrics") samples)"

podman stop -t 30 "$name" >/dev/null
code=$(podman inspect "$name" --format '{{.State.ExitCode}}')
[[ "$code" == 0 ]] || fail "exit code $code after SIGTERM"
echo "container_test: stopped cleanly (exit 0); PASS in $(( $(date +%s) - start ))s"
