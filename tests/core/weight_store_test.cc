#include "weights/weight_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <functional>
#include <map>
#include <set>
#include <thread>
#include <vector>

#include "absl/base/casts.h"
#include "absl/strings/str_cat.h"
#include "codec/checked_record.h"
#include "random/counter_rng.h"
#include "support/stats.h"
#include "weights/weight_store_codec.h"

namespace urn::weights {
namespace {

using ::testing::ElementsAre;
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

// String keys named by numbers.
std::vector<std::string> Keys(std::initializer_list<int> ids) {
  std::vector<std::string> keys;
  for (int id : ids) keys.push_back(absl::StrCat("k", id));
  return keys;
}
std::string Key(int id) { return absl::StrCat("k", id); }

// Everything a store holds, as bytes, for before/after comparisons.
std::string Dump(const WeightStore& store) {
  const WeightStore::Position pos = store.position();
  return absl::StrCat(EncodeChunk(store.ExportChunk(0, store.capacity())), "|", pos.next_slot, "|",
                      pos.max_priority, "|", store.size());
}

// A store holding keys k100, k101, ... with the given priorities in slots 0, 1, ...
std::unique_ptr<WeightStore> StoreWith(const std::vector<double>& priorities, double alpha) {
  auto store = StoreOf(priorities.size(), alpha);
  std::vector<std::string> keys;
  for (size_t i = 0; i < priorities.size(); ++i) keys.push_back(Key(100 + i));
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
  EXPECT_EQ(*store->Insert(Keys({10, 11}), {1, 2}), (std::vector<uint64_t>{0, 1}));
  EXPECT_EQ(store->size(), 2u);
  EXPECT_EQ(*store->Insert(Keys({12, 13}), {3, 4}), (std::vector<uint64_t>{2, 0}));
  EXPECT_EQ(store->size(), 3u);
  EXPECT_EQ(store->PriorityOf(Key(10)).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(*store->SlotOf(Key(13)), 0u);
  EXPECT_EQ(*store->PriorityOf(Key(13)), 4.0);
  EXPECT_EQ(*store->Insert(Keys({14}), {5}), (std::vector<uint64_t>{1}));
  EXPECT_EQ(store->PriorityOf(Key(11)).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(*store->PriorityOf(Key(12)), 3.0);
}

// InsertKeyGrowth is exactly the change an insert makes to KeyMemoryBytes(): new keys' bytes and
// overhead, less those of the keys in the ring slots they take.
TEST(WeightStoreTest, InsertKeyGrowthIsTheChangeTheInsertMakes) {
  constexpr int64_t kOver = WeightStore::kKeyOverheadBytes;
  auto store = StoreOf(3, 1);
  const std::vector<std::string> first = {"aaaa", "bb"};
  EXPECT_EQ(store->InsertKeyGrowth(first), 6 + 2 * kOver);  // into empty slots
  ASSERT_TRUE(store->Insert(first).ok());
  // Slot 2 is empty, slot 0 holds "aaaa": +1 + kOver for "c", +6 - 4 for "dddddd".
  const std::vector<std::string> second = {"c", "dddddd"};
  const int64_t growth = store->InsertKeyGrowth(second);
  EXPECT_EQ(growth, 1 + kOver + 6 - 4);
  const int64_t before = store->KeyMemoryBytes();
  ASSERT_TRUE(store->Insert(second).ok());
  EXPECT_EQ(store->KeyMemoryBytes() - before, growth);
  // The full ring: "e" in slot 1 evicts "bb", "f" in slot 2 evicts "c".
  EXPECT_EQ(store->InsertKeyGrowth({"e", "f"}), (1 - 2) + (1 - 1));
}

TEST(WeightStoreTest, InsertRejectsStoredRepeatedOrBadItemsWithoutChangingAnything) {
  auto store = StoreOf(4, 1);
  ASSERT_TRUE(store->Insert(Keys({1, 2}), {1, 1}).ok());
  const std::string before = Dump(*store);
  absl::Status s = store->Insert(Keys({3, 2}), {1, 1}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(s.message()), HasSubstr("key \"k2\" at index 1"));
  s = store->Insert(Keys({3, 4, 3}), {1, 1, 1}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("index 2"));
  s = store->Insert(Keys({3, 4}), {1, -2}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("index 1 is -2"));
  EXPECT_EQ(store->Insert(Keys({5, 6, 7, 8, 9})).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->Insert(Keys({5, 6}), {1}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Dump(*store), before);
}

TEST(WeightStoreTest, NewItemsGetTheLargestPrioritySeenSoFar) {
  auto store = StoreOf(10, 1);
  ASSERT_TRUE(store->Insert(Keys({1})).ok());
  EXPECT_EQ(*store->PriorityOf(Key(1)), 1.0);
  ASSERT_TRUE(store->UpdateKeys(Keys({1}), {5}).ok());
  ASSERT_TRUE(store->Insert(Keys({2})).ok());
  EXPECT_EQ(*store->PriorityOf(Key(2)), 5.0);
  ASSERT_TRUE(store->UpdateKeys(Keys({1, 2}), {2, 3}).ok());
  ASSERT_TRUE(store->Insert(Keys({3})).ok());
  EXPECT_EQ(*store->PriorityOf(Key(3)), 5.0);  // seen so far, not currently stored

  auto fixed = StoreOf(10, 1, 0.25);
  ASSERT_TRUE(fixed->Insert(Keys({1}), {9}).ok());
  ASSERT_TRUE(fixed->Insert(Keys({2})).ok());
  EXPECT_EQ(*fixed->PriorityOf(Key(2)), 0.25);
}

TEST(WeightStoreTest, UpdatesBySlotAndByKeyAreAllOrNothing) {
  auto store = StoreOf(8, 1);
  ASSERT_TRUE(store->Insert(Keys({7, 8, 9}), {1, 1, 1}).ok());
  ASSERT_TRUE(store->UpdateSlots({0, 2}, {4, 6}).ok());
  EXPECT_EQ(*store->PriorityOf(Key(7)), 4.0);
  EXPECT_EQ(*store->PriorityOf(Key(9)), 6.0);
  ASSERT_TRUE(store->UpdateKeys(Keys({8}), {0}).ok());
  EXPECT_EQ(*store->PriorityOf(Key(8)), 0.0);
  const std::string before = Dump(*store);
  EXPECT_EQ(store->UpdateSlots({0, 8}, {2, 2}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->UpdateSlots({0, 1}, {2, NAN}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->UpdateKeys(Keys({7, 10}), {2, -1}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->UpdateKeys(Keys({7}), {2, 2}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Dump(*store), before);
}

// A learner's update by key that arrives after the ring evicted its item is skipped (reported),
// and never lands on the item that took the slot; the other entries of the batch apply.
TEST(WeightStoreTest, UpdatesOfKeysThatAreNotStoredAreSkippedNotMisapplied) {
  auto store = StoreOf(4, 1);
  ASSERT_TRUE(store->Insert(Keys({0, 1, 2, 3}), {1, 1, 1, 1}).ok());
  ASSERT_TRUE(store->Insert(Keys({4, 5})).ok());  // evicts k0 and k1 from slots 0 and 1
  WeightStore::Change change;
  absl::StatusOr<std::vector<size_t>> skipped =
      store->UpdateKeys({Key(1), Key(3), "never", Key(5)}, {0.001, 7, 8, 9}, &change);
  ASSERT_TRUE(skipped.ok()) << skipped.status();
  EXPECT_EQ(*skipped, (std::vector<size_t>{0, 2}));
  EXPECT_EQ(*store->Priorities(0, 4), (std::vector<double>{1, 9, 1, 7}));  // k4 k5 k2 k3
  EXPECT_EQ(change.slots, (std::vector<uint64_t>{3, 1}));                  // only what was made
  EXPECT_EQ(change.priorities, (std::vector<double>{7, 9}));
  // A plan skips the same keys and commits only the stored ones.
  absl::StatusOr<WeightStore::Plan> plan = store->PlanUpdateKeys({"gone", Key(2)}, {5, 6});
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->skipped, std::vector<size_t>{0});
  ASSERT_TRUE(store->Commit(*plan).ok());
  EXPECT_EQ(*store->Priorities(0, 4), (std::vector<double>{1, 9, 6, 7}));
}

// The key index is replaced by fresh copies as keys come and go (weight_store.h, locking):
// through 50 batches that wrap a ring of 1000 slots 7 times, every stored key maps to its slot
// and back, and evicted keys are gone.
TEST(WeightStoreTest, TheKeyIndexStaysExactWhileTheRingWrapsManyTimes) {
  auto store = StoreOf(1000, 1);
  int next = 0;
  for (int batch = 0; batch < 50; ++batch) {
    std::vector<std::string> keys;
    for (int i = 0; i < 137; ++i) keys.push_back(absl::StrCat("key-", next++));
    ASSERT_TRUE(store->Insert(keys).ok());
    ASSERT_TRUE(store->CheckConsistent().ok()) << batch;
    EXPECT_EQ(store->size(), std::min(next, 1000));
    EXPECT_EQ(*store->SlotOf(keys.back()), static_cast<uint64_t>((next - 1) % 1000));
  }
  EXPECT_EQ(store->SlotOf("key-5849").status().code(), absl::StatusCode::kNotFound);  // evicted
  EXPECT_EQ(*store->SlotOf("key-5850"), 850u);
}

// p^alpha must be a positive double for a positive priority, or the item could never be drawn.
TEST(WeightStoreTest, APositivePriorityWhosePowerUnderflowsIsRefused) {
  auto store = StoreOf(4, 2);
  const absl::Status s = store->UpdateSlots({0, 1}, {1, 1e-200});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("index 1 is 1e-200"));
  EXPECT_TRUE(store->UpdateSlots({0, 1}, {1, 1e-150}).ok());  // 1e-300: still drawable
  EXPECT_EQ(store->positive_slots(), 2u);
}

// Plan* + Commit (how durable stores log a change before making it) make exactly the change the
// one-step mutation makes, and nothing is visible until Commit.
TEST(WeightStoreTest, PlansChangeNothingUntilCommittedAndCommitEqualsTheOneStepMutation) {
  auto one_step = StoreOf(6, 0.7);
  auto planned = StoreOf(6, 0.7);
  using Op = std::function<absl::StatusOr<WeightStore::Plan>(WeightStore&, WeightStore::Change*)>;
  const auto insert = [](std::vector<std::string> keys, std::vector<double> p) -> Op {
    return
        [=](WeightStore& store, WeightStore::Change* change) -> absl::StatusOr<WeightStore::Plan> {
          if (change != nullptr) {
            absl::StatusOr<std::vector<uint64_t>> slots = store.Insert(keys, p, change);
            if (!slots.ok()) return slots.status();
            return absl::StatusOr<WeightStore::Plan>(WeightStore::Plan{});
          }
          return store.PlanInsert(keys, p);
        };
  };
  const auto by_slots = [](std::vector<uint64_t> slots, std::vector<double> p) -> Op {
    return
        [=](WeightStore& store, WeightStore::Change* change) -> absl::StatusOr<WeightStore::Plan> {
          if (change != nullptr) {
            absl::Status s = store.UpdateSlots(slots, p, change);
            if (!s.ok()) return s;
            return absl::StatusOr<WeightStore::Plan>(WeightStore::Plan{});
          }
          return store.PlanUpdateSlots(slots, p);
        };
  };
  const auto by_keys = [](std::vector<std::string> keys, std::vector<double> p) -> Op {
    return
        [=](WeightStore& store, WeightStore::Change* change) -> absl::StatusOr<WeightStore::Plan> {
          if (change != nullptr) {
            absl::Status s = store.UpdateKeys(keys, p, change).status();
            if (!s.ok()) return s;
            return absl::StatusOr<WeightStore::Plan>(WeightStore::Plan{});
          }
          return store.PlanUpdateKeys(keys, p);
        };
  };
  struct Step {
    Op op;
    std::vector<uint64_t> slots;  // the change it must make
    std::vector<double> priorities;
    uint64_t next_slot;
  };
  const std::vector<Step> steps = {
      {insert(Keys({1, 2, 3}), {}), {0, 1, 2}, {1, 1, 1}, 3},  // the initial priority, 1
      {by_keys(Keys({2}), {5}), {1}, {5}, 3},                  // the largest seen becomes 5
      {insert(Keys({4, 5, 6, 7}), {1, 2, 3, 0}), {3, 4, 5, 0}, {1, 2, 3, 0}, 1},  // evicts k1
      {by_slots({0, 5, 0}, {0, 2.5, 4}), {0, 5, 0}, {0, 2.5, 4}, 1},  // the later 0 wins
      {insert(Keys({8}), {}), {1}, {5}, 2},                           // gets 5, evicts k2
  };
  for (size_t i = 0; i < steps.size(); ++i) {
    SCOPED_TRACE(i);
    WeightStore::Change change;
    ASSERT_TRUE(steps[i].op(*one_step, &change).ok());
    const std::string before = Dump(*planned);
    absl::StatusOr<WeightStore::Plan> plan = steps[i].op(*planned, nullptr);
    ASSERT_TRUE(plan.ok()) << plan.status();
    EXPECT_EQ(Dump(*planned), before);
    for (const WeightStore::Change* made : {&change, &plan->change}) {
      EXPECT_EQ(made->slots, steps[i].slots);
      EXPECT_EQ(made->priorities, steps[i].priorities);
      EXPECT_EQ(made->next_slot, steps[i].next_slot);
    }
    EXPECT_EQ(plan->change.keys, change.keys);
    ASSERT_TRUE(planned->Commit(*plan).ok());
    EXPECT_EQ(Dump(*planned), Dump(*one_step));
    EXPECT_EQ(planned->total(), one_step->total());
  }
  EXPECT_EQ(*planned->SlotOf(Key(8)), 1u);
  EXPECT_EQ(*planned->PriorityOf(Key(7)), 4.0);
  EXPECT_EQ(*planned->PriorityOf(Key(6)), 2.5);
  EXPECT_EQ(planned->SlotOf(Key(2)).status().code(), absl::StatusCode::kNotFound);
  // The plans' errors are the one-step mutations' errors, and neither changes anything.
  const std::string before = Dump(*planned);
  for (const Op& bad : {insert(Keys({8}), {}), by_keys(Keys({7}), {NAN}), by_slots({6}, {1}),
                        by_slots({1}, {-1}), insert(Keys({9, 9}), {})}) {
    WeightStore::Change unused;
    const absl::Status one = bad(*one_step, &unused).status();
    const absl::Status two = bad(*planned, nullptr).status();
    EXPECT_FALSE(one.ok());
    EXPECT_EQ(one, two);
  }
  EXPECT_EQ(Dump(*planned), before);
  EXPECT_EQ(Dump(*one_step), before);
  // A plan is committed once, and only if nothing was committed since it was made.
  absl::StatusOr<WeightStore::Plan> first = by_slots({2}, {7})(*planned, nullptr);
  absl::StatusOr<WeightStore::Plan> second = insert(Keys({10}), {})(*planned, nullptr);
  ASSERT_TRUE(first.ok() && second.ok());
  ASSERT_TRUE(planned->Commit(*first).ok());
  const std::string committed = Dump(*planned);
  EXPECT_EQ(planned->Commit(*first).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(planned->Commit(*second).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Dump(*planned), committed);
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
      ASSERT_EQ(d.key, Key(100 + d.slot));
      ASSERT_EQ(d.priority, p[d.slot]);
      ASSERT_NEAR(d.probability, expected[d.slot], 1e-15);
      ++counts[d.slot];
    }
  }
  EXPECT_GT(ChiSquareTest(counts, expected).p_value, 1e-4);
}

// A draw reports its slot's priority and key as stored, for any alpha (with alpha 1 the store
// reads the priority from the tree: p^1 is p exactly), in a store with no key (whose keys it
// does not read), with one key, and with a key in every slot.
TEST(WeightStoreTest, DrawsReportEachSlotsStoredPriorityAndKey) {
  constexpr uint64_t kSlots = 64;
  std::vector<uint64_t> slots(kSlots);
  std::vector<double> priorities(kSlots);
  for (uint64_t i = 0; i < kSlots; ++i) {
    slots[i] = i;
    priorities[i] = (i % 3 == 0 ? 1e-150 : i % 3 == 1 ? 0.1 : 3e7) * (1 + 0.37 * i);
  }
  for (const double alpha : {1.0, 0.5, 2.0, 0.0}) {
    SCOPED_TRACE(alpha);
    auto store = StoreOf(kSlots, alpha);
    ASSERT_TRUE(store->UpdateSlots(slots, priorities).ok());
    const auto check = [&](const std::map<uint64_t, std::string>& keys) {
      for (uint64_t batch = 0; batch < 20; ++batch) {
        auto draws = store->Sample({.batch_size = 256, .seed = 9, .batch = batch});
        ASSERT_TRUE(draws.ok()) << draws.status();
        for (const auto& d : *draws) {
          ASSERT_EQ(d.priority, priorities[d.slot]) << d.slot;
          const auto it = keys.find(d.slot);
          ASSERT_EQ(d.key, it == keys.end() ? "" : it->second) << d.slot;
        }
      }
    };
    check({});
    // Insert fills slot 0 (the ring's next) with a key, at the priority given.
    auto inserted = store->Insert(Keys({7}), {priorities[0]});
    ASSERT_TRUE(inserted.ok()) << inserted.status();
    ASSERT_EQ(*inserted, std::vector<uint64_t>{0});
    check({{0, Key(7)}});
    // A key in every slot: the ring wraps around and evicts k7 from slot 0.
    std::vector<std::string> more;
    for (uint64_t i = 1; i <= kSlots; ++i) more.push_back(Key(1000 + i));
    std::vector<double> more_priorities(priorities.begin() + 1, priorities.end());
    more_priorities.push_back(priorities[0]);
    ASSERT_TRUE(store->Insert(more, more_priorities).ok());
    std::map<uint64_t, std::string> all;
    for (uint64_t i = 1; i <= kSlots; ++i) all[i % kSlots] = Key(1000 + i);
    check(all);
  }
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

// Priorities 1e290 and 1e-290 (alpha 1): the weight ratio 1e580 overflows a double, and the
// plain formula (ratio^-beta) would give 0 for a weight of exactly 10^(-580 beta).
TEST(WeightStoreTest, ImportanceWeightsStayExactWhenTheWeightRatioOverflowsADouble) {
  auto store = StoreWith({1e290, 1e-290}, 1.0);
  auto draws = store->Sample({.batch_size = 16, .seed = 3, .beta = 0.4});
  ASSERT_TRUE(draws.ok()) << draws.status();
  for (const auto& d : *draws) {
    EXPECT_EQ(d.slot, 0u);  // P(1) = 1e-580: never drawn
    EXPECT_NEAR(d.importance_weight, 1e-232, 1e-232 * 1e-12);
  }
  // Without replacement both come out; the smallest weight's importance weight is exactly 1.
  draws = store->Sample({.batch_size = 2, .seed = 3, .beta = 0.4, .replacement = false});
  ASSERT_TRUE(draws.ok()) << draws.status();
  ASSERT_EQ(draws->size(), 2u);
  EXPECT_NE((*draws)[0].slot, (*draws)[1].slot);
  for (const auto& d : *draws) {
    if (d.slot == 1) {
      EXPECT_EQ(d.importance_weight, 1.0);
    } else {
      EXPECT_NEAR(d.importance_weight, 1e-232, 1e-232 * 1e-12);
    }
  }
  // beta = 1: the exact value, 1e-580, is below the smallest double (2^-1074), so it is 0.
  draws = store->Sample({.batch_size = 4, .seed = 3, .beta = 1});
  ASSERT_TRUE(draws.ok()) << draws.status();
  for (const auto& d : *draws) EXPECT_EQ(d.importance_weight, 0.0);
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
  const std::string before = Dump(*store);
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
  EXPECT_EQ(Dump(*store), before);
  EXPECT_EQ(store->Sample({.batch_size = 942, .replacement = false}).status().code(),
            absl::StatusCode::kFailedPrecondition);  // only 941 priorities are positive
}

// With alpha 1 a priority is its own tree weight, bit for bit, at any magnitude (the store
// takes p itself rather than pow(p, 1)): drawing every positive item without replacement reads
// each one's priority back from the tree. -0 is stored as +0, and never drawn.
TEST(WeightStoreTest, WithAlphaOneTreeWeightsAreThePrioritiesBitForBit) {
  const std::vector<double> p = {0x1p-1074, 0x1p-1022, 1 - 0x1p-53, 0.1, 0x1p990, -0.0};
  auto store = StoreOf(p.size(), 1);
  std::vector<uint64_t> slots(p.size());
  for (size_t i = 0; i < slots.size(); ++i) slots[i] = i;
  ASSERT_TRUE(store->UpdateSlots(slots, p).ok());
  auto draws = store->Sample({.batch_size = 5, .seed = 2, .replacement = false});
  ASSERT_TRUE(draws.ok()) << draws.status();
  std::set<uint64_t> drawn;
  for (const auto& d : *draws) {
    ASSERT_LT(d.slot, 5u);
    EXPECT_EQ(absl::bit_cast<uint64_t>(d.priority), absl::bit_cast<uint64_t>(p[d.slot]))
        << "slot " << d.slot;
    drawn.insert(d.slot);
  }
  EXPECT_EQ(drawn.size(), 5u);
  EXPECT_EQ(store->positive_slots(), 5u);
  auto stored = store->Priorities(5, 1);
  ASSERT_TRUE(stored.ok());
  EXPECT_FALSE(std::signbit((*stored)[0]));
}

TEST(WeightStoreTest, SampleRejectsBadRequestsAndEmptyStores) {
  auto store = StoreOf(4, 1);
  EXPECT_EQ(store->Sample({.batch_size = 1}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(store->Insert(Keys({1}), {1}).ok());
  EXPECT_EQ(store->Sample({.batch_size = 1, .beta = 1.5}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      store->Sample({.batch_size = 1, .replacement = false, .stratified = true}).status().code(),
      absl::StatusCode::kInvalidArgument);
}

TEST(WeightStoreTest, EverySlotIsAddressableFromCreationWithPriorityZero) {
  auto store = StoreOf(1000, 1);
  EXPECT_EQ(*store->Priorities(0, 1000), std::vector<double>(1000, 0.0));
  EXPECT_EQ(store->Sample({.batch_size = 1}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(store->UpdateSlots({999, 3}, {2, 6}).ok());
  EXPECT_EQ(store->size(), 0u);  // no keys
  EXPECT_EQ(*store->Priorities(2, 2), (std::vector<double>{0, 6}));
  EXPECT_EQ(store->Priorities(999, 2).status().code(), absl::StatusCode::kInvalidArgument);
  std::vector<int64_t> counts(2, 0);
  auto draws = store->Sample({.batch_size = 8000, .seed = 5});
  ASSERT_TRUE(draws.ok());
  for (const auto& d : *draws) {
    ASSERT_TRUE(d.slot == 3 || d.slot == 999) << d.slot;
    EXPECT_EQ(d.key, "");
    ++counts[d.slot == 3 ? 0 : 1];
  }
  EXPECT_GT(ChiSquareTest(counts, {0.75, 0.25}).p_value, 1e-4);
  // A key inserted later takes ring slot 0 and overrides nothing else.
  EXPECT_EQ(*store->Insert(Keys({1}), {1}), (std::vector<uint64_t>{0}));
  EXPECT_EQ(*store->Priorities(3, 1), (std::vector<double>{6}));
}

TEST(WeightStoreTest, InsertRejectsEmptyAndOverlongKeys) {
  auto store = StoreOf(4, 1);
  EXPECT_THAT(std::string(store->Insert({"a", ""}).status().message()),
              HasSubstr("key at index 1 is empty"));
  EXPECT_EQ(store->Insert({std::string(WeightStore::kMaxKeyBytes + 1, 'x')}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(store->Insert({std::string(WeightStore::kMaxKeyBytes, 'x')}).ok());
}

// Applies a random mix of inserts, slot updates and key updates; returns the changes made.
std::vector<WeightStore::Change> RandomOps(WeightStore& store, uint64_t seed, int count) {
  const random::KeyedStream rng(seed, random::Stream::kSumTree);
  std::vector<WeightStore::Change> changes;
  for (int op = 0; op < count; ++op) {
    WeightStore::Change change;
    const uint64_t kind = rng.Bounded(10 * op, 3);
    const uint64_t m = 1 + rng.Bounded(10 * op + 1, 5);
    std::vector<double> p(m);
    for (uint64_t i = 0; i < m; ++i) p[i] = static_cast<double>(rng.Bounded(10 * op + 2 + i, 8));
    absl::Status s;
    if (kind == 0) {
      std::vector<std::string> keys;
      for (uint64_t i = 0; i < m; ++i) keys.push_back(absl::StrCat("key", seed, "-", op, "-", i));
      s = store
              .Insert(keys,
                      rng.Bounded(10 * op + 8, 2) ? absl::Span<const double>(p)
                                                  : absl::Span<const double>(),
                      &change)
              .status();
    } else if (kind == 1) {
      std::vector<uint64_t> slots(m);
      for (uint64_t i = 0; i < m; ++i) slots[i] = rng.Bounded(1000 * op + i, store.capacity());
      s = store.UpdateSlots(slots, p, &change);
    } else {
      auto draws =
          store.Sample({.batch_size = m, .seed = seed, .batch = static_cast<uint64_t>(op)});
      if (!draws.ok()) continue;
      std::vector<std::string> keys;
      std::vector<double> q;
      for (size_t i = 0; i < draws->size(); ++i) {
        if ((*draws)[i].key.empty()) continue;
        if (std::find(keys.begin(), keys.end(), (*draws)[i].key) != keys.end()) continue;
        keys.push_back((*draws)[i].key);
        q.push_back(p[i]);
      }
      s = store.UpdateKeys(keys, q, &change).status();
    }
    EXPECT_TRUE(s.ok()) << s;
    if (s.ok()) changes.push_back(std::move(change));
  }
  return changes;
}

WeightStore::Change MakeChange(std::vector<uint64_t> slots, std::vector<double> priorities,
                               std::vector<std::string> keys = {}, uint64_t next_slot = 0) {
  WeightStore::Change change;
  change.slots = std::move(slots);
  change.priorities = std::move(priorities);
  change.keys = std::move(keys);
  change.next_slot = next_slot;
  return change;
}

std::unique_ptr<WeightStore> EmptyLike(const WeightStore& store) {
  WeightStoreOptions options;
  options.capacity = store.capacity();
  options.alpha = store.alpha();
  options.initial_priority = store.initial_priority();
  return *WeightStore::Create(options);
}

// A snapshot whose chunks are copied at different moments after log position s, plus the
// changes after s replayed, is the store (ARIES-style fuzzy checkpoint with idempotent redo).
TEST(WeightStoreTest, FuzzySnapshotPlusReplayedChangesIsTheSameStore) {
  for (uint64_t trial = 0; trial < 30; ++trial) {
    WeightStoreOptions options;
    options.capacity = 40;
    options.alpha = 0.8;
    if (trial % 3 == 0) options.initial_priority = 2.5;
    auto store = *WeightStore::Create(options);
    RandomOps(*store, trial, 60);  // before s
    const WeightStore::Position at_s = store->position();
    std::vector<WeightStore::Change> log;
    std::vector<WeightStore::Chunk> chunks;
    for (uint64_t first = 0; first < 40; first += 8) {
      for (auto& c : RandomOps(*store, 1000 + 100 * trial + first, 4)) log.push_back(c);
      chunks.push_back(DecodeChunk(EncodeChunk(store->ExportChunk(first, 8)), 40).value());
    }
    for (auto& c : RandomOps(*store, 5000 + trial, 10)) log.push_back(c);

    auto restored = EmptyLike(*store);
    for (const auto& chunk : chunks) ASSERT_TRUE(restored->ImportChunk(chunk).ok());
    ASSERT_TRUE(restored->SetPosition(at_s).ok());
    ASSERT_TRUE(restored->Rebuild().ok());
    for (const auto& change : log) {
      ASSERT_TRUE(restored->ApplyChange(DecodeChange(EncodeChange(change)).value()).ok());
    }
    ASSERT_TRUE(restored->CheckConsistent().ok()) << restored->CheckConsistent();
    ASSERT_EQ(Dump(*restored), Dump(*store)) << "trial " << trial;
    for (bool replacement : {true, false}) {
      const WeightStore::SampleRequest r = {
          .batch_size = 10, .seed = 6, .batch = trial, .replacement = replacement};
      auto a = store->Sample(r);
      auto b = restored->Sample(r);
      ASSERT_EQ(a.ok(), b.ok());
      for (size_t j = 0; a.ok() && j < a->size(); ++j) {
        EXPECT_EQ((*a)[j].slot, (*b)[j].slot);
        EXPECT_EQ((*a)[j].key, (*b)[j].key);
        EXPECT_EQ((*a)[j].importance_weight, (*b)[j].importance_weight);
      }
    }
    EXPECT_EQ(*store->Insert(Keys({1000})), *restored->Insert(Keys({1000})));
    EXPECT_EQ(*store->PriorityOf(Key(1000)), *restored->PriorityOf(Key(1000)));
  }
}

TEST(WeightStoreTest, ApplyChangeRejectsImpossibleChangesWithoutChangingAnything) {
  auto store = StoreWith({1, 2, 3}, 1);
  const std::string before = Dump(*store);
  EXPECT_EQ(store->ApplyChange(MakeChange({3}, {1})).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->ApplyChange(MakeChange({1}, {-1})).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->ApplyChange(MakeChange({1}, {1, 2})).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->ApplyChange(MakeChange({1}, {1}, {""})).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->ApplyChange(MakeChange({1}, {1}, {}, 3)).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Dump(*store), before);
}

// Replaying onto a fuzzy snapshot, an insert can name a key that a chunk copied later holds in
// another slot (it was evicted and inserted again after the insert being replayed): the key
// moves to the insert's slot, and the index stays consistent.
TEST(WeightStoreTest, ReplayingAnInsertOfAKeyThatAnotherSlotHoldsMovesTheKey) {
  auto store = StoreOf(4, 1);
  WeightStore::Chunk chunk;
  chunk.priorities = {1, 0, 0, 0};
  chunk.keys = {{0, "x"}};
  ASSERT_TRUE(store->ImportChunk(chunk).ok());
  ASSERT_TRUE(store->SetPosition({.next_slot = 1, .max_priority = 1}).ok());
  ASSERT_TRUE(store->Rebuild().ok());
  ASSERT_TRUE(store->ApplyChange(MakeChange({2}, {3}, {"x"}, 3)).ok());
  EXPECT_EQ(*store->SlotOf("x"), 2u);
  EXPECT_EQ(store->size(), 1u);
  EXPECT_TRUE(store->CheckConsistent().ok()) << store->CheckConsistent();
  const WeightStore::Chunk after = store->ExportChunk(0, 4);
  EXPECT_THAT(after.keys, ElementsAre(std::pair<uint64_t, std::string>(2, "x")));
  EXPECT_EQ(after.priorities, (std::vector<double>{1, 0, 3, 0}));
}

// Every truncation, every single-bit flip and random garbage decode to DataLoss, never a crash.
template <typename Decode>
void ExpectEveryDamageIsDataLoss(const std::string& bytes, Decode decode) {
  ASSERT_TRUE(decode(bytes).ok());
  for (size_t len = 0; len < bytes.size(); ++len) {
    EXPECT_EQ(decode(bytes.substr(0, len)).status().code(), absl::StatusCode::kDataLoss) << len;
  }
  EXPECT_EQ(decode(bytes + "x").status().code(), absl::StatusCode::kDataLoss);
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string damaged = bytes;
      damaged[i] = static_cast<char>(damaged[i] ^ (1 << bit));
      EXPECT_EQ(decode(damaged).status().code(), absl::StatusCode::kDataLoss)
          << "byte " << i << " bit " << bit;
    }
  }
  const random::KeyedStream rng(1, random::Stream::kSumTree);
  for (uint64_t trial = 0; trial < 200; ++trial) {
    std::string garbage(rng.Bounded(2 * trial, 400), '\0');
    for (size_t i = 0; i < garbage.size(); ++i) {
      garbage[i] = static_cast<char>(rng.Bits(1000 * trial + i));
    }
    if (trial % 2 == 0 && garbage.size() >= 8) garbage.replace(0, 8, bytes.substr(0, 8));
    EXPECT_EQ(decode(garbage).status().code(), absl::StatusCode::kDataLoss);
  }
}

TEST(WeightStoreCodecTest, ChangesChunksAndHeadsRoundTripAndEveryDamageIsDataLoss) {
  const WeightStore::Change change = MakeChange({4, 0, 9}, {0.5, 0, 7}, {"a", "bc", "d\te"}, 1);
  const WeightStore::Change decoded = DecodeChange(EncodeChange(change)).value();
  EXPECT_EQ(decoded.slots, change.slots);
  EXPECT_EQ(decoded.priorities, change.priorities);
  EXPECT_EQ(decoded.keys, change.keys);
  EXPECT_EQ(decoded.next_slot, 1u);
  ExpectEveryDamageIsDataLoss(EncodeChange(change), DecodeChange);
  ExpectEveryDamageIsDataLoss(EncodeChange(MakeChange({1}, {2})), DecodeChange);

  auto store = StoreWith({1, 0, 3, 0, 5}, 0.5);
  const WeightStore::Chunk chunk = store->ExportChunk(1, 3);
  const auto decode_chunk = [](std::string_view bytes) { return DecodeChunk(bytes, 5); };
  const WeightStore::Chunk back = decode_chunk(EncodeChunk(chunk)).value();
  EXPECT_EQ(back.first, 1u);
  EXPECT_EQ(back.priorities, (std::vector<double>{0, 3, 0}));
  EXPECT_EQ(back.keys, chunk.keys);
  ExpectEveryDamageIsDataLoss(EncodeChunk(chunk), decode_chunk);
  WeightStore::Chunk zeros;
  zeros.first = 8;
  zeros.priorities.assign(4096, 0.0);
  EXPECT_LT(EncodeChunk(zeros).size(), 64u);  // all-zero chunks are stored in a few bytes
  EXPECT_EQ(DecodeChunk(EncodeChunk(zeros), 8 + 4096).value().priorities, zeros.priorities);

  const SnapshotHead head = {.log_position = 77, .chunks = 3, .position = {5, 9.5}};
  const SnapshotHead head_back = DecodeSnapshotHead(EncodeSnapshotHead(head)).value();
  EXPECT_EQ(head_back.log_position, 77u);
  EXPECT_EQ(head_back.chunks, 3u);
  EXPECT_EQ(head_back.position.next_slot, 5u);
  EXPECT_EQ(head_back.position.max_priority, 9.5);
  ExpectEveryDamageIsDataLoss(EncodeSnapshotHead(head), DecodeSnapshotHead);
  EXPECT_THAT(std::string(DecodeChange(EncodeChunk(chunk)).status().message()),
              HasSubstr("wrong tag"));
}

// An updater rewrites every priority to one new value per batch; concurrent draws must see each
// batch whole: all items of one draw batch have one priority and equal probabilities.

TEST(WeightStoreCodecTest, ChunkPastTheCapacityIsDataLossBeforeAnyAllocation) {
  WeightStore::Chunk zeros;
  zeros.first = 8;
  zeros.priorities.assign(4096, 0.0);
  const absl::StatusOr<WeightStore::Chunk> past = DecodeChunk(EncodeChunk(zeros), 8 + 4095);
  EXPECT_EQ(past.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(past.status().message(), HasSubstr("capacity 4103"));
  // An intact all-zero chunk claiming 2^31 slots (16 GiB of priorities) is 41 bytes; against a
  // store of 2^20 slots it is refused without allocating them.
  codec::RecordWriter w("uwck", 1);
  w.Put<uint64_t>(0);
  w.Put<uint64_t>(uint64_t{1} << 31);
  w.Put<uint8_t>(1);
  w.Put<uint64_t>(0);
  const std::string huge = w.Finish();
  EXPECT_EQ(huge.size(), 41u);
  EXPECT_EQ(DecodeChunk(huge, uint64_t{1} << 20).status().code(), absl::StatusCode::kDataLoss);
}
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
