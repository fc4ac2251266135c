// Part-A samplers: one benchmark each. items = rows of the population processed (for the
// samplers that read every row) or rows drawn (with replacement), as stated per benchmark.
#include <benchmark/benchmark.h>

#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "samplers/bernoulli.h"
#include "samplers/distinct.h"
#include "samplers/reservoir.h"
#include "samplers/shuffle.h"
#include "samplers/stratified.h"
#include "samplers/uniform_with_replacement.h"
#include "samplers/uniform_without_replacement.h"
#include "samplers/universe.h"

namespace urn::samplers {
namespace {

// k draws with replacement from n; items = draws.
void BM_UniformWithReplacement(benchmark::State& state) {
  const uint64_t n = state.range(0), k = state.range(1);
  uint64_t seed = 0;
  for (auto _ : state) {
    Sample s = UniformWithReplacement(n, seed++).Take(k, false);
    benchmark::DoNotOptimize(s.rows.data());
  }
  state.SetItemsProcessed(state.iterations() * k);
}
BENCHMARK(BM_UniformWithReplacement)->Args({10000000, 1000000});

// k of n without replacement (hashed partial Fisher-Yates: O(k), independent of n);
// items = rows sampled.
void BM_UniformWithoutReplacement(benchmark::State& state) {
  const uint64_t n = state.range(0), k = state.range(1);
  uint64_t seed = 0;
  for (auto _ : state) {
    Sample s = SampleUniformWithoutReplacement(n, k, {.seed = seed++});
    benchmark::DoNotOptimize(s.rows.data());
  }
  state.SetItemsProcessed(state.iterations() * k);
}
BENCHMARK(BM_UniformWithoutReplacement)->Args({10000000, 1000})->Args({10000000, 100000});

// Materialized Fisher-Yates shuffle of n; items = rows.
void BM_Shuffle(benchmark::State& state) {
  const uint64_t n = state.range(0);
  uint64_t seed = 0;
  for (auto _ : state) {
    std::vector<uint64_t> v = Shuffle(n, seed++);
    benchmark::DoNotOptimize(v.data());
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_Shuffle)->Arg(10000000)->Unit(benchmark::kMillisecond);

// Bernoulli(p = 0.1) over n rows, 1 thread; items = rows of the population.
void BernoulliOverRows(benchmark::State& state, bool compatibility_mode) {
  const uint64_t n = state.range(0);
  uint64_t seed = 0;
  for (auto _ : state) {
    auto s = SampleBernoulli(n, 0.1, {.seed = seed++, .compatibility_mode = compatibility_mode});
    benchmark::DoNotOptimize(s->rows.data());
  }
  state.SetItemsProcessed(state.iterations() * n);
}

// Skip mode: one draw per kept row.
void BM_Bernoulli(benchmark::State& state) { BernoulliOverRows(state, false); }
BENCHMARK(BM_Bernoulli)->Arg(10000000)->Unit(benchmark::kMillisecond);

// Compatibility mode: one draw per row.
void BM_BernoulliCompatibility(benchmark::State& state) { BernoulliOverRows(state, true); }
BENCHMARK(BM_BernoulliCompatibility)->Arg(10000000)->Unit(benchmark::kMillisecond);

// The streaming filter asked about every row, as the command line does; items = rows.
void BM_BernoulliFilter(benchmark::State& state) {
  const uint64_t n = state.range(0);
  uint64_t seed = 0;
  for (auto _ : state) {
    auto f = BernoulliFilter::Create(0.1, {.seed = seed++});
    uint64_t kept = 0;
    for (uint64_t i = 0; i < n; ++i) kept += f->Keep(i);
    benchmark::DoNotOptimize(kept);
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_BernoulliFilter)->Arg(10000000)->Unit(benchmark::kMillisecond);

// Reservoir of k from a stream of n, offering every row (no skips); items = rows.
void BM_Reservoir(benchmark::State& state) {
  const uint64_t n = state.range(0), k = state.range(1);
  uint64_t seed = 0;
  for (auto _ : state) {
    ReservoirSampler r(k, seed++);
    for (uint64_t i = 0; i < n; ++i) r.Offer();
    benchmark::DoNotOptimize(r.slots().data());
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_Reservoir)->Args({10000000, 1000})->Unit(benchmark::kMillisecond);

// The same using RowsToSkip (what a reader that can seek does); items = rows of the stream.
void BM_ReservoirWithSkips(benchmark::State& state) {
  const uint64_t n = state.range(0), k = state.range(1);
  uint64_t seed = 0;
  for (auto _ : state) {
    Sample s = SampleReservoir(n, k, seed++, OutputOrder::kInput, false);
    benchmark::DoNotOptimize(s.rows.data());
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_ReservoirWithSkips)->Args({10000000, 1000});

// Keys "user<i % 100000>" for n rows.
std::vector<std::string> KeyColumn(uint64_t n) {
  std::vector<std::string> keys;
  keys.reserve(n);
  for (uint64_t i = 0; i < n; ++i) keys.push_back(absl::StrCat("user", (i * 7919) % 100000));
  return keys;
}

// UNIVERSE(0.1) per-row decision on short string keys; items = rows.
void BM_Universe(benchmark::State& state) {
  const std::vector<std::string> keys = KeyColumn(state.range(0));
  const std::vector<std::string_view> views(keys.begin(), keys.end());
  uint64_t seed = 0;
  for (auto _ : state) {
    auto s = SampleUniverse(views, 0.1, seed++, false);
    benchmark::DoNotOptimize(s->rows.data());
  }
  state.SetItemsProcessed(state.iterations() * keys.size());
}
BENCHMARK(BM_Universe)->Arg(1000000)->Unit(benchmark::kMillisecond);

// DISTINCT(0.1, 3) over 100,000 distinct keys; items = rows.
void BM_Distinct(benchmark::State& state) {
  const std::vector<std::string> keys = KeyColumn(state.range(0));
  const std::vector<std::string_view> views(keys.begin(), keys.end());
  uint64_t seed = 0;
  for (auto _ : state) {
    auto s = SampleDistinct(views, 0.1, 3, seed++, false);
    benchmark::DoNotOptimize(s->rows.data());
  }
  state.SetItemsProcessed(state.iterations() * keys.size());
}
BENCHMARK(BM_Distinct)->Arg(1000000)->Unit(benchmark::kMillisecond);

// 1% of each of 100 strata over n rows; items = rows.
void BM_Stratified(benchmark::State& state) {
  const uint64_t n = state.range(0);
  std::vector<uint64_t> strata(n);
  for (uint64_t i = 0; i < n; ++i) strata[i] = (i * 2654435761u) % 100;
  uint64_t seed = 0;
  for (auto _ : state) {
    auto s = SampleStratified(strata, StratumAllocation::Fraction(0.01), seed++, false);
    benchmark::DoNotOptimize(s->rows.data());
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_Stratified)->Arg(10000000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace urn::samplers
