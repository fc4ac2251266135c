#!/usr/bin/python3
"""urn's weighted sample and permutation against numpy's vectorized equivalents, in one run.

Usage: /usr/bin/python3 bench/compare_numpy.py [path/to/urn_bench] [--repetitions N]

Runs urn_bench on
  BM_WeightedWithoutReplacement/10000000/1000  (1000 of 10M weighted rows, exponential keys)
  BM_Permutation/10000000                      (a permutation of 10M indices)
and times numpy on the same tasks:
  -np.log(1 - rng.random(n)) / w  followed by  np.argpartition(keys, k)[:k]
  rng.permutation(n)
Figures are wall-clock ns per row (urn: the benchmark's real_time per iteration / n, so the
threads urn uses are counted in full). Both sides report the best and the median of N
repetitions; speedups are numpy / urn. The issue's targets: >= 10x (weighted), >= 3x
(permutation).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

N = 10_000_000
K = 1000
CASES = [
    # (label, benchmark name, rows per iteration, target speedup)
    ("weighted sample 1000 of 10M", "BM_WeightedWithoutReplacement/10000000/1000", N, 10.0),
    ("permutation of 10M", "BM_Permutation/10000000", N, 3.0),
]


def run_urn(binary, repetitions):
    """Returns {benchmark name: [ns per iteration (wall) for each repetition]}."""
    names = "|".join(name + "$" for _, name, _, _ in CASES)
    cmd = [binary, "--benchmark_filter=" + names, "--benchmark_format=json",
           "--benchmark_repetitions=%d" % repetitions]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    times = {}
    scale = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}
    for b in json.loads(out).get("benchmarks", []):
        if b.get("run_type", "iteration") != "iteration":
            continue
        name = b.get("run_name", b["name"])
        times.setdefault(name, []).append(b["real_time"] * scale[b.get("time_unit", "ns")])
    return times


def time_numpy(fn, repetitions):
    """[seconds per call for each repetition], after one warm-up call."""
    fn()
    result = []
    for _ in range(repetitions):
        start = time.perf_counter()
        fn()
        result.append(time.perf_counter() - start)
    return result


def numpy_times(repetitions):
    rng = np.random.default_rng(2026)
    w = 1.0 - rng.random(N)  # weights in (0, 1], in memory like urn's

    def weighted():
        keys = -np.log(1 - rng.random(N)) / w
        return np.argpartition(keys, K)[:K]

    def permutation():
        return rng.permutation(N)

    return {
        "BM_WeightedWithoutReplacement/10000000/1000": [t * 1e9 for t in time_numpy(weighted, repetitions)],
        "BM_Permutation/10000000": [t * 1e9 for t in time_numpy(permutation, repetitions)],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("urn_bench", nargs="?", default="build/bench/urn_bench")
    parser.add_argument("--repetitions", type=int, default=5)
    args = parser.parse_args()
    if not os.access(args.urn_bench, os.X_OK):
        sys.exit("urn_bench not found or not executable: %s" % args.urn_bench)

    urn = run_urn(args.urn_bench, args.repetitions)
    ref = numpy_times(args.repetitions)
    load = os.getloadavg()
    print("numpy %s, %d repetitions, load average %.2f %.2f %.2f (on %d CPUs)"
          % (np.__version__, args.repetitions, *load, os.cpu_count()))
    header = "%-30s %21s %21s %17s %7s %s" % (
        "task (ns/row, wall)", "urn best / median", "numpy best / median",
        "speedup best/med", "target", "")
    print(header)
    print("-" * len(header))
    for label, name, rows, target in CASES:
        n_best, n_med = min(ref[name]) / rows, statistics.median(ref[name]) / rows
        if name not in urn:
            print("%-30s %21s %9.2f / %9.2f %17s %6.0fx" % (label, "not built", n_best, n_med, "-", target))
            continue
        u_best, u_med = min(urn[name]) / rows, statistics.median(urn[name]) / rows
        best_ratio, med_ratio = n_best / u_best, n_med / u_med
        verdict = "meets target" if med_ratio >= target else "BELOW target"
        print("%-30s %9.3f / %9.3f %9.2f / %9.2f %7.1fx / %6.1fx %6.0fx %s"
              % (label, u_best, u_med, n_best, n_med, best_ratio, med_ratio, target, verdict))


if __name__ == "__main__":
    main()
