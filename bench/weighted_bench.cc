// Weighted samplers: without replacement (exponential keys), alias tables, Poisson arrivals and
// the weighted shuffle. Weights are uniform on (0, 1], generated once per population size.
// Multithreaded benchmarks report the calling thread's CPU time in the CPU column and
// items_per_second; the Time column (wall clock) is the figure to compare.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <map>
#include <span>
#include <vector>

#include "random/counter_rng.h"
#include "samplers/alias_table.h"
#include "samplers/exponential_key_filter.h"
#include "samplers/poisson_arrivals.h"
#include "samplers/weighted_shuffle.h"
#include "samplers/weighted_without_replacement.h"

namespace urn::samplers {
namespace {

const std::vector<double>& Weights(uint64_t n) {
  static std::map<uint64_t, std::vector<double>> cache;
  std::vector<double>& w = cache[n];
  if (w.size() != n) {
    const random::KeyedStream s(2026, random::Stream::kUniformWithReplacement);
    w.resize(n);
    for (uint64_t i = 0; i < n; ++i) w[i] = s.Uniform(i);
  }
  return w;
}

// The candidate filter alone on 64Ki rows (512 KiB of weights, cache resident), one build per
// instruction set: 0 baseline, 1 AVX2, 2 AVX-512. Threshold as after ~1000 of 10M rows.
void BM_ExponentialKeyFilter(benchmark::State& state) {
  const auto isa = static_cast<internal::FilterIsa>(state.range(0));
  if (!internal::FilterIsaSupported(isa)) {
    state.SkipWithError("instruction set not supported here");
    return;
  }
  const uint64_t n = 1 << 16;
  const std::vector<double>& w = Weights(n);
  std::vector<uint32_t> out(n);
  internal::FilterBlock block;
  block.weights = w.data();
  block.count = n;
  const double scale = internal::FilterScale(2e-4);
  for (auto _ : state) {
    ++block.base;
    benchmark::DoNotOptimize(internal::FilterCandidates(isa, block, scale, out.data()));
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_ExponentialKeyFilter)->DenseRange(0, 2);

// Runs sample(weights, options) with a fresh seed per iteration on n = range(0) rows; items =
// rows.
template <typename Sampler>
void RunSampler(benchmark::State& state, int threads, Sampler sample) {
  const uint64_t n = state.range(0);
  const std::vector<double>& w = Weights(n);
  WeightedOptions options;
  options.threads = threads;
  for (auto _ : state) {
    ++options.seed;
    auto result = sample(w, options);
    benchmark::DoNotOptimize(result->rows.data());
  }
  state.SetItemsProcessed(state.iterations() * n);
}

// k = range(1) of n rows, two threads; items = rows scanned. CPU time is the calling thread's,
// which scans one of the two chunks; compare_numpy.py reports wall time.
void BM_WeightedWithoutReplacement(benchmark::State& state) {
  const uint64_t k = state.range(1);
  RunSampler(state, 2, [k](std::span<const double> w, const WeightedOptions& options) {
    return WeightedSampleWithoutReplacement(w, k, options);
  });
}
BENCHMARK(BM_WeightedWithoutReplacement)->Args({10000000, 1000})->Args({1000000, 100000});

// The same scan on one thread.
void BM_WeightedWithoutReplacementOneThread(benchmark::State& state) {
  const uint64_t k = state.range(1);
  RunSampler(state, 1, [k](std::span<const double> w, const WeightedOptions& options) {
    return WeightedSampleWithoutReplacement(w, k, options);
  });
}
BENCHMARK(BM_WeightedWithoutReplacementOneThread)->Args({10000000, 1000});

// Alias table construction; items = rows.
void BM_AliasBuild(benchmark::State& state) {
  const uint64_t n = state.range(0);
  const std::vector<double>& w = Weights(n);
  for (auto _ : state) {
    auto table = AliasTable::Build(w);
    benchmark::DoNotOptimize(table->size());
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_AliasBuild)->Arg(1000)->Arg(1000000)->Arg(10000000);

// Draws from a built table of n rows, 4096 per batch; items = draws.
void BM_AliasSample(benchmark::State& state) {
  const uint64_t n = state.range(0);
  const AliasTable table = *AliasTable::Build(Weights(n));
  std::vector<uint64_t> out(4096);
  uint64_t draw = 0;
  for (auto _ : state) {
    table.Draw(1, draw, out);
    draw += out.size();
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * out.size());
}
BENCHMARK(BM_AliasSample)->Arg(1000)->Arg(1000000)->Arg(10000000);

// m = range(1) draws with replacement from n rows by Poisson arrivals, two threads; items =
// rows scanned.
void BM_PoissonArrivals(benchmark::State& state) {
  const uint64_t m = state.range(1);
  RunSampler(state, 2, [m](std::span<const double> w, const WeightedOptions& options) {
    return PoissonArrivalsSample(w, m, options);
  });
}
BENCHMARK(BM_PoissonArrivals)->Args({10000000, 1000})->Args({1000000, 100000});

// Weighted shuffle of n rows, two threads; items = rows.
void BM_WeightedShuffle(benchmark::State& state) {
  RunSampler(state, 2, [](std::span<const double> w, const WeightedOptions& options) {
    return WeightedShuffle(w, options);
  });
}
BENCHMARK(BM_WeightedShuffle)->Arg(1000000)->Arg(10000000);

}  // namespace
}  // namespace urn::samplers
