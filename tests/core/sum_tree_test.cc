#include "weights/sum_tree.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <set>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "random/counter_rng.h"
#include "support/stats.h"

namespace urn::weights {
namespace {

using random::KeyedStream;
using random::Stream;
using ::testing::HasSubstr;
using urn::testing::ChiSquareTest;

std::unique_ptr<SumTree> TreeOf(const std::vector<double>& weights, SumTree::Options options = {}) {
  auto tree = SumTree::Create(weights.size(), options);
  EXPECT_TRUE(tree.ok()) << tree.status();
  EXPECT_TRUE((*tree)->Assign(weights).ok());
  return *std::move(tree);
}

std::vector<double> Leaves(const SumTree& tree) {
  std::vector<double> w(tree.size());
  for (uint64_t i = 0; i < tree.size(); ++i) w[i] = tree.Get(i);
  return w;
}

// Weights log-uniform over [1e-12, 1e12], a third of them 0.
std::vector<double> ExtremeWeights(uint64_t n, uint64_t seed) {
  const KeyedStream rng(seed, Stream::kSumTree, 99);
  std::vector<double> w(n);
  for (uint64_t i = 0; i < n; ++i) {
    w[i] = rng.Bounded(2 * i, 3) == 0 ? 0.0 : std::pow(10.0, -12 + 24 * rng.Uniform(2 * i + 1));
  }
  return w;
}

struct Batch {
  std::vector<uint64_t> slots;
  std::vector<double> weights;
};

// k updates of slots below `range`: one in `zero_one_in` sets 0, the others log-uniform weights
// over [1e-12, 1e12].
Batch RandomBatch(const KeyedStream& rng, size_t k, uint64_t range, uint64_t zero_one_in) {
  Batch b{std::vector<uint64_t>(k), std::vector<double>(k)};
  for (size_t i = 0; i < k; ++i) {
    b.slots[i] = rng.Bounded(3 * i, range);
    b.weights[i] = rng.Bounded(3 * i + 1, zero_one_in) == 0
                       ? 0.0
                       : std::pow(10.0, -12 + 24 * rng.Uniform(3 * i + 2));
  }
  return b;
}

void ExpectDrawsPositiveAndInRange(const SumTree& tree, absl::Span<const uint64_t> draws) {
  for (uint64_t s : draws) {
    ASSERT_LT(s, tree.size());
    ASSERT_GT(tree.Get(s), 0.0) << "slot " << s;
  }
}

TEST(SumTreeTest, CreateRejectsZeroSlotsAndMoreThanTwoToThe31) {
  EXPECT_EQ(SumTree::Create(0).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SumTree::Create(SumTree::kMaxSlots + 1).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(SumTreeTest, NewTreeIsAllZeroAndRefusesToDraw) {
  auto tree = *SumTree::Create(100);
  EXPECT_EQ(tree->Total(), 0.0);
  EXPECT_EQ(tree->PositiveCount(), 0u);
  EXPECT_EQ(tree->MinPositive(), std::numeric_limits<double>::infinity());
  std::vector<uint64_t> out(3);
  EXPECT_EQ(tree->SampleWithReplacement(1, 0, absl::MakeSpan(out)).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(tree->SampleStratified(1, 0, absl::MakeSpan(out)).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(tree->SampleWithoutReplacement(1, 0, absl::MakeSpan(out)).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(tree->FindPrefix(0).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(SumTreeTest, TotalMinAndCountFollowUpdatesAtEverySize) {
  for (uint64_t n : {1, 2, 7, 8, 9, 63, 64, 65, 513, 4097}) {
    auto tree = *SumTree::Create(n);
    double total = 0;
    for (uint64_t i = 0; i < n; ++i) {
      ASSERT_TRUE(tree->Set(i, static_cast<double>(i % 5)).ok());
      total += static_cast<double>(i % 5);
    }
    EXPECT_EQ(tree->Total(), total) << n;  // small integers: every sum is exact
    EXPECT_EQ(tree->PositiveCount(), n - (n + 4) / 5) << n;
    EXPECT_EQ(tree->MinPositive(), n > 1 ? 1.0 : std::numeric_limits<double>::infinity());
    EXPECT_TRUE(tree->Verify().ok()) << tree->Verify();
  }
}

TEST(SumTreeTest, MinPositiveIgnoresZerosAndRisesWhenTheMinimumIsRaised) {
  auto tree = TreeOf({0, 5, 3, 0, 7, 9, 4, 8, 6, 2});
  EXPECT_EQ(tree->MinPositive(), 2.0);
  ASSERT_TRUE(tree->Set(9, 10).ok());
  EXPECT_EQ(tree->MinPositive(), 3.0);
  ASSERT_TRUE(tree->Set(2, 0).ok());
  EXPECT_EQ(tree->MinPositive(), 4.0);
  ASSERT_TRUE(tree->Set(0, 1e-300).ok());
  EXPECT_EQ(tree->MinPositive(), 1e-300);
}

TEST(SumTreeTest, SetBatchRejectsBadInputWholeAndNamesTheIndex) {
  auto tree = TreeOf({1, 2, 3, 4});
  const std::vector<double> before = Leaves(*tree);
  struct Case {
    std::vector<uint64_t> slots;
    std::vector<double> weights;
    std::string message;
  };
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  for (const Case& c : std::vector<Case>{
           {{0, 1, 2}, {5, -1, 6}, "index 1"},
           {{0, 1, 2}, {5, 6, nan}, "index 2"},
           {{0, 1}, {inf, 6}, "index 0"},
           {{0, 1}, {5, 0x1p1000}, "index 1"},
           {{0, 4}, {5, 6}, "slot at index 1 is 4"},
           {{0, 1}, {5}, "2 slots but 1 weights"},
           // Past the first 8 (the AVX-512 check's block).
           {std::vector<uint64_t>(11, 3), {1, 1, 1, 1, 1, 1, 1, 1, 1, -0.5, 1}, "index 9"},
           {{0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 4, 1, 2, 3},
            std::vector<double>(16, 1.0),
            "slot at index 12 is 4"}}) {
    absl::Status s = tree->SetBatch(c.slots, c.weights);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(s.message()), HasSubstr(c.message));
    EXPECT_EQ(Leaves(*tree), before);
    EXPECT_EQ(tree->Total(), 10.0);
  }
}

TEST(SumTreeTest, LaterEntryWinsForARepeatedSlotInOneBatch) {
  auto tree = TreeOf({1, 2, 3, 4});
  ASSERT_TRUE(tree->SetBatch(std::vector<uint64_t>{2, 2, 0}, std::vector<double>{7, 0, 5}).ok());
  EXPECT_EQ(tree->Get(2), 0.0);
  EXPECT_EQ(tree->Total(), 11.0);
  EXPECT_EQ(tree->PositiveCount(), 3u);
  EXPECT_TRUE(tree->Verify().ok());
}

TEST(SumTreeTest, FindPrefixReturnsTheSlotWhoseIntervalHoldsTheMass) {
  auto tree = TreeOf({1, 2, 3, 4});
  const std::vector<std::pair<double, uint64_t>> cases = {{0, 0}, {0.999, 0}, {1, 1}, {2.999, 1},
                                                          {3, 2}, {5.999, 2}, {6, 3}, {9.999, 3}};
  for (auto [mass, slot] : cases) EXPECT_EQ(*tree->FindPrefix(mass), slot) << mass;
}

TEST(SumTreeTest, FindPrefixSkipsZeroWeightsAndClampsOutsideTheTotal) {
  std::vector<double> w(1000, 0.0);
  w[100] = 5;
  w[900] = 5;
  auto tree = TreeOf(w);
  EXPECT_EQ(*tree->FindPrefix(-3), 100u);
  EXPECT_EQ(*tree->FindPrefix(0), 100u);
  EXPECT_EQ(*tree->FindPrefix(4.999), 100u);
  EXPECT_EQ(*tree->FindPrefix(5), 900u);
  EXPECT_EQ(*tree->FindPrefix(10), 900u);
  EXPECT_EQ(*tree->FindPrefix(1e300), 900u);
  EXPECT_EQ(tree->FindPrefix(std::nan("")).status().code(), absl::StatusCode::kInvalidArgument);
}

// Draws with replacement from weights (1, 2, 3, 4) have frequencies w / 10, placed both in a
// single node and spread over a three-level tree.
TEST(SumTreeTest, DrawsWithReplacementHaveFrequenciesProportionalToWeight) {
  const std::vector<uint64_t> where_small = {0, 1, 2, 3};
  const std::vector<uint64_t> where_spread = {5, 700, 3000, 4095};
  for (const auto* where : {&where_small, &where_spread}) {
    std::vector<double> w(where->back() + 1, 0.0);
    for (int i = 0; i < 4; ++i) w[(*where)[i]] = i + 1;
    auto tree = TreeOf(w);
    std::vector<int64_t> counts(4, 0);
    std::vector<uint64_t> out(1000);
    for (uint64_t batch = 0; batch < 40; ++batch) {
      ASSERT_TRUE(tree->SampleWithReplacement(42, batch, absl::MakeSpan(out)).ok());
      for (uint64_t s : out) {
        auto it = std::find(where->begin(), where->end(), s);
        ASSERT_NE(it, where->end()) << s;
        ++counts[it - where->begin()];
      }
    }
    EXPECT_GT(ChiSquareTest(counts, {0.1, 0.2, 0.3, 0.4}).p_value, 1e-4);
  }
}

TEST(SumTreeTest, StratifiedDrawJComesFromTheJthEqualMassSegment) {
  auto tree = TreeOf({1, 1, 2, 0, 0, 4});  // segments of mass 2: {0,1}, {2}, {5}, {5}
  std::vector<uint64_t> out(4);
  for (uint64_t batch = 0; batch < 200; ++batch) {
    ASSERT_TRUE(tree->SampleStratified(9, batch, absl::MakeSpan(out)).ok());
    EXPECT_LE(out[0], 1u);
    EXPECT_EQ(out[1], 2u);
    EXPECT_EQ(out[2], 5u);
    EXPECT_EQ(out[3], 5u);
  }
}

TEST(SumTreeTest, StratifiedDrawsHaveFrequenciesProportionalToWeight) {
  auto tree = TreeOf({1, 2, 3, 4, 0, 5});
  std::vector<int64_t> counts(6, 0);
  std::vector<uint64_t> out(7);
  for (uint64_t batch = 0; batch < 5000; ++batch) {
    ASSERT_TRUE(tree->SampleStratified(5, batch, absl::MakeSpan(out)).ok());
    for (uint64_t s : out) ++counts[s];
  }
  EXPECT_GT(ChiSquareTest(counts, {1 / 15.0, 2 / 15.0, 3 / 15.0, 4 / 15.0, 0, 5 / 15.0}).p_value,
            1e-4);
}

// Successive sampling of 2 from weights (1, 2, 3, 4): P(i, j) = w_i / W * w_j / (W - w_i).
TEST(SumTreeTest, WithoutReplacementPairsHaveExactSuccessiveSamplingProbabilities) {
  const std::vector<double> w = {1, 2, 3, 4};
  auto tree = TreeOf(w);
  std::vector<int64_t> counts(16, 0);
  std::vector<double> p(16, 0.0);
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 4; ++j) {
      if (i != j) p[4 * i + j] = w[i] / 10 * w[j] / (10 - w[i]);
    }
  }
  std::vector<uint64_t> out(2);
  for (uint64_t batch = 0; batch < 30000; ++batch) {
    ASSERT_TRUE(tree->SampleWithoutReplacement(11, batch, absl::MakeSpan(out)).ok());
    ++counts[4 * out[0] + out[1]];
  }
  EXPECT_GT(ChiSquareTest(counts, p).p_value, 1e-4);
}

TEST(SumTreeTest, WithoutReplacementHasNoDuplicatesAndLeavesTheTreeBitIdentical) {
  const std::vector<double> w = ExtremeWeights(10007, 3);
  auto tree = TreeOf(w);
  auto twin = TreeOf(w);
  std::vector<uint64_t> out(256);
  for (uint64_t batch = 0; batch < 50; ++batch) {
    ASSERT_TRUE(tree->SampleWithoutReplacement(1, batch, absl::MakeSpan(out)).ok());
    ExpectDrawsPositiveAndInRange(*tree, out);
    EXPECT_EQ(std::set<uint64_t>(out.begin(), out.end()).size(), out.size());
  }
  EXPECT_TRUE(tree->IdenticalTo(*twin));
}

// One slot holds nearly all the mass, so drawing every positive slot needs the one-at-a-time
// phase; the result is still all of them, each once, and the tree is unchanged.
TEST(SumTreeTest, WithoutReplacementDrawsAllPositiveSlotsWhenMassIsConcentrated) {
  std::vector<double> w(5000, 0.0);
  for (int i = 0; i < 40; ++i) w[i * 97] = 1e-12;
  w[1234] = 1e12;
  auto tree = TreeOf(w);
  auto twin = TreeOf(w);
  std::vector<uint64_t> out(41);
  ASSERT_TRUE(tree->SampleWithoutReplacement(3, 0, absl::MakeSpan(out)).ok());
  EXPECT_EQ(out[0], 1234u);
  std::set<uint64_t> got(out.begin(), out.end());
  EXPECT_EQ(got.size(), 41u);
  ExpectDrawsPositiveAndInRange(*tree, out);
  EXPECT_TRUE(tree->IdenticalTo(*twin));
  std::vector<uint64_t> too_many(42);
  EXPECT_EQ(tree->SampleWithoutReplacement(3, 1, absl::MakeSpan(too_many)).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(tree->IdenticalTo(*twin));
}

TEST(SumTreeTest, DrawsNeverReturnZeroWeightOrOutOfRangeSlotsWithExtremeWeights) {
  for (uint64_t n : {9, 100003}) {
    const std::vector<double> w = ExtremeWeights(n, n);
    auto tree = TreeOf(w);
    std::vector<uint64_t> out(512);
    for (uint64_t batch = 0; batch < 100; ++batch) {
      ASSERT_TRUE(tree->SampleWithReplacement(2, batch, absl::MakeSpan(out)).ok());
      ExpectDrawsPositiveAndInRange(*tree, out);
      ASSERT_TRUE(tree->SampleStratified(2, batch, absl::MakeSpan(out)).ok());
      ExpectDrawsPositiveAndInRange(*tree, out);
    }
    std::vector<uint64_t> few(std::min<uint64_t>(tree->PositiveCount(), 300));
    ASSERT_TRUE(tree->SampleWithoutReplacement(2, 0, absl::MakeSpan(few)).ok());
    ExpectDrawsPositiveAndInRange(*tree, few);
  }
}

// Adversarial rounding: a huge weight followed by tiny ones and zeros, with masses at and just
// below the total, where the float tree of the textbook walks off the end.
TEST(SumTreeTest, MassesAtTheTopOfTheRangeLandOnTheLastPositiveSlot) {
  std::vector<double> w(4096, 0.0);
  w[0] = 1e12;
  w[1] = 1e-12;
  w[4000] = 3e-12;
  auto tree = TreeOf(w);
  for (double mass : {tree->Total(), std::nextafter(tree->Total(), 0.0), tree->Total() * 2}) {
    const uint64_t s = *tree->FindPrefix(mass);
    EXPECT_GT(w[s], 0.0);
  }
  std::vector<uint64_t> out(4096);
  for (uint64_t batch = 0; batch < 20; ++batch) {
    ASSERT_TRUE(tree->SampleStratified(batch, 0, absl::MakeSpan(out)).ok());
    ExpectDrawsPositiveAndInRange(*tree, out);
  }
}

TEST(SumTreeTest, DrawsAreAPureFunctionOfSeedAndBatch) {
  auto tree = TreeOf(ExtremeWeights(5000, 8));
  std::vector<uint64_t> a(64), b(64), c(64);
  ASSERT_TRUE(tree->SampleWithReplacement(5, 17, absl::MakeSpan(a)).ok());
  ASSERT_TRUE(tree->SampleWithReplacement(5, 17, absl::MakeSpan(b)).ok());
  ASSERT_TRUE(tree->SampleWithReplacement(5, 18, absl::MakeSpan(c)).ok());
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  ASSERT_TRUE(tree->SampleWithoutReplacement(5, 17, absl::MakeSpan(a)).ok());
  ASSERT_TRUE(tree->SampleWithoutReplacement(5, 17, absl::MakeSpan(b)).ok());
  EXPECT_EQ(a, b);
}

TEST(SumTreeTest, LockstepAndOneByOneDescentsReturnTheSameSlots) {
  const std::vector<double> w = ExtremeWeights(70000, 4);
  auto lockstep = TreeOf(w);
  auto one_by_one =
      TreeOf(w, {.huge_pages = false, .lockstep = false, .max_simd = SumTree::Simd::kSse2});
  std::vector<uint64_t> a(1000), b(1000);
  for (uint64_t batch = 0; batch < 10; ++batch) {
    ASSERT_TRUE(lockstep->SampleWithReplacement(1, batch, absl::MakeSpan(a)).ok());
    ASSERT_TRUE(one_by_one->SampleWithReplacement(1, batch, absl::MakeSpan(b)).ok());
    EXPECT_EQ(a, b);
  }
}

// The instruction sets this CPU has beyond SSE2, each with the options that select it.
std::vector<SumTree::Options> WiderSimdOptions() {
  std::vector<SumTree::Options> wider;
  for (const SumTree::Simd simd : {SumTree::Simd::kAvx2, SumTree::Simd::kAvx512}) {
    const SumTree::Options options{.huge_pages = true, .lockstep = true, .max_simd = simd};
    if ((*SumTree::Create(8, options))->simd() == simd) wider.push_back(options);
  }
  return wider;
}

// The AVX2 and AVX-512 kernels (used where the CPU has them) and the SSE2 ones perform the same
// additions in the same order, so a batch is the same on every x86-64 machine. Each wider set
// this CPU has is compared with SSE2 (on a CPU with neither there is nothing to compare).
TEST(SumTreeTest, EveryInstructionSetDrawsTheSameSlots) {
  const std::vector<double> w = ExtremeWeights(300000, 5);
  auto narrow = TreeOf(w, {.huge_pages = true, .lockstep = true, .max_simd = SumTree::Simd::kSse2});
  ASSERT_EQ(narrow->simd(), SumTree::Simd::kSse2);
  for (const SumTree::Options& options : WiderSimdOptions()) {
    auto wide = TreeOf(w, options);
    std::vector<uint64_t> a(2000), b(2000);
    for (uint64_t batch = 0; batch < 10; ++batch) {
      ASSERT_TRUE(wide->SampleWithReplacement(3, batch, absl::MakeSpan(a)).ok());
      ASSERT_TRUE(narrow->SampleWithReplacement(3, batch, absl::MakeSpan(b)).ok());
      EXPECT_EQ(a, b) << "simd " << static_cast<int>(wide->simd());
      ASSERT_TRUE(wide->SampleStratified(3, batch, absl::MakeSpan(a)).ok());
      ASSERT_TRUE(narrow->SampleStratified(3, batch, absl::MakeSpan(b)).ok());
      EXPECT_EQ(a, b) << "simd " << static_cast<int>(wide->simd());
    }
  }
}

// Every instruction set's validation pass (scalar, AVX2 four at a time, AVX-512 eight at a time)
// rejects bad input wherever it sits in a batch, inside a full vector block included, and changes
// nothing.
TEST(SumTreeTest, EveryInstructionSetRejectsBadInputAnywhereInTheBatch) {
  std::vector<SumTree::Options> all = WiderSimdOptions();
  all.push_back({.huge_pages = true, .lockstep = true, .max_simd = SumTree::Simd::kSse2});
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  const uint64_t huge = std::numeric_limits<uint64_t>::max();
  for (const SumTree::Options& options : all) {
    auto tree = TreeOf(std::vector<double>(20, 1.0), options);
    const std::vector<double> before = Leaves(*tree);
    for (size_t at = 0; at < 16; ++at) {
      for (const auto& [slot, weight, message] :
           std::vector<std::tuple<uint64_t, double, std::string>>{
               {1, -1.0, "weight at index"},
               {1, -inf, "weight at index"},
               {1, nan, "weight at index"},
               {1, -nan, "weight at index"},
               {1, inf, "weight at index"},
               {1, 0x1p991, "weight at index"},
               {20, 1.0, "outside [0, 20)"},
               {uint64_t{1} << 63, 1.0, "outside [0, 20)"},
               {huge, 1.0, "outside [0, 20)"}}) {
        std::vector<uint64_t> slots(16, 3);
        std::vector<double> weights(16, 2.0);
        slots[at] = slot;
        weights[at] = weight;
        const absl::Status s = tree->SetBatch(slots, weights);
        EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument)
            << "simd " << static_cast<int>(tree->simd()) << " at " << at << " weight " << weight;
        EXPECT_THAT(std::string(s.message()), HasSubstr(message));
        EXPECT_THAT(std::string(s.message()), HasSubstr(absl::StrCat("index ", at, " is")));
        ASSERT_EQ(Leaves(*tree), before);
      }
    }
    // The largest weight and the last slot are accepted.
    std::vector<uint64_t> slots(16, 19);
    std::vector<double> weights(16, SumTree::kMaxWeight);
    EXPECT_TRUE(tree->SetBatch(slots, weights).ok());
  }
}

// -0.0 is stored as +0.0 by every walk (the group walks, and the items after the last group).
TEST(SumTreeTest, NegativeZeroIsStoredAsPositiveZeroByEveryInstructionSet) {
  const uint64_t n = 300000;
  auto narrow = TreeOf(ExtremeWeights(n, 16),
                       {.huge_pages = true, .lockstep = true, .max_simd = SumTree::Simd::kSse2});
  const Batch b = RandomBatch(KeyedStream(17, Stream::kSumTree), 259, n, 1000000);
  std::vector<double> zeros(b.slots.size(), -0.0);
  ASSERT_TRUE(narrow->SetBatch(b.slots, zeros).ok());
  for (const SumTree::Options& options : WiderSimdOptions()) {
    auto tree = TreeOf(ExtremeWeights(n, 16), options);
    ASSERT_TRUE(tree->SetBatch(b.slots, zeros).ok());
    for (const uint64_t slot : b.slots) ASSERT_FALSE(std::signbit(tree->Get(slot))) << slot;
    EXPECT_TRUE(tree->IdenticalTo(*narrow)) << "simd " << static_cast<int>(tree->simd());
  }
  for (const uint64_t slot : b.slots) ASSERT_FALSE(std::signbit(narrow->Get(slot))) << slot;
  EXPECT_TRUE(narrow->Verify().ok()) << narrow->Verify();
}

// Updates, too, perform the same additions with every kernel set: the trees stay bit-identical.
TEST(SumTreeTest, EveryInstructionSetUpdatesToIdenticalTrees) {
  const uint64_t n = 300000;
  for (const SumTree::Options& options : WiderSimdOptions()) {
    auto wide = TreeOf(ExtremeWeights(n, 7), options);
    auto narrow = TreeOf(ExtremeWeights(n, 7),
                         {.huge_pages = true, .lockstep = true, .max_simd = SumTree::Simd::kSse2});
    // Slots over the whole tree, and over 600 slots only, so that the items the wide walks
    // interleave often share lines at every level.
    for (const auto& [k, range] : std::vector<std::pair<size_t, uint64_t>>{
             {1, n}, {7, n}, {256, n}, {5000, n}, {256, 600}, {5000, 600}}) {
      const Batch b = RandomBatch(KeyedStream(8, Stream::kSumTree, k + range), k, range, 4);
      ASSERT_TRUE(wide->SetBatch(b.slots, b.weights).ok());
      ASSERT_TRUE(narrow->SetBatch(b.slots, b.weights).ok());
      EXPECT_TRUE(wide->IdenticalTo(*narrow)) << "simd " << static_cast<int>(wide->simd())
                                              << ", after a batch of " << k << " over " << range;
    }
    EXPECT_TRUE(wide->Verify().ok()) << wide->Verify();
  }
}

TEST(SumTreeTest, RandomUpdatesLeaveEveryNodeBitIdenticalToARebuild) {
  const uint64_t n = 30000;
  auto tree = *SumTree::Create(n);
  for (uint64_t batch = 0; batch < 400; ++batch) {
    const Batch b = RandomBatch(KeyedStream(6, Stream::kSumTree, batch), 256, n, 4);
    ASSERT_TRUE(batch % 2 ? tree->SetBatch(b.slots, b.weights).ok()
                          : tree->Set(b.slots[0], b.weights[0]).ok());
  }
  EXPECT_TRUE(tree->Verify().ok()) << tree->Verify();
  EXPECT_TRUE(tree->IdenticalTo(*TreeOf(Leaves(*tree))));
}

// Where the batch is large against the tree, the levels above the walk are recomputed whole,
// and the walk goes through level 2 only while the batch has fewer than 4 items per level-2
// entry: sizes and batch
// sizes on both sides of those switches, with minima raised and lowered, leave every node
// bit-identical to a rebuild, the same for every instruction set, and the minimum exact.
TEST(SumTreeTest, BatchesLargeAgainstTheTreeLeaveItExactOnBothSidesOfThePlanSwitch) {
  for (const uint64_t n : {600, 2048, 4096, 8192, 9000, 16384, 40000}) {
    auto narrow = TreeOf(ExtremeWeights(n, 11),
                         {.huge_pages = true, .lockstep = true, .max_simd = SumTree::Simd::kSse2});
    std::vector<std::unique_ptr<SumTree>> wide;
    for (const SumTree::Options& options : WiderSimdOptions()) {
      wide.push_back(TreeOf(ExtremeWeights(n, 11), options));
    }
    for (const size_t k : {64, 256, 1024, 4096}) {
      const Batch b = RandomBatch(KeyedStream(12, Stream::kSumTree, n + k), k, n, 3);
      ASSERT_TRUE(narrow->SetBatch(b.slots, b.weights).ok());
      ASSERT_TRUE(narrow->Verify().ok()) << narrow->Verify() << " n " << n << " k " << k;
      double min = std::numeric_limits<double>::infinity();
      for (uint64_t i = 0; i < n; ++i) {
        if (narrow->Get(i) > 0) min = std::min(min, narrow->Get(i));
      }
      ASSERT_EQ(narrow->MinPositive(), min) << "n " << n << " k " << k;
      for (const std::unique_ptr<SumTree>& tree : wide) {
        ASSERT_TRUE(tree->SetBatch(b.slots, b.weights).ok());
        EXPECT_TRUE(tree->IdenticalTo(*narrow))
            << "simd " << static_cast<int>(tree->simd()) << " n " << n << " k " << k;
      }
    }
    EXPECT_TRUE(narrow->IdenticalTo(*TreeOf(Leaves(*narrow)))) << "n " << n;
  }
}

// Batches that hit a few 64-slot blocks many times, raising and lowering the same slots (the
// minimum below a level-2 entry is kept without rescanning its block unless it must be).
TEST(SumTreeTest, MinimumStaysExactWhenBatchesRaiseAndLowerTheSameSlots) {
  const uint64_t n = 100000;
  auto tree = TreeOf(std::vector<double>(n, 5.0));
  std::vector<uint64_t> slots(300);
  std::vector<double> weights(300);
  for (uint64_t batch = 0; batch < 200; ++batch) {
    const KeyedStream rng(4, Stream::kSumTree, batch);
    for (size_t i = 0; i < slots.size(); ++i) {
      slots[i] = 64 * (1 + rng.Bounded(3 * i, 3)) + rng.Bounded(3 * i + 1, 8);
      weights[i] = static_cast<double>(rng.Bounded(3 * i + 2, 6));  // 0 .. 5
    }
    ASSERT_TRUE(tree->SetBatch(slots, weights).ok());
    ASSERT_TRUE(tree->Verify().ok()) << tree->Verify();
    double min = std::numeric_limits<double>::infinity();
    for (uint64_t i = 0; i < n; ++i) {
      if (tree->Get(i) > 0) min = std::min(min, tree->Get(i));
    }
    ASSERT_EQ(tree->MinPositive(), min);
  }
}

// The walks lower the minima at every level they walk (2 to 4 here: 300,000 slots, batches of 64
// and 256) and queue a rescan where a slot that held its block's minimum rises. Batches that
// put weights below all others, then raise those slots again (with some repeated in one batch),
// leave every minimum exact, and the same for every instruction set.
TEST(SumTreeTest, MinimaFollowBatchesThatLowerAndRaiseThemAtEveryWalkedLevel) {
  const uint64_t n = 300000;
  std::vector<SumTree::Options> all = WiderSimdOptions();
  all.push_back({.huge_pages = true, .lockstep = true, .max_simd = SumTree::Simd::kSse2});
  for (const size_t k : {64, 256}) {
    std::vector<std::unique_ptr<SumTree>> trees;
    for (const SumTree::Options& options : all) {
      trees.push_back(TreeOf(std::vector<double>(n, 1.0), options));
    }
    std::vector<double> w(n, 1.0);
    Batch lowered;
    for (uint64_t round = 0; round < 12; ++round) {
      const KeyedStream rng(13, Stream::kSumTree, round * 1000 + k);
      Batch b;
      if (round % 2 == 0) {  // new minima: slots over the whole tree, some repeated
        b = RandomBatch(rng, k, n, 1000000);
        for (size_t i = 0; i < k; ++i) {
          if (i % 16 == 15) b.slots[i] = b.slots[i - 1];
          b.weights[i] = 1e-6 * (1 + rng.Uniform(3 * i + 2)) / static_cast<double>(round + 1);
        }
        lowered = b;
      } else {  // the same slots rise above everything, or drop to 0
        b = lowered;
        for (size_t i = 0; i < k; ++i) b.weights[i] = i % 3 == 0 ? 0.0 : 2.0;
      }
      for (size_t i = 0; i < k; ++i) w[b.slots[i]] = b.weights[i];
      double min = std::numeric_limits<double>::infinity();
      for (const double x : w) {
        if (x > 0) min = std::min(min, x);
      }
      for (const std::unique_ptr<SumTree>& tree : trees) {
        ASSERT_TRUE(tree->SetBatch(b.slots, b.weights).ok());
        ASSERT_TRUE(tree->Verify().ok())
            << tree->Verify() << " simd " << static_cast<int>(tree->simd()) << " k " << k;
        ASSERT_EQ(tree->MinPositive(), min) << "round " << round << " k " << k;
      }
      for (const std::unique_ptr<SumTree>& tree : trees) {
        EXPECT_TRUE(tree->IdenticalTo(*trees.back())) << "simd " << static_cast<int>(tree->simd());
      }
    }
  }
}

// Batches of 4 to 7 on 2^18 slots walk up to the root's level (its 8 children outnumber them),
// where the AVX2 walk leaves the root's prefixes to FinishUpdate with no level above: every
// node stays bit-identical to a rebuild, the same for every instruction set.
TEST(SumTreeTest, SmallBatchesThatWalkToTheRootLeaveTheTreeExact) {
  const uint64_t n = uint64_t{1} << 18;
  auto narrow = TreeOf(ExtremeWeights(n, 14),
                       {.huge_pages = true, .lockstep = true, .max_simd = SumTree::Simd::kSse2});
  std::vector<std::unique_ptr<SumTree>> wide;
  for (const SumTree::Options& options : WiderSimdOptions()) {
    wide.push_back(TreeOf(ExtremeWeights(n, 14), options));
  }
  for (uint64_t batch = 0; batch < 40; ++batch) {
    const size_t k = 4 + batch % 4;
    const Batch b = RandomBatch(KeyedStream(15, Stream::kSumTree, batch), k, n, 3);
    ASSERT_TRUE(narrow->SetBatch(b.slots, b.weights).ok());
    for (const std::unique_ptr<SumTree>& tree : wide) {
      ASSERT_TRUE(tree->SetBatch(b.slots, b.weights).ok());
      ASSERT_TRUE(tree->IdenticalTo(*narrow))
          << "simd " << static_cast<int>(tree->simd()) << " batch " << batch;
    }
  }
  EXPECT_TRUE(narrow->Verify().ok()) << narrow->Verify();
  EXPECT_TRUE(narrow->IdenticalTo(*TreeOf(Leaves(*narrow))));
}

// Every selection interval is within kBoundaryError * Total() of the exact one, computed in
// 64-bit-mantissa long double.
TEST(SumTreeTest, SelectionIntervalsAreWithinTheDocumentedBound) {
  const std::vector<double> w = ExtremeWeights(20000, 12);
  auto tree = TreeOf(w);
  std::vector<long double> prefix(w.size() + 1, 0);
  for (size_t i = 0; i < w.size(); ++i) prefix[i + 1] = prefix[i] + w[i];
  const long double slack = SumTree::kBoundaryError * prefix.back();
  EXPECT_LE(std::fabs(static_cast<long double>(tree->Total()) - prefix.back()), slack);
  const KeyedStream rng(1, Stream::kSumTree, 5);
  for (uint64_t j = 0; j < 100000; ++j) {
    // Masses both uniform and right at the exact boundaries of the heavy slots.
    const uint64_t at = rng.Bounded(2 * j, w.size());
    const double mass = j % 2 ? static_cast<double>(prefix[at])
                              : static_cast<double>(rng.Uniform(2 * j + 1) * prefix.back());
    const uint64_t s = *tree->FindPrefix(mass);
    ASSERT_GE(mass, prefix[s] - slack) << j;
    ASSERT_LT(mass, prefix[s + 1] + slack) << j;
  }
}

}  // namespace
}  // namespace urn::weights
