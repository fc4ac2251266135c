#include "samplers/weighted_shuffle.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <numeric>
#include <vector>

#include "random/counter_rng.h"
#include "samplers/exponential_key.h"
#include "support/stats.h"

namespace urn::samplers {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<uint64_t> Shuffle(std::span<const double> w, uint64_t seed, int threads = 1) {
  WeightedOptions options;
  options.seed = seed;
  options.threads = threads;
  absl::StatusOr<Sample> s = WeightedShuffle(w, options);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? s->rows : std::vector<uint64_t>{};
}

// All 24 orders of 4 rows with weights (1, 2, 3, 4): probability of an order is the product of
// successive draw probabilities w_a / W * w_b / (W - w_a) * w_c / (W - w_a - w_b).
TEST(WeightedShuffle, EachOrderHasTheProbabilityOfSuccessiveDrawsChiSquare) {
  const std::vector<double> w = {1, 2, 3, 4};
  std::vector<int> order = {0, 1, 2, 3};
  std::vector<std::vector<int>> orders;
  std::vector<double> p;
  do {
    orders.push_back(order);
    double prob = 1, left = 10;
    for (int r : order) {
      prob *= w[r] / left;
      left -= w[r];
    }
    p.push_back(prob);
  } while (std::next_permutation(order.begin(), order.end()));
  std::vector<int64_t> counts(orders.size());
  for (uint64_t seed = 0; seed < 40000; ++seed) {
    const std::vector<uint64_t> s = Shuffle(w, seed);
    const std::vector<int> got(s.begin(), s.end());
    const auto it = std::find(orders.begin(), orders.end(), got);
    ASSERT_NE(it, orders.end());
    ++counts[it - orders.begin()];
  }
  const auto chi = testing::ChiSquareTest(counts, p);
  EXPECT_GT(chi.p_value, 1e-4) << "chi2=" << chi.statistic;
}

TEST(WeightedShuffle, PrefixIsTheWeightedSampleOfTheSameSeed) {
  std::vector<double> w(200000);
  const random::KeyedStream s(2, random::Stream::kUniformWithReplacement);
  for (size_t i = 0; i < w.size(); ++i) w[i] = i % 7 == 3 ? 0 : std::pow(10.0, 40 * s.Uniform(i));
  const std::vector<uint64_t> shuffle = Shuffle(w, 21, 2);
  WeightedOptions options;
  options.seed = 21;
  const std::vector<uint64_t> sample = WeightedSampleWithoutReplacement(w, 5000, options)->rows;
  EXPECT_TRUE(std::equal(sample.begin(), sample.end(), shuffle.begin()));
}

TEST(WeightedShuffle, IsAPermutationWithZeroWeightsLastInInputOrder) {
  const std::vector<double> w = {0, 5, 0, 1, 2, 0};
  for (uint64_t seed = 0; seed < 50; ++seed) {
    const std::vector<uint64_t> s = Shuffle(w, seed);
    ASSERT_EQ(s.size(), 6u);
    EXPECT_THAT(std::vector<uint64_t>(s.begin() + 3, s.end()), ElementsAre(0, 2, 5));
    std::vector<uint64_t> head(s.begin(), s.begin() + 3);
    std::sort(head.begin(), head.end());
    EXPECT_THAT(head, ElementsAre(1, 3, 4));
  }
}

TEST(WeightedShuffle, MatchesSortingEveryKeyOnWildWeights) {
  const size_t n = 300000;
  std::vector<double> w(n);
  const random::KeyedStream s(3, random::Stream::kUniformWithReplacement);
  for (size_t i = 0; i < n; ++i) {
    const double u = s.Uniform(i);
    w[i] = i % 5 == 0   ? std::max(DBL_TRUE_MIN, std::ldexp(u, -1074 + static_cast<int>(i % 40)))
           : i % 5 == 1 ? DBL_MAX * u
                        : std::pow(10.0, 600 * u - 300);
  }
  const random::KeyedStream stream(4, random::Stream::kWeighted);
  std::vector<KeyedRow> all(n);
  for (uint64_t i = 0; i < n; ++i) all[i] = {ExponentialKey(stream.Bits(i), w[i]), i};
  std::sort(all.begin(), all.end());
  const std::vector<uint64_t> got = Shuffle(w, 4, 2);
  ASSERT_EQ(got.size(), n);
  for (size_t i = 0; i < n; ++i) ASSERT_EQ(got[i], all[i].row) << i;
}

TEST(WeightedShuffle, ThreadCountDoesNotChangeTheOrder) {
  std::vector<double> w(1 << 19);
  for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<double>(i % 100);
  const std::vector<uint64_t> one = Shuffle(w, 6, 1);
  EXPECT_EQ(Shuffle(w, 6, 2), one);
  EXPECT_EQ(Shuffle(w, 6, 8), one);
  EXPECT_NE(Shuffle(w, 7, 1), one);
}

TEST(WeightedShuffle, EdgeCasesAndErrors) {
  EXPECT_TRUE(Shuffle({}, 1).empty());
  EXPECT_THAT(Shuffle(std::vector<double>{3}, 1), ElementsAre(0));
  EXPECT_THAT(Shuffle(std::vector<double>{0, 0, 0}, 1), ElementsAre(0, 1, 2));
  std::vector<double> w(300000, 1.0);
  w[250000] = -1;
  w[70000] = std::nan("");
  WeightedOptions options;
  options.threads = 4;
  const auto bad = WeightedShuffle(w, options);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("row 70000 "));
}

TEST(WeightedShuffle, RowKeysFollowTheRowAcrossStorageOrders) {
  std::vector<double> w(5000);
  std::vector<uint64_t> keys(w.size());
  for (size_t i = 0; i < w.size(); ++i) {
    w[i] = static_cast<double>(i % 9);
    keys[i] = random::HashKey(uint64_t{i});
  }
  const std::vector<double> w_rev(w.rbegin(), w.rend());
  const std::vector<uint64_t> keys_rev(keys.rbegin(), keys.rend());
  WeightedOptions options;
  options.seed = 8;
  const Sample a = *WeightedShuffle(w, keys, options);
  const Sample b = *WeightedShuffle(w_rev, keys_rev, options);
  ASSERT_EQ(a.rows.size(), w.size());
  // Positive-weight rows follow their keys; zero-weight rows (every 9th) follow input order.
  const size_t positive = w.size() - (w.size() + 8) / 9;
  for (size_t i = 0; i < positive; ++i) ASSERT_EQ(keys[a.rows[i]], keys_rev[b.rows[i]]) << i;
  EXPECT_EQ(WeightedShuffle(w, std::vector<uint64_t>(3), options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(WeightedShuffle, HugeWeightComesFirst) {
  std::vector<double> w(1000, 1e-300);
  w[999] = 1e300;
  for (uint64_t seed = 0; seed < 50; ++seed) ASSERT_EQ(Shuffle(w, seed)[0], 999u);
}

}  // namespace
}  // namespace urn::samplers
