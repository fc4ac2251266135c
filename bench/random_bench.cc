// Cost of the counter-based generator that every sampler draws from.
#include <benchmark/benchmark.h>

#include "random/counter_rng.h"

namespace urn::random {
namespace {

void BM_CounterRngUniform(benchmark::State& state) {
  KeyedStream s(1, Stream::kUniformWithReplacement);
  uint64_t key = 0;
  double sum = 0;
  for (auto _ : state) {
    for (int i = 0; i < 1024; ++i) sum += s.Uniform(key++);
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(state.iterations() * 1024);
}
BENCHMARK(BM_CounterRngUniform);

void BM_CounterRngBounded(benchmark::State& state) {
  KeyedStream s(1, Stream::kUniformWithReplacement);
  const uint64_t n = static_cast<uint64_t>(state.range(0));
  uint64_t key = 0, sum = 0;
  for (auto _ : state) {
    for (int i = 0; i < 1024; ++i) sum += s.Bounded(key++, n);
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(state.iterations() * 1024);
}
BENCHMARK(BM_CounterRngBounded)->Arg(1000)->Arg(10000000);

}  // namespace
}  // namespace urn::random
