#include "samplers/stratified.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "support/orders.h"
#include "support/stats.h"

namespace urn::samplers {
namespace {

using testing::ChiSquareTest;

// Stratum 7 has 5 rows (k = 2), stratum 9 has 4 rows (k = 1), interleaved. The 10 x 4 = 40
// joint outcomes are equally likely: uniform within strata, independent across them.
TEST(Stratified, WithinStrataUniformAndAcrossStrataIndependent) {
  const std::vector<uint64_t> strata = {7, 9, 7, 7, 9, 9, 7, 9, 7};
  StratumAllocation allocation;
  allocation.counts = {{7, 2}, {9, 1}};
  std::vector<int64_t> counts(1 << 9);
  std::vector<double> probs(1 << 9);
  const uint64_t seven = 0b101001101, nine = 0b010110010;
  for (int m = 0; m < (1 << 9); ++m) {
    const bool ok = __builtin_popcount(m & seven) == 2 && __builtin_popcount(m & nine) == 1 &&
                    (m & ~(seven | nine)) == 0;
    probs[m] = ok ? 1.0 / 40 : 0;
  }
  for (uint64_t seed = 0; seed < 40 * 250; ++seed) {
    auto s = SampleStratified(strata, allocation, seed, false);
    ASSERT_TRUE(s.ok());
    ++counts[testing::SubsetMask(s->rows)];
  }
  const auto r = ChiSquareTest(counts, probs);
  EXPECT_GT(r.p_value, 1e-4) << "chi2=" << r.statistic;
}

TEST(Stratified, WeightsAreStratumSizeOverTakenAndOutputIsInInputOrder) {
  std::vector<uint64_t> strata;
  for (int i = 0; i < 1000; ++i) strata.push_back(i % 3 == 0 ? 1 : 2);  // 334 and 666 rows
  auto s = SampleStratified(strata, StratumAllocation::Count(10), 4, true);
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s->rows.size(), 20u);
  EXPECT_TRUE(std::is_sorted(s->rows.begin(), s->rows.end()));
  for (size_t j = 0; j < s->rows.size(); ++j) {
    EXPECT_DOUBLE_EQ(s->ht_weights[j], strata[s->rows[j]] == 1 ? 33.4 : 66.6);
  }
}

// Fractions: round(f n_s) with halves up, or ceil; counts above n_s are clamped.
TEST(Stratified, FractionRoundingAndClamping) {
  const std::vector<uint64_t> five(5, 0);
  auto count = [&](const StratumAllocation& a) {
    return SampleStratified(five, a, 1, false)->rows.size();
  };
  EXPECT_EQ(count(StratumAllocation::Fraction(0.3)), 2u);   // 1.5 -> 2
  EXPECT_EQ(count(StratumAllocation::Fraction(0.1)), 1u);   // 0.5 -> 1
  EXPECT_EQ(count(StratumAllocation::Fraction(0.05)), 0u);  // 0.25 -> 0
  EXPECT_EQ(count(StratumAllocation::Fraction(0.05, /*ceil=*/true)), 1u);
  EXPECT_EQ(count(StratumAllocation::Fraction(1.0)), 5u);
  EXPECT_EQ(count(StratumAllocation::Count(50)), 5u);
  EXPECT_EQ(count(StratumAllocation::Count(0)), 0u);
  // Decimal fractions mean their decimal value: 7% of 100 is 7 rows, rounded or ceiled (the
  // double product is 7.000000000000001, whose ceiling was 8), 15% of 10 is a half (1.5 -> 2).
  const std::vector<uint64_t> hundred(100, 0), ten(10, 0);
  EXPECT_EQ(
      SampleStratified(hundred, StratumAllocation::Fraction(0.07, true), 1, false)->rows.size(),
      7u);
  EXPECT_EQ(SampleStratified(hundred, StratumAllocation::Fraction(0.07), 1, false)->rows.size(),
            7u);
  EXPECT_EQ(
      SampleStratified(hundred, StratumAllocation::Fraction(0.071, true), 1, false)->rows.size(),
      8u);  // 7.1, a real difference
  EXPECT_EQ(SampleStratified(ten, StratumAllocation::Fraction(0.15), 1, false)->rows.size(), 2u);
  EXPECT_EQ(SampleStratified(ten, StratumAllocation::Fraction(0.1499), 1, false)->rows.size(), 1u);
  // 28.5% of 100 is a half, rounded up to 29 (the double product 28.499999999999996 gave 28).
  EXPECT_EQ(SampleStratified(hundred, StratumAllocation::Fraction(0.285), 1, false)->rows.size(),
            29u);
}

TEST(Stratified, RejectsFractionsOutsideZeroOne) {
  const std::vector<uint64_t> strata = {1, 2, 3};
  for (double f : {-0.1, 1.5, std::nan("")}) {
    EXPECT_EQ(SampleStratified(strata, StratumAllocation::Fraction(f), 1, false).status().code(),
              absl::StatusCode::kInvalidArgument);
  }
}

TEST(Stratified, EmptyInputGivesEmptySample) {
  auto s = SampleStratified({}, StratumAllocation::Count(3), 1, true);
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->rows.empty());
}

TEST(Stratified, SameSeedSameSampleOtherSeedAnother) {
  std::vector<uint64_t> strata;
  for (int i = 0; i < 10000; ++i) strata.push_back(i % 17);
  const auto a = SampleStratified(strata, StratumAllocation::Fraction(0.1), 1, false)->rows;
  EXPECT_EQ(a.size(), 17u * 59);  // n_s = 588 or 589 -> 59 each
  EXPECT_EQ(a, SampleStratified(strata, StratumAllocation::Fraction(0.1), 1, false)->rows);
  EXPECT_NE(a, SampleStratified(strata, StratumAllocation::Fraction(0.1), 2, false)->rows);
}

}  // namespace
}  // namespace urn::samplers
