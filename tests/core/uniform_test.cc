// Uniform sampling with and without replacement, and the Fisher-Yates shuffle.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <set>
#include <vector>

#include "samplers/shuffle.h"
#include "samplers/uniform_with_replacement.h"
#include "samplers/uniform_without_replacement.h"
#include "support/orders.h"
#include "support/stats.h"

namespace urn::samplers {
namespace {

using testing::ChiSquareTest;
using testing::Iota;

// --- with replacement ---------------------------------------------------------------------

// k = 3 draws from n = 4: each of the 4^3 = 64 ordered tuples has probability 1/64.
TEST(UniformWithReplacement, EveryTupleIsEquallyLikely) {
  std::vector<int64_t> counts(64);
  for (uint64_t seed = 0; seed < 64 * 200; ++seed) {
    ++counts[testing::TupleCell(UniformWithReplacement(4, seed).Take(3, false).rows, 4)];
  }
  const auto r = ChiSquareTest(counts, std::vector<double>(64, 1.0 / 64));
  EXPECT_GT(r.p_value, 1e-4) << "chi2=" << r.statistic;
}

// Within one large sample, each of 100 rows is drawn with probability 1/100.
TEST(UniformWithReplacement, DrawsAreUniformWithinOneSample) {
  const Sample s = UniformWithReplacement(100, 7).Take(200000, false);
  std::vector<int64_t> counts(100);
  for (uint64_t row : s.rows) ++counts[row];
  const auto r = ChiSquareTest(counts, std::vector<double>(100, 0.01));
  EXPECT_GT(r.p_value, 1e-4) << "chi2=" << r.statistic;
}

TEST(UniformWithReplacement, WeightsAreHansenHurwitzNOverK) {
  const Sample s = UniformWithReplacement(10, 1).Take(4, true);
  ASSERT_EQ(s.rows.size(), 4u);
  EXPECT_EQ(s.ht_weights, std::vector<double>(4, 2.5));
  EXPECT_TRUE(UniformWithReplacement(10, 1).Take(4, false).ht_weights.empty());
}

TEST(UniformWithReplacement, EmptyPopulationOrZeroDrawsGiveEmptySample) {
  EXPECT_TRUE(UniformWithReplacement(0, 1).Take(5, true).rows.empty());
  EXPECT_TRUE(UniformWithReplacement(10, 1).Take(0, true).rows.empty());
  EXPECT_EQ(UniformWithReplacement(1, 3).Take(5, false).rows, std::vector<uint64_t>(5, 0));
}

TEST(UniformWithReplacement, DeterministicPrefixStableAndSeedDependent) {
  const UniformWithReplacement a(1000, 5);
  const auto rows = a.Take(100, false).rows;
  EXPECT_EQ(rows, UniformWithReplacement(1000, 5).Take(100, false).rows);
  EXPECT_NE(rows, UniformWithReplacement(1000, 6).Take(100, false).rows);
  const auto longer = a.Take(150, false).rows;
  EXPECT_TRUE(std::equal(rows.begin(), rows.end(), longer.begin()));
  std::vector<uint64_t> tail(50);
  a.Fill(100, 50, tail.data());
  EXPECT_TRUE(std::equal(tail.begin(), tail.end(), longer.begin() + 100));
  for (uint64_t j = 0; j < 100; ++j) EXPECT_EQ(a.Draw(j), rows[j]);
}

// --- without replacement ------------------------------------------------------------------

// k = 2 of n = 5 in random order: each of the 20 ordered pairs has probability 1/20.
TEST(UniformWithoutReplacement, RandomOrderMakesEveryOrderedPairEquallyLikely) {
  std::vector<int64_t> counts(25);
  std::vector<double> probs(25, 0.0);
  for (int a = 0; a < 5; ++a) {
    for (int b = 0; b < 5; ++b) probs[a * 5 + b] = a == b ? 0.0 : 1.0 / 20;
  }
  for (uint64_t seed = 0; seed < 20 * 500; ++seed) {
    const Sample s = SampleUniformWithoutReplacement(5, 2, {.seed = seed});
    ASSERT_EQ(s.rows.size(), 2u);
    ++counts[testing::TupleCell(s.rows, 5)];
  }
  const auto r = ChiSquareTest(counts, probs);
  EXPECT_GT(r.p_value, 1e-4) << "chi2=" << r.statistic;
}

// k = 3 of n = 7 in input order: each of the 35 subsets has probability 1/35, ascending.
TEST(UniformWithoutReplacement, InputOrderGivesEverySubsetEquallyLikelySorted) {
  std::vector<int64_t> counts(128);
  std::vector<double> probs(128, 0.0);
  for (int m = 0; m < 128; ++m) probs[m] = __builtin_popcount(m) == 3 ? 1.0 / 35 : 0.0;
  for (uint64_t seed = 0; seed < 35 * 300; ++seed) {
    const Sample s =
        SampleUniformWithoutReplacement(7, 3, {.seed = seed, .order = OutputOrder::kInput});
    ASSERT_TRUE(std::is_sorted(s.rows.begin(), s.rows.end()));
    ++counts[testing::SubsetMask(s.rows)];
  }
  const auto r = ChiSquareTest(counts, probs);
  EXPECT_GT(r.p_value, 1e-4) << "chi2=" << r.statistic;
}

// The hash-map and array implementations make the same swaps, so they agree exactly.
TEST(UniformWithoutReplacement, SparseAndDenseImplementationsAgree) {
  for (uint64_t n : {1, 2, 5, 64, 1000}) {
    for (uint64_t k : {uint64_t{0}, uint64_t{1}, uint64_t{2}, n / 3, n - 1, n}) {
      if (k > n) continue;
      for (uint64_t seed : {1, 2, 3}) {
        EXPECT_EQ(internal::UniformWithoutReplacementSparse(n, k, seed),
                  internal::UniformWithoutReplacementDense(n, k, seed))
            << "n=" << n << " k=" << k;
      }
    }
  }
}

// The sparse path on a huge population: distinct rows in range, O(k) memory.
TEST(UniformWithoutReplacement, SmallSampleOfHugePopulationIsDistinct) {
  const uint64_t n = uint64_t{1} << 50;
  const Sample s = SampleUniformWithoutReplacement(n, 10000, {.seed = 3, .with_weights = true});
  ASSERT_EQ(s.rows.size(), 10000u);
  EXPECT_EQ(std::set<uint64_t>(s.rows.begin(), s.rows.end()).size(), 10000u);
  for (uint64_t row : s.rows) ASSERT_LT(row, n);
  EXPECT_DOUBLE_EQ(s.ht_weights[0], static_cast<double>(n) / 10000);
}

TEST(UniformWithoutReplacement, KAboveNReturnsAllRowsShuffledWithWeightOne) {
  const Sample s = SampleUniformWithoutReplacement(6, 10, {.seed = 4, .with_weights = true});
  auto sorted = s.rows;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, Iota(6));
  EXPECT_EQ(s.ht_weights, std::vector<double>(6, 1.0));
}

TEST(UniformWithoutReplacement, ZeroRowsOrZeroKGiveEmptySample) {
  EXPECT_TRUE(SampleUniformWithoutReplacement(0, 3, {.seed = 1}).rows.empty());
  EXPECT_TRUE(SampleUniformWithoutReplacement(5, 0, {.seed = 1}).rows.empty());
  EXPECT_EQ(SampleUniformWithoutReplacement(1, 1, {.seed = 1}).rows, std::vector<uint64_t>{0});
}

TEST(UniformWithoutReplacement, WeightsAreNOverK) {
  const Sample s = SampleUniformWithoutReplacement(10, 4, {.seed = 1, .with_weights = true});
  EXPECT_EQ(s.ht_weights, std::vector<double>(4, 2.5));
}

TEST(UniformWithoutReplacement, DeterministicAndPrefixesAgree) {
  const auto a = SampleUniformWithoutReplacement(100000, 500, {.seed = 9}).rows;
  EXPECT_EQ(a, SampleUniformWithoutReplacement(100000, 500, {.seed = 9}).rows);
  EXPECT_NE(a, SampleUniformWithoutReplacement(100000, 500, {.seed = 10}).rows);
  const auto longer = SampleUniformWithoutReplacement(100000, 50000, {.seed = 9}).rows;
  EXPECT_TRUE(std::equal(a.begin(), a.end(), longer.begin()));  // sparse vs dense path too
}

// --- shuffle ------------------------------------------------------------------------------

TEST(Shuffle, AllTwentyFourOrdersOfFourAreEquallyLikely) {
  std::vector<int64_t> counts(24);
  for (uint64_t seed = 0; seed < 24 * 500; ++seed) ++counts[testing::OrderRank(Shuffle(4, seed))];
  const auto r = ChiSquareTest(counts, std::vector<double>(24, 1.0 / 24));
  EXPECT_GT(r.p_value, 1e-4) << "chi2=" << r.statistic;
}

TEST(Shuffle, AllOrdersOfFiveAreEquallyLikely) {
  std::vector<int64_t> counts(120);
  for (uint64_t seed = 0; seed < 120 * 200; ++seed) ++counts[testing::OrderRank(Shuffle(5, seed))];
  const auto r = ChiSquareTest(counts, std::vector<double>(120, 1.0 / 120));
  EXPECT_GT(r.p_value, 1e-4) << "chi2=" << r.statistic;
}

TEST(Shuffle, IsAPermutationForEverySize) {
  EXPECT_TRUE(Shuffle(0, 1).empty());
  EXPECT_EQ(Shuffle(1, 1), std::vector<uint64_t>{0});
  for (uint64_t n : {2, 3, 17, 1000, 100000}) {
    auto v = Shuffle(n, n);
    std::sort(v.begin(), v.end());
    EXPECT_EQ(v, Iota(n));
  }
}

TEST(Shuffle, SameSeedSameOrderOtherSeedAnother) {
  EXPECT_EQ(Shuffle(1000, 1), Shuffle(1000, 1));
  EXPECT_NE(Shuffle(1000, 1), Shuffle(1000, 2));
}

// PartialShuffle(k) is the first k steps of the full shuffle: its prefix agrees.
TEST(Shuffle, PartialShuffleIsAPrefixOfTheFullShuffle) {
  const random::KeyedStream stream(5, random::Stream::kShuffle);
  auto full = Iota(50), part = Iota(50);
  PartialShuffle(absl::MakeSpan(full), 50, stream);
  PartialShuffle(absl::MakeSpan(part), 7, stream);
  EXPECT_TRUE(std::equal(part.begin(), part.begin() + 7, full.begin()));
}

}  // namespace
}  // namespace urn::samplers
