// WeightStore draws as urnd's SampleWeights makes them: a batch of slots from the sum tree, then
// each drawn slot's priority, key, probability and importance weight. Arguments are
// /capacity/batch; items_per_second counts draws.
//
//   ./build/bench/urn_bench --benchmark_filter='^BM_WeightStoreSample'
//       --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//
// BM_SumTreeSample (bench/sum_tree_bench.cc) on the same capacity is the tree's share; the rest
// is describing the draws, which reads the per-slot arrays at random: the weights, and the
// priorities and keys only where they can differ (alpha != 1, a store holding keys). Before
// that (2026-11-23, alternating binaries): 2^20 17.6 / 11.9 M/s -> 21.6 / 20.9 M/s, 2^24
// 12.5 / 10.9 -> 19.4 / 18.0 M/s, cold 2^20 4.09 / 3.93 -> 4.47 / 4.56 M/s. Measured and not
// kept: every tree level of 512 KiB or more mapped in whole, aligned 2 MiB pages (level 1 at
// 2^20 slots is 1 MiB: one TLB entry instead of 256): cold 4.3-4.6 vs 4.0-4.2 M/s, warm within
// the noise, for up to 2 MiB more per level.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

#include "random/counter_rng.h"
#include "weights/weight_store.h"

namespace urn::weights {
namespace {

// A store of `capacity` slots with priorities in (0, 1], every slot set by slot.
WeightStore& Store(uint64_t capacity) {
  static uint64_t built = 0;
  static std::unique_ptr<WeightStore> store;
  if (built != capacity) {
    store.reset();
    WeightStoreOptions options;
    options.capacity = capacity;
    store = *WeightStore::Create(options);
    const random::KeyedStream rng(11, random::Stream::kSumTree);
    constexpr uint64_t kStep = 1 << 16;
    std::vector<uint64_t> slots;
    std::vector<double> priorities;
    for (uint64_t first = 0; first < capacity; first += kStep) {
      slots.clear();
      priorities.clear();
      for (uint64_t s = first; s < std::min(capacity, first + kStep); ++s) {
        slots.push_back(s);
        priorities.push_back(1.0 - rng.Uniform(s));
      }
      if (!store->UpdateSlots(slots, priorities).ok()) std::abort();
    }
    built = capacity;
  }
  return *store;
}

// Batches of draws, each from warm caches or, with `cold`, from cold ones: as urnd meets them
// when a learner asks for a batch now and then (between two calls other work has evicted the
// store), 64 MiB are written before each batch, untimed (more than the L3 of the machines we
// measure).
void SampleBatches(benchmark::State& state, bool cold) {
  WeightStore& store = Store(state.range(0));
  WeightStore::SampleRequest request;
  request.batch_size = state.range(1);
  request.seed = 7;
  request.beta = 0.4;
  std::vector<uint64_t> evict(cold ? (size_t{64} << 20) / sizeof(uint64_t) : 0);
  for (auto _ : state) {
    if (cold) {
      state.PauseTiming();
      for (size_t i = 0; i < evict.size(); i += 8) evict[i] += i;
      benchmark::ClobberMemory();
      state.ResumeTiming();
    }
    absl::StatusOr<std::vector<WeightStore::Draw>> draws = store.Sample(request);
    if (!draws.ok()) std::abort();
    benchmark::DoNotOptimize(draws->data());
    ++request.batch;
  }
  state.SetItemsProcessed(state.iterations() * state.range(1));
}

void BM_WeightStoreSample(benchmark::State& state) { SampleBatches(state, /*cold=*/false); }
void BM_WeightStoreSampleCold(benchmark::State& state) { SampleBatches(state, /*cold=*/true); }
BENCHMARK(BM_WeightStoreSample)->Args({1 << 20, 256})->Args({1 << 24, 256});
BENCHMARK(BM_WeightStoreSampleCold)->Args({1 << 20, 256});

}  // namespace
}  // namespace urn::weights
