#include "samplers/reservoir.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "support/orders.h"
#include "support/stats.h"

namespace urn::samplers {
namespace {

using testing::ChiSquareTest;

std::vector<double> SubsetProbabilities(int n, int k) {
  int subsets = 0;
  for (int m = 0; m < (1 << n); ++m) subsets += __builtin_popcount(m) == k;
  std::vector<double> probs(1 << n);
  for (int m = 0; m < (1 << n); ++m) probs[m] = __builtin_popcount(m) == k ? 1.0 / subsets : 0;
  return probs;
}

// k = 2 of a stream of 6: each of the 15 subsets has probability 1/15.
TEST(Reservoir, EveryTwoSubsetOfSixIsEquallyLikely) {
  std::vector<int64_t> counts(64);
  for (uint64_t seed = 0; seed < 15 * 1000; ++seed) {
    ReservoirSampler r(2, seed);
    for (int i = 0; i < 6; ++i) r.Offer();
    ++counts[testing::SubsetMask(r.Result(OutputOrder::kInput, false).rows)];
  }
  const auto r = ChiSquareTest(counts, SubsetProbabilities(6, 2));
  EXPECT_GT(r.p_value, 1e-4) << "chi2=" << r.statistic;
}

// k = 3 of 12, through the skipping convenience function: 220 subsets, 1/220 each.
TEST(Reservoir, EveryThreeSubsetOfTwelveIsEquallyLikelyWithSkips) {
  std::vector<int64_t> counts(1 << 12);
  for (uint64_t seed = 0; seed < 220 * 60; ++seed) {
    ++counts[testing::SubsetMask(SampleReservoir(12, 3, seed, OutputOrder::kInput, false).rows)];
  }
  const auto r = ChiSquareTest(counts, SubsetProbabilities(12, 3));
  EXPECT_GT(r.p_value, 1e-4) << "chi2=" << r.statistic;
}

// Random order: k = 2 of 6 as an ordered pair, each of 30 with probability 1/30.
TEST(Reservoir, RandomOrderMakesEveryOrderedPairEquallyLikely) {
  std::vector<int64_t> counts(36);
  std::vector<double> probs(36);
  for (int a = 0; a < 6; ++a) {
    for (int b = 0; b < 6; ++b) probs[a * 6 + b] = a == b ? 0 : 1.0 / 30;
  }
  for (uint64_t seed = 0; seed < 30 * 300; ++seed) {
    ++counts[testing::TupleCell(SampleReservoir(6, 2, seed, OutputOrder::kRandom, false).rows, 6)];
  }
  const auto r = ChiSquareTest(counts, probs);
  EXPECT_GT(r.p_value, 1e-4) << "chi2=" << r.statistic;
}

// A long stream: every row's inclusion probability is k/n; rows counted in 20 equal slices.
TEST(Reservoir, LongStreamIncludesEveryRegionEqually) {
  const uint64_t n = 100000, k = 5;
  std::vector<int64_t> counts(20);
  for (uint64_t seed = 0; seed < 4000; ++seed) {
    for (uint64_t row : SampleReservoir(n, k, seed, OutputOrder::kInput, false).rows) {
      ++counts[row * 20 / n];
    }
  }
  const auto r = ChiSquareTest(counts, std::vector<double>(20, 0.05));
  EXPECT_GT(r.p_value, 1e-4) << "chi2=" << r.statistic;
}

// Offering every row, or skipping what RowsToSkip allows, gives the same reservoir; Offer
// reports the slot the row went to.
TEST(Reservoir, SkippingGivesTheSameSampleAsOffering) {
  ReservoirSampler offered(10, 77), skipped(10, 77);
  for (uint64_t i = 0; i < 100000; ++i) {
    const int64_t slot = offered.Offer();
    if (slot != ReservoirSampler::kDrop) {
      ASSERT_EQ(offered.slots()[slot], i);
    }
  }
  while (skipped.rows_seen() < 100000) {
    const uint64_t skip = std::min(skipped.RowsToSkip(), 100000 - skipped.rows_seen());
    if (skip > 0) {
      skipped.Skip(skip);
    } else {
      skipped.Offer();
    }
  }
  EXPECT_EQ(offered.slots(), skipped.slots());
  auto sorted = offered.slots();
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, SampleReservoir(100000, 10, 77, OutputOrder::kInput, false).rows);
}

TEST(Reservoir, ShortStreamKeepsEverythingWithWeightOne) {
  const Sample s = SampleReservoir(3, 5, 1, OutputOrder::kInput, true);
  EXPECT_EQ(s.rows, (std::vector<uint64_t>{0, 1, 2}));
  EXPECT_EQ(s.ht_weights, std::vector<double>(3, 1.0));
}

TEST(Reservoir, EmptyStreamOrZeroKGiveEmptySample) {
  EXPECT_TRUE(SampleReservoir(0, 5, 1, OutputOrder::kRandom, true).rows.empty());
  ReservoirSampler none(0, 1);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(none.Offer(), ReservoirSampler::kDrop);
  EXPECT_TRUE(none.Result(OutputOrder::kInput, true).rows.empty());
}

TEST(Reservoir, WeightsAreRowsSeenOverK) {
  const Sample s = SampleReservoir(1000, 4, 2, OutputOrder::kRandom, true);
  ASSERT_EQ(s.rows.size(), 4u);
  EXPECT_EQ(s.ht_weights, std::vector<double>(4, 250.0));
}

// A caller keeping a payload per slot reads the sample through SlotOrder: the same rows in the
// same order as Result, for both orders, while filling and after many replacements.
TEST(Reservoir, SlotOrderListsTheSlotsOfResultsRowsInItsOrder) {
  for (const uint64_t n : {0, 7, 50, 100000}) {
    ReservoirSampler r(50, 9);
    for (uint64_t i = 0; i < n; ++i) r.Offer();
    for (const OutputOrder order : {OutputOrder::kInput, OutputOrder::kRandom}) {
      const Sample s = r.Result(order, true);
      const std::vector<uint64_t> slots = r.SlotOrder(order);
      ASSERT_EQ(slots.size(), s.rows.size()) << "n " << n;
      for (size_t i = 0; i < slots.size(); ++i) {
        ASSERT_EQ(r.slots()[slots[i]], s.rows[i]) << "n " << n << " position " << i;
      }
      for (const double w : s.ht_weights) EXPECT_EQ(w, r.HtWeight());
    }
  }
  EXPECT_EQ(ReservoirSampler(50, 9).HtWeight(), 0.0);
}

TEST(Reservoir, SameSeedSameSampleOtherSeedAnother) {
  const auto a = SampleReservoir(100000, 50, 1, OutputOrder::kRandom, false).rows;
  EXPECT_EQ(a, SampleReservoir(100000, 50, 1, OutputOrder::kRandom, false).rows);
  EXPECT_NE(a, SampleReservoir(100000, 50, 2, OutputOrder::kRandom, false).rows);
}

}  // namespace
}  // namespace urn::samplers
