#!/usr/bin/env bash
# Builds a reader fuzz target with clang's libFuzzer, ASan and UBSan into build-fuzz/ and runs
# it for SECONDS on one core, starting from (and adding to) tests/fuzz/corpus/TARGET.
# Crashes are written to build-fuzz/artifacts/TARGET/.
#   tests/fuzz/build_and_run.sh fuzz_csv_reader 600
#   tests/fuzz/build_and_run.sh fuzz_query 600     (the query lexer, parser, planner, evaluator)
#   tests/fuzz/build_and_run.sh fuzz_table_codec 600   (the dataset block codec, damaged blocks)
#   tests/fuzz/build_and_run.sh fuzz_weight_store_codec 600   (weight store snapshot and log)
# Needs Debian's clang and its runtime: apt-get install -y clang libclang-rt-14-dev
set -euo pipefail
if [[ $# -lt 2 ]]; then
  echo "usage: $0 TARGET SECONDS [extra libFuzzer flags]" >&2
  exit 2
fi
target=$1
seconds=$2
shift 2
root=$(cd "$(dirname "$0")/../.." && pwd)
out="$root/build-fuzz"
mkdir -p "$out/artifacts/$target" "$out/corpus/$target"
CXX=${CXX:-clang++}
# Every table source (and the record framing its block codec uses), so a new helper file can
# never be missing from the link.
srcs=("$root"/src/table/*.cc "$root"/src/codec/*.cc)
libs=(-lxxhash)
if [[ $target == fuzz_query ]]; then
  # The query engine runs the core samplers: src/query, src/samplers, src/random, and the table;
  # the alias table lives on PageArray memory (src/weights/page_array.cc).
  srcs+=("$root"/src/query/*.cc "$root"/src/samplers/*.cc "$root"/src/random/*.cc
    "$root"/src/weights/page_array.cc)
fi
if [[ $target == fuzz_weight_store_codec ]]; then
  # The weight store, its sum tree and codec, and the keyed random streams its draws use.
  srcs+=("$root"/src/weights/*.cc "$root"/src/random/*.cc)
fi
# shellcheck disable=SC2046
"$CXX" -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I"$root/src" -I"$root/tests/fuzz" "$root/tests/fuzz/$target.cc" "${srcs[@]}" \
  $(pkg-config --libs absl_status absl_statusor absl_strings absl_flat_hash_map \
    absl_flat_hash_set absl_hash absl_cord absl_str_format absl_synchronization) "${libs[@]}" \
  -o "$out/$target"
# New inputs go to build-fuzz/corpus/TARGET; the committed seeds are read-only input.
exec "$out/$target" -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 -artifact_prefix="$out/artifacts/$target/" "$@" \
  "$out/corpus/$target" "$root/tests/fuzz/corpus/$target"
