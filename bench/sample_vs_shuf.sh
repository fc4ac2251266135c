#!/usr/bin/env bash
# Times `urn sample` in every mode on a 10M-line, ~350 MB TSV (id, label, weight, user) next to
# GNU shuf and sort -R where they apply, with wall time and peak memory (GNU time's max RSS).
#
#   bash bench/sample_vs_shuf.sh [URN_BINARY] [ROWS]
#
# The data file is generated once (deterministically) under ${URN_BENCH_DIR:-/var/tmp}. Each
# command runs 3 times; the best wall time and its peak RSS are printed. Output goes to
# /dev/null, so times are for reading, sampling and writing.
set -euo pipefail
urn=${1:-build/client/urn}
rows=${2:-10000000}
dir=${URN_BENCH_DIR:-/var/tmp}
data="$dir/urn-bench-$rows.tsv"
command -v /usr/bin/time >/dev/null || { echo "needs GNU time (apt-get install time)" >&2; exit 1; }

if [[ ! -s "$data" ]]; then
  echo "generating $data ..." >&2
  awk -v n="$rows" 'BEGIN {
    srand(20261122);
    printf "id\tlabel\tweight\tuser\n";
    for (i = 0; i < n; i++)
      printf "%d\tlabel_%d\t%.6f\tuser%06d\n", i, int(rand() * 14), rand() * 100, int(rand() * 200000);
  }' > "$data.tmp" && mv "$data.tmp" "$data"
fi
size_mb=$(( $(stat -c %s "$data") / 1000000 ))
cat "$data" > /dev/null  # warm the page cache

best() {  # prints "seconds peak_mb" of the fastest of 3 runs
  local best_s="" best_kb=""
  for _ in 1 2 3; do
    local out
    out=$( { /usr/bin/time -f '%e %M' "$@" > /dev/null; } 2>&1 | tail -n 1)
    local s=${out% *} kb=${out#* }
    if [[ -z "$best_s" ]] || awk -v a="$s" -v b="$best_s" 'BEGIN{exit !(a < b)}'; then
      best_s=$s best_kb=$kb
    fi
  done
  printf '%6.2f s %6d MB' "$best_s" $(( best_kb / 1024 ))
}

printf 'data: %s (%d rows, %d MB)\n\n' "$data" "$rows" "$size_mb"
printf '%-34s %-20s %-20s %s\n' mode "urn sample" "GNU shuf" "tsv-sample (issue figure)"
row() {  # name, tsv-sample figure, urn args..., [-- other command...]
  local name=$1 ref=$2; shift 2
  local urn_args=() other=()
  while [[ $# -gt 0 && $1 != -- ]]; do urn_args+=("$1"); shift; done
  [[ $# -gt 0 ]] && { shift; other=("$@"); }
  local u o="-"
  u=$(best "$urn" sample -H -s "${urn_args[@]}" "$data")
  [[ ${#other[@]} -gt 0 ]] && o=$(best "${other[@]}")
  printf '%-34s %-20s %-20s %s\n' "$name" "$u" "$o" "$ref"
}
row "shuffle"                  "3.50 s, 500 MB" -- shuf "$data"
row "shuffle (sort -R)"        "-"              -- sort -R "$data"
row "-n 1000"                  "0.22 s"         -n 1000 -- shuf -n 1000 "$data"
row "-n 1000 -w weight"        "1.40 s"         -n 1000 -w weight
row "-p 0.1"                   "0.31 s"         -p 0.1
row "-k user -p 0.1"           "0.52 s"         -k user -p 0.1
row "-r -n 1000000"            "1.90 s"         -r -n 1000000 -- shuf -r -n 1000000 "$data"
row "-r -n 1000000 -w weight"  "-"              -r -n 1000000 -w weight
row "-w weight (weighted shuffle)" "-"          -w weight
row "-k user -p 0.1 --min-per-key 3" "-"        -k user -p 0.1 --min-per-key 3
