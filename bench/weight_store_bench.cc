// WeightStore draws as urnd's SampleWeights makes them: a batch of slots from the sum tree, then
// each drawn slot's priority, key, probability and importance weight; and its mutations as
// urnd's Insert and UpdatePriorities streams make them, in memory (BM_WeightStoreInsert,
// BM_WeightStoreUpdateSlots) and durable (BM_DurableWeightStoreUpdateSlots: each batch one
// RocksDB log write, not fsync'ed, as with --fsync=interval). Arguments are /capacity/batch;
// items_per_second counts draws, inserted items or updated priorities.
//
//   ./build/bench/urn_bench --benchmark_filter='^BM_(Durable)?WeightStore'
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
// Mutations, 2026-11-24 (2-core AMD EPYC Zen 4 VM; 3 alternating rounds, medians of 3), before
// and after durable stores began logging a change before making it (WeightStore::Plan* and
// Commit): in memory UpdateSlots 23.5-25.6 -> 23.1-25.0 M/s, Insert 2.37-2.59 -> 2.17-2.53 M/s;
// durable UpdateSlots 11.3-11.9 -> 10.9-11.6 M/s (the RocksDB write is about half the time).
// An insert cost ~400 ns, most of it cache misses in the key index (a hash map of 2^20 keys) and
// in the evicted keys' strings (perf, cpu-clock samples: Link 26%, hashing 14%, the lookups
// 10%). Insert now prefetches, 4 / 8 / 12 items ahead, the new keys' buckets, the evicted keys'
// buckets, characters and string objects, and places a new key with one hash (try_emplace):
// 1.73-2.53 -> 2.63-2.93 M/s (4 alternating rounds; 8 / 16 / 24 ahead measured the same).
// 2026-11-25 (Zen 4 VM with AVX-512; 3 alternating rounds, medians of 3): with alpha 1 (these
// stores) a priority is its tree weight without a call to pow, UpdateSlots 26.3-27.8 -> 38.3-39.9
// M/s and Insert 3.09 / 3.27 -> 3.50 / 3.47 M/s; after it, one run: durable UpdateSlots 13.4 M/s.
// Measured and not kept: priorities_ written with its lines prefetched 16 items ahead (as the
// tree's are), 1.0-1.04x alone and 0.97-1.1x on top.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "random/counter_rng.h"
#include "storage/durable_weight_store.h"
#include "storage/metadata_store.h"
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

// 2^21 (slot, priority) pairs and distinct keys, made once, so that the mutation benchmarks time
// the store and not the random number generator or the string formatting. Twice the largest
// capacity: a key comes round again only after the ring has evicted it.
struct MutationPool {
  static constexpr size_t kSize = size_t{1} << 21;
  std::vector<uint64_t> slots;
  std::vector<double> priorities;
  std::vector<std::string> keys;
};

const MutationPool& Mutations(uint64_t capacity) {
  static uint64_t built = 0;
  static MutationPool pool;
  if (built != capacity) {
    const random::KeyedStream rng(13, random::Stream::kSumTree);
    pool.slots.resize(MutationPool::kSize);
    pool.priorities.resize(MutationPool::kSize);
    pool.keys.resize(MutationPool::kSize);
    for (size_t i = 0; i < MutationPool::kSize; ++i) {
      pool.slots[i] = rng.Bounded(2 * i, capacity);
      pool.priorities[i] = 1.0 - rng.Uniform(2 * i + 1);
      pool.keys[i] = absl::StrCat("episode-", i / 1000, "/step-", i % 1000);
    }
    built = capacity;
  }
  return pool;
}

// Runs `mutate(first, m)` on consecutive batches [first, first + m) of the pool.
template <typename Mutate>
void MutationBatches(benchmark::State& state, Mutate mutate) {
  const size_t m = state.range(1);
  size_t at = 0;
  for (auto _ : state) {
    if (at + m > MutationPool::kSize) at = 0;
    mutate(at, m);
    at += m;
  }
  state.SetItemsProcessed(state.iterations() * m);
}

void BM_WeightStoreUpdateSlots(benchmark::State& state) {
  WeightStore& store = Store(state.range(0));
  const MutationPool& pool = Mutations(state.range(0));
  MutationBatches(state, [&](size_t first, size_t m) {
    if (!store.UpdateSlots({pool.slots.data() + first, m}, {pool.priorities.data() + first, m})
             .ok()) {
      std::abort();
    }
  });
}
BENCHMARK(BM_WeightStoreUpdateSlots)->Args({1 << 20, 256});

void BM_WeightStoreInsert(benchmark::State& state) {
  WeightStoreOptions options;
  options.capacity = state.range(0);
  std::unique_ptr<WeightStore> store = *WeightStore::Create(options);
  const MutationPool& pool = Mutations(state.range(0));
  MutationBatches(state, [&](size_t first, size_t m) {
    if (!store->Insert({pool.keys.data() + first, m}, {pool.priorities.data() + first, m}).ok()) {
      std::abort();
    }
  });
}
BENCHMARK(BM_WeightStoreInsert)->Args({1 << 20, 256});

// The longest a batch of 256 draws waits while another thread fills a store of 2^20 slots
// from empty, and round the ring once more, in inserts of 16,384 keys (an RL actor's loop): the
// key index grows and drops its deleted entries by copies made outside the store's lock, so a
// draw waits for one batch's application at most. Counters: the longest and the median draw
// (microseconds) over one whole run.
void BM_WeightStoreDrawWaitDuringInserts(benchmark::State& state) {
  const MutationPool& pool = Mutations(state.range(0));
  const size_t m = state.range(1);
  for (auto _ : state) {
    WeightStoreOptions options;
    options.capacity = state.range(0);
    std::unique_ptr<WeightStore> store = *WeightStore::Create(options);
    if (!store->Insert({pool.keys.data(), m}).ok()) std::abort();
    std::atomic<bool> done{false};
    std::thread actor([&] {
      for (size_t first = m; first + m <= MutationPool::kSize; first += m) {
        if (!store->Insert({pool.keys.data() + first, m}).ok()) std::abort();
      }
      done = true;
    });
    std::vector<double> waits;
    for (uint64_t batch = 0; !done; ++batch) {
      const auto start = std::chrono::steady_clock::now();
      if (!store->Sample({.batch_size = 256, .seed = 1, .batch = batch}).ok()) std::abort();
      waits.push_back(
          std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
              .count());
    }
    actor.join();
    std::sort(waits.begin(), waits.end());
    state.counters["max_draw_us"] = waits.back();
    state.counters["median_draw_us"] = waits[waits.size() / 2];
  }
}
BENCHMARK(BM_WeightStoreDrawWaitDuringInserts)
    ->Args({1 << 20, 16384})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

void BM_DurableWeightStoreUpdateSlots(benchmark::State& state) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / absl::StrCat("urn-bench-", getpid());
  std::filesystem::create_directories(dir);
  {
    std::unique_ptr<storage::MetadataStore> db =
        *storage::MetadataStore::Open((dir / "meta").string());
    WeightStoreOptions options;
    options.capacity = state.range(0);
    std::unique_ptr<storage::DurableWeightStore> durable =
        *storage::DurableWeightStore::Create(db.get(), "bench", options, {});
    const MutationPool& pool = Mutations(state.range(0));
    MutationBatches(state, [&](size_t first, size_t m) {
      if (!durable->UpdateSlots({pool.slots.data() + first, m}, {pool.priorities.data() + first, m})
               .ok()) {
        std::abort();
      }
    });
  }
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_DurableWeightStoreUpdateSlots)->Args({1 << 20, 256});

}  // namespace
}  // namespace urn::weights
