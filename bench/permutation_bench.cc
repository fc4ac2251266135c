// Keyed Feistel permutation: materializing a whole shuffle, and random access.
#include <benchmark/benchmark.h>

#include <vector>

#include "samplers/permutation.h"

namespace urn::samplers {
namespace {

// Fills a preallocated vector with a whole keyed permutation of n per iteration.
void FillWholePermutation(benchmark::State& state, int threads) {
  const uint64_t n = static_cast<uint64_t>(state.range(0));
  std::vector<uint64_t> out(n);
  uint64_t epoch = 0;
  for (auto _ : state) {
    KeyedPermutation(n, 1, epoch++).Fill(0, n, out.data(), threads);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * n);
}

// A full keyed permutation of n materialized into a vector (allocated once and reused across
// iterations, as a server reuses its buffers), on one thread, so that the CPU time Google
// Benchmark divides by is the whole cost. items = rows.
void BM_Permutation(benchmark::State& state) { FillWholePermutation(state, 1); }
BENCHMARK(BM_Permutation)->Arg(10000000)->Unit(benchmark::kMillisecond);

// The same on 2 threads, timed by the wall clock (the output is identical to one thread's).
void BM_PermutationTwoThreads(benchmark::State& state) { FillWholePermutation(state, 2); }
BENCHMARK(BM_PermutationTwoThreads)->Arg(10000000)->Unit(benchmark::kMillisecond)->UseRealTime();

// Materialize(): a new vector per call, so the allocation and first-touch page faults of
// 80 MB are included, as they are in numpy.random.Generator.permutation(n). One thread.
void BM_PermutationMaterialize(benchmark::State& state) {
  const uint64_t n = static_cast<uint64_t>(state.range(0));
  uint64_t epoch = 0;
  for (auto _ : state) {
    std::vector<uint64_t> out = KeyedPermutation(n, 1, epoch++).Materialize(/*threads=*/1);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_PermutationMaterialize)->Arg(10000000)->Unit(benchmark::kMillisecond);

// Random access: At(i) one position at a time.
void BM_PermutationAt(benchmark::State& state) {
  const uint64_t n = static_cast<uint64_t>(state.range(0));
  const KeyedPermutation p(n, 1, 0);
  uint64_t i = 0, sum = 0;
  for (auto _ : state) {
    sum += p.At(i);
    if (++i == n) i = 0;
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PermutationAt)->Arg(10000000);

}  // namespace
}  // namespace urn::samplers
