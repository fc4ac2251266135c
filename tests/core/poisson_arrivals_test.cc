#include "samplers/poisson_arrivals.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <numeric>
#include <vector>

#include "random/counter_rng.h"
#include "support/stats.h"

namespace urn::samplers {
namespace {

using ::testing::HasSubstr;

std::vector<uint64_t> Draws(std::span<const double> w, uint64_t m, uint64_t seed, int threads = 1) {
  WeightedOptions options;
  options.seed = seed;
  options.threads = threads;
  absl::StatusOr<Sample> s = PoissonArrivalsSample(w, m, options);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? s->rows : std::vector<uint64_t>{};
}

// Ordered triples of 3 draws from weights (1, 2, 3, 4): independent draws, so
// P(a, b, c) = w_a w_b w_c / W^3 over all 64 triples (repeats included).
TEST(PoissonArrivals, OrderedTriplesAreIndependentWeightedDrawsChiSquare) {
  const std::vector<double> w = {1, 2, 3, 4};
  std::vector<double> p(64);
  for (int a = 0; a < 4; ++a) {
    for (int b = 0; b < 4; ++b) {
      for (int c = 0; c < 4; ++c) p[a * 16 + b * 4 + c] = w[a] * w[b] * w[c] / 1000;
    }
  }
  std::vector<int64_t> counts(64);
  for (uint64_t seed = 0; seed < 40000; ++seed) {
    const std::vector<uint64_t> r = Draws(w, 3, seed);
    ASSERT_EQ(r.size(), 3u);
    ++counts[r[0] * 16 + r[1] * 4 + r[2]];
  }
  const auto chi = testing::ChiSquareTest(counts, p);
  EXPECT_GT(chi.p_value, 1e-4) << "chi2=" << chi.statistic;
}

// More draws than rows of positive weight: every draw still has probability w_i / W, and
// zero-weight rows never appear. Draws within one sample are independent, so pooling them is
// a multinomial count.
TEST(PoissonArrivals, ManyDrawsFromFewRowsAreProportionalChiSquare) {
  const std::vector<double> w = {0, 1, 3, 0, 6};
  std::vector<int64_t> counts(5);
  for (uint64_t seed = 0; seed < 2000; ++seed) {
    for (uint64_t row : Draws(w, 50, seed)) ++counts[row];
  }
  EXPECT_EQ(counts[0] + counts[3], 0);
  const auto chi = testing::ChiSquareTest(counts, {0, 0.1, 0.3, 0, 0.6});
  EXPECT_GT(chi.p_value, 1e-4) << "chi2=" << chi.statistic;
}

// The number of times the heaviest of 10 rows appears in 40 draws is Binomial(40, p).
TEST(PoissonArrivals, RepeatCountOfOneRowIsBinomialChiSquare) {
  std::vector<double> w(10, 1.0);
  w[4] = 3;  // p = 3 / 12
  const double p = 0.25;
  std::vector<double> binomial(41);
  for (int x = 0; x <= 40; ++x) {
    binomial[x] = std::exp(std::lgamma(41) - std::lgamma(x + 1) - std::lgamma(41 - x) +
                           x * std::log(p) + (40 - x) * std::log(1 - p));
  }
  // Pool the tails so that every cell expects >= 5 of 20000.
  std::vector<double> cells = {0};
  std::vector<int64_t> counts;
  std::vector<int> cell_of(41);
  for (int x = 0; x <= 40; ++x) {
    cell_of[x] = static_cast<int>(cells.size()) - 1;
    cells.back() += binomial[x];
    if (cells.back() * 20000 >= 5 && x < 40) cells.push_back(0);
  }
  // Merge a small last cell into its neighbour.
  if (cells.size() > 1 && cells.back() * 20000 < 5) {
    cells[cells.size() - 2] += cells.back();
    cells.pop_back();
    for (int& c : cell_of) c = std::min<int>(c, static_cast<int>(cells.size()) - 1);
  }
  counts.assign(cells.size(), 0);
  for (uint64_t seed = 0; seed < 20000; ++seed) {
    const std::vector<uint64_t> r = Draws(w, 40, seed + 77777);
    ++counts[cell_of[std::count(r.begin(), r.end(), 4u)]];
  }
  const auto chi = testing::ChiSquareTest(counts, cells);
  EXPECT_GT(chi.p_value, 1e-4) << "chi2=" << chi.statistic;
}

TEST(PoissonArrivals, FewerDrawsAreAPrefixOfMoreDraws) {
  std::vector<double> w(5000);
  for (size_t i = 0; i < w.size(); ++i) w[i] = 1 + (i % 13);
  const std::vector<uint64_t> all = Draws(w, 2000, 3);
  for (uint64_t m : {1, 10, 1999}) {
    const std::vector<uint64_t> some = Draws(w, m, 3);
    EXPECT_TRUE(std::equal(some.begin(), some.end(), all.begin())) << m;
  }
}

TEST(PoissonArrivals, ExtremeWeights) {
  std::vector<double> w(500, 1e-300);
  w[42] = 1e300;
  for (uint64_t row : Draws(w, 100, 1)) ASSERT_EQ(row, 42u);
  const std::vector<double> tiny = {DBL_TRUE_MIN, 3 * DBL_TRUE_MIN};
  std::vector<int64_t> counts(2);
  for (uint64_t seed = 0; seed < 500; ++seed) {
    for (uint64_t row : Draws(tiny, 20, seed)) ++counts[row];
  }
  const auto chi = testing::ChiSquareTest(counts, {0.25, 0.75});
  EXPECT_GT(chi.p_value, 1e-4) << "chi2=" << chi.statistic;
}

TEST(PoissonArrivals, DeterministicAcrossThreadCounts) {
  std::vector<double> w(1 << 19);
  const random::KeyedStream s(8, random::Stream::kUniformWithReplacement);
  for (size_t i = 0; i < w.size(); ++i) w[i] = i % 5 == 0 ? 0 : s.Uniform(i);
  const std::vector<uint64_t> one = Draws(w, 3000, 5, 1);
  EXPECT_EQ(one.size(), 3000u);
  EXPECT_EQ(Draws(w, 3000, 5, 2), one);
  EXPECT_EQ(Draws(w, 3000, 5, 8), one);
  EXPECT_NE(Draws(w, 3000, 6, 1), one);
}

TEST(PoissonArrivals, InputOrderSortsTheDraws) {
  const std::vector<double> w = {1, 2, 3};
  WeightedOptions options;
  options.seed = 4;
  std::vector<uint64_t> arrival = PoissonArrivalsSample(w, 30, options)->rows;
  options.order = SampleOrder::kInput;
  const std::vector<uint64_t> input = PoissonArrivalsSample(w, 30, options)->rows;
  std::sort(arrival.begin(), arrival.end());
  EXPECT_EQ(input, arrival);
}

TEST(PoissonArrivals, EdgeCasesAndErrors) {
  EXPECT_TRUE(Draws(std::vector<double>{1, 2}, 0, 1).empty());
  EXPECT_EQ(Draws(std::vector<double>{2}, 5, 1), std::vector<uint64_t>(5, 0));
  EXPECT_EQ(PoissonArrivalsSample(std::vector<double>{0, 0}, 3).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(PoissonArrivalsSample({}, 3).status().code(), absl::StatusCode::kInvalidArgument);
  const auto bad = PoissonArrivalsSample(std::vector<double>{1, -2}, 3);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("row 1 "));
}

TEST(PoissonArrivals, RowKeysFollowTheRowAcrossStorageOrders) {
  const std::vector<double> w = {1, 2, 3, 4, 5};
  const std::vector<uint64_t> keys = {11, 22, 33, 44, 55};
  const std::vector<double> w_rev(w.rbegin(), w.rend());
  const std::vector<uint64_t> keys_rev(keys.rbegin(), keys.rend());
  WeightedOptions options;
  options.seed = 9;
  const Sample a = *PoissonArrivalsSample(w, keys, 40, options);
  const Sample b = *PoissonArrivalsSample(w_rev, keys_rev, 40, options);
  for (size_t i = 0; i < 40; ++i) EXPECT_EQ(keys[a.rows[i]], keys_rev[b.rows[i]]);
}

}  // namespace
}  // namespace urn::samplers
