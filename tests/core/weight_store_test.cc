#include "weights/weight_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <set>
#include <thread>
#include <vector>

#include "random/counter_rng.h"
#include "support/stats.h"

namespace urn::weights {
namespace {

using ::testing::HasSubstr;
using urn::testing::ChiSquareTest;

std::unique_ptr<WeightStore> StoreOf(uint64_t capacity, double alpha,
                                     std::optional<double> initial = std::nullopt) {
  WeightStoreOptions options;
  options.capacity = capacity;
  options.alpha = alpha;
  options.initial_priority = initial;
  auto store = WeightStore::Create(options);
  EXPECT_TRUE(store.ok()) << store.status();
  return *std::move(store);
}

// A store holding keys 100, 101, ... with the given priorities in slots 0, 1, ...
std::unique_ptr<WeightStore> StoreWith(const std::vector<double>& priorities, double alpha) {
  auto store = StoreOf(priorities.size(), alpha);
  std::vector<uint64_t> keys;
  for (size_t i = 0; i < priorities.size(); ++i) keys.push_back(100 + i);
  EXPECT_TRUE(store->Insert(keys, priorities).ok());
  return store;
}

TEST(WeightStoreTest, CreateRejectsBadCapacityAlphaAndInitialPriority) {
  WeightStoreOptions options;
  options.capacity = 0;
  EXPECT_EQ(WeightStore::Create(options).status().code(), absl::StatusCode::kInvalidArgument);
  options.capacity = 4;
  for (double alpha : {-0.5, std::nan(""), static_cast<double>(INFINITY)}) {
    options.alpha = alpha;
    EXPECT_EQ(WeightStore::Create(options).status().code(), absl::StatusCode::kInvalidArgument);
  }
  options.alpha = 1;
  options.initial_priority = -1;
  EXPECT_EQ(WeightStore::Create(options).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(WeightStoreTest, InsertFillsRingSlotsAndEvictsTheOldestWhenFull) {
  auto store = StoreOf(3, 1);
  EXPECT_EQ(*store->Insert({10, 11}, {1, 2}), (std::vector<uint64_t>{0, 1}));
  EXPECT_EQ(store->size(), 2u);
  EXPECT_EQ(*store->Insert({12, 13}, {3, 4}), (std::vector<uint64_t>{2, 0}));
  EXPECT_EQ(store->size(), 3u);
  EXPECT_EQ(store->PriorityOf(10).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(*store->SlotOf(13), 0u);
  EXPECT_EQ(*store->PriorityOf(13), 4.0);
  EXPECT_EQ(*store->Insert({14}, {5}), (std::vector<uint64_t>{1}));
  EXPECT_EQ(store->PriorityOf(11).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(*store->PriorityOf(12), 3.0);
}

TEST(WeightStoreTest, InsertRejectsStoredRepeatedOrBadItemsWithoutChangingAnything) {
  auto store = StoreOf(4, 1);
  ASSERT_TRUE(store->Insert({1, 2}, {1, 1}).ok());
  const std::string before = store->Snapshot();
  absl::Status s = store->Insert({3, 2}, {1, 1}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(s.message()), HasSubstr("key 2 at index 1"));
  s = store->Insert({3, 4, 3}, {1, 1, 1}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("index 2"));
  s = store->Insert({3, 4}, {1, -2}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("index 1 is -2"));
  EXPECT_EQ(store->Insert({5, 6, 7, 8, 9}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->Insert({5, 6}, {1}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->Snapshot(), before);
}

TEST(WeightStoreTest, NewItemsGetTheLargestPrioritySeenSoFar) {
  auto store = StoreOf(10, 1);
  ASSERT_TRUE(store->Insert({1}).ok());
  EXPECT_EQ(*store->PriorityOf(1), 1.0);
  ASSERT_TRUE(store->UpdateKeys({1}, {5}).ok());
  ASSERT_TRUE(store->Insert({2}).ok());
  EXPECT_EQ(*store->PriorityOf(2), 5.0);
  ASSERT_TRUE(store->UpdateKeys({1, 2}, {2, 3}).ok());
  ASSERT_TRUE(store->Insert({3}).ok());
  EXPECT_EQ(*store->PriorityOf(3), 5.0);  // seen so far, not currently stored

  auto fixed = StoreOf(10, 1, 0.25);
  ASSERT_TRUE(fixed->Insert({1}, {9}).ok());
  ASSERT_TRUE(fixed->Insert({2}).ok());
  EXPECT_EQ(*fixed->PriorityOf(2), 0.25);
}

TEST(WeightStoreTest, UpdatesBySlotAndByKeyAreAllOrNothing) {
  auto store = StoreOf(8, 1);
  ASSERT_TRUE(store->Insert({7, 8, 9}, {1, 1, 1}).ok());
  ASSERT_TRUE(store->UpdateSlots({0, 2}, {4, 6}).ok());
  EXPECT_EQ(*store->PriorityOf(7), 4.0);
  EXPECT_EQ(*store->PriorityOf(9), 6.0);
  ASSERT_TRUE(store->UpdateKeys({8}, {0}).ok());
  EXPECT_EQ(*store->PriorityOf(8), 0.0);
  const std::string before = store->Snapshot();
  EXPECT_EQ(store->UpdateSlots({0, 3}, {2, 2}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->UpdateSlots({0, 1}, {2, NAN}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->UpdateKeys({7, 10}, {2, 2}).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store->UpdateKeys({7}, {2, 2}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->Snapshot(), before);
}

TEST(WeightStoreTest, DrawsHaveProbabilityPriorityToTheAlphaOverItsSum) {
  const std::vector<double> p = {1, 2, 3, 4};
  auto store = StoreWith(p, 0.5);
  std::vector<double> expected(4);
  double total = 0;
  for (int i = 0; i < 4; ++i) total += std::sqrt(p[i]);
  for (int i = 0; i < 4; ++i) expected[i] = std::sqrt(p[i]) / total;
  std::vector<int64_t> counts(4, 0);
  for (uint64_t batch = 0; batch < 100; ++batch) {
    auto draws = store->Sample({.batch_size = 400, .seed = 3, .batch = batch});
    ASSERT_TRUE(draws.ok()) << draws.status();
    for (const auto& d : *draws) {
      ASSERT_EQ(d.key, 100 + d.slot);
      ASSERT_EQ(d.priority, p[d.slot]);
      ASSERT_NEAR(d.probability, expected[d.slot], 1e-15);
      ++counts[d.slot];
    }
  }
  EXPECT_GT(ChiSquareTest(counts, expected).p_value, 1e-4);
}

TEST(WeightStoreTest, ImportanceWeightsEqualTheExactFormula) {
  const std::vector<double> p = {0.5, 2, 3, 0, 7};
  const double alpha = 0.7, beta = 0.4;
  auto store = StoreWith(p, alpha);
  double total = 0;
  for (double x : p) total += x > 0 ? std::pow(x, alpha) : 0;
  const double n = p.size();
  double max_weight = 0;
  for (double x : p) {
    if (x > 0) max_weight = std::max(max_weight, std::pow(n * std::pow(x, alpha) / total, -beta));
  }
  auto draws = store->Sample({.batch_size = 200, .seed = 1, .beta = beta});
  ASSERT_TRUE(draws.ok());
  std::set<uint64_t> seen;
  for (const auto& d : *draws) {
    const double exact = std::pow(n * std::pow(p[d.slot], alpha) / total, -beta) / max_weight;
    EXPECT_NEAR(d.importance_weight, exact, 1e-14 * exact);
    EXPECT_NE(d.slot, 3u);
    seen.insert(d.slot);
  }
  EXPECT_EQ(seen.size(), 4u);
  EXPECT_DOUBLE_EQ((*store->Sample({.batch_size = 50, .seed = 2, .beta = 0}))[0].importance_weight,
                   1.0);
}

TEST(WeightStoreTest, StratifiedDrawsTakeOneItemFromEachEqualMassSegment) {
  auto store = StoreWith({1, 1, 1, 1, 2, 2}, 1);  // 8 segments of mass 1
  const std::vector<uint64_t> segment_slot = {0, 1, 2, 3, 4, 4, 5, 5};
  for (uint64_t batch = 0; batch < 50; ++batch) {
    auto draws = store->Sample({.batch_size = 8, .seed = 4, .batch = batch, .stratified = true});
    ASSERT_TRUE(draws.ok());
    for (size_t j = 0; j < 8; ++j) EXPECT_EQ((*draws)[j].slot, segment_slot[j]);
  }
}

TEST(WeightStoreTest, DrawsWithoutReplacementAreDistinctAndChangeNothing) {
  std::vector<double> p(1000);
  for (size_t i = 0; i < p.size(); ++i) p[i] = static_cast<double>(i % 17);
  auto store = StoreWith(p, 0.6);
  const std::string before = store->Snapshot();
  for (uint64_t batch = 0; batch < 20; ++batch) {
    auto draws =
        store->Sample({.batch_size = 300, .seed = 8, .batch = batch, .replacement = false});
    ASSERT_TRUE(draws.ok());
    std::set<uint64_t> slots;
    for (const auto& d : *draws) {
      EXPECT_GT(d.priority, 0.0);
      slots.insert(d.slot);
    }
    EXPECT_EQ(slots.size(), 300u);
  }
  EXPECT_EQ(store->Snapshot(), before);
  EXPECT_EQ(store->Sample({.batch_size = 942, .replacement = false}).status().code(),
            absl::StatusCode::kFailedPrecondition);  // only 941 priorities are positive
}

TEST(WeightStoreTest, SampleRejectsBadRequestsAndEmptyStores) {
  auto store = StoreOf(4, 1);
  EXPECT_EQ(store->Sample({.batch_size = 1}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(store->Insert({1}, {1}).ok());
  EXPECT_EQ(store->Sample({.batch_size = 1, .beta = 1.5}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      store->Sample({.batch_size = 1, .replacement = false, .stratified = true}).status().code(),
      absl::StatusCode::kInvalidArgument);
}

TEST(WeightStoreTest, RestoredSnapshotIsTheSameStore) {
  WeightStoreOptions options;
  options.capacity = 50;
  options.alpha = 0.8;
  options.initial_priority = 2.5;
  auto store = *WeightStore::Create(options);
  for (uint64_t k = 0; k < 70; ++k) {
    ASSERT_TRUE(store->Insert({k * 7}, {static_cast<double>(k % 9)}).ok());
  }
  const std::string bytes = store->Snapshot();
  auto restored = WeightStore::Restore(bytes);
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_EQ((*restored)->Snapshot(), bytes);
  EXPECT_EQ((*restored)->capacity(), 50u);
  EXPECT_EQ((*restored)->alpha(), 0.8);
  for (bool replacement : {true, false}) {
    const WeightStore::SampleRequest r = {
        .batch_size = 20, .seed = 6, .batch = 1, .replacement = replacement};
    auto a = *store->Sample(r);
    auto b = *(*restored)->Sample(r);
    for (size_t j = 0; j < a.size(); ++j) {
      EXPECT_EQ(a[j].slot, b[j].slot);
      EXPECT_EQ(a[j].key, b[j].key);
      EXPECT_EQ(a[j].importance_weight, b[j].importance_weight);
    }
  }
  EXPECT_EQ(*store->Insert({1000}), *(*restored)->Insert({1000}));
  EXPECT_EQ(*(*restored)->PriorityOf(1000), 2.5);
}

TEST(WeightStoreTest, RestoreReportsDataLossForEveryTruncationAndCorruption) {
  auto store = StoreWith({1, 2, 3, 0, 5}, 0.5);
  const std::string bytes = store->Snapshot();
  for (size_t len = 0; len < bytes.size(); ++len) {
    auto r = WeightStore::Restore(std::string_view(bytes).substr(0, len));
    EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << len;
  }
  EXPECT_THAT(std::string(WeightStore::Restore(bytes.substr(0, 100)).status().message()),
              HasSubstr("truncated"));
  EXPECT_EQ(WeightStore::Restore(bytes + "x").status().code(), absl::StatusCode::kDataLoss);
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string damaged = bytes;
      damaged[i] = static_cast<char>(damaged[i] ^ (1 << bit));
      EXPECT_EQ(WeightStore::Restore(damaged).status().code(), absl::StatusCode::kDataLoss)
          << "byte " << i << " bit " << bit;
    }
  }
  std::string damaged = bytes;
  damaged[70] ^= 1;  // inside the first item
  EXPECT_THAT(std::string(WeightStore::Restore(damaged).status().message()), HasSubstr("checksum"));
  const random::KeyedStream rng(1, random::Stream::kSumTree);
  for (uint64_t trial = 0; trial < 200; ++trial) {
    std::string garbage(rng.Bounded(2 * trial, 400), '\0');
    for (size_t i = 0; i < garbage.size(); ++i) {
      garbage[i] = static_cast<char>(rng.Bits(1000 * trial + i));
    }
    if (trial % 2 == 0 && garbage.size() >= 8) garbage.replace(0, 8, bytes.substr(0, 8));
    EXPECT_EQ(WeightStore::Restore(garbage).status().code(), absl::StatusCode::kDataLoss);
  }
}

// An updater rewrites every priority to one new value per batch; concurrent draws must see each
// batch whole: all items of one draw batch have one priority and equal probabilities.
TEST(WeightStoreTest, ConcurrentDrawsNeverSeeAHalfAppliedUpdateBatch) {
  const uint64_t n = 2000;
  auto store = StoreWith(std::vector<double>(n, 1.0), 1.0);
  std::atomic<bool> stop = false;
  std::thread updater([&] {
    std::vector<uint64_t> slots(n);
    for (uint64_t i = 0; i < n; ++i) slots[i] = i;
    for (int round = 0; round < 300; ++round) {
      ASSERT_TRUE(store->UpdateSlots(slots, std::vector<double>(n, 1.0 + round % 7)).ok());
    }
    stop = true;
  });
  auto sample = [&](bool replacement) {
    for (uint64_t batch = 0; !stop || batch < 50; ++batch) {
      auto draws =
          store->Sample({.batch_size = 64, .seed = 2, .batch = batch, .replacement = replacement});
      ASSERT_TRUE(draws.ok());
      for (const auto& d : *draws) {
        ASSERT_EQ(d.priority, (*draws)[0].priority);
        ASSERT_DOUBLE_EQ(d.probability, 1.0 / n);
        ASSERT_EQ(d.importance_weight, 1.0);
      }
    }
  };
  std::thread with(sample, true), without(sample, false);
  updater.join();
  with.join();
  without.join();
}

}  // namespace
}  // namespace urn::weights
