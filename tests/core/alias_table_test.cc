#include "samplers/alias_table.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <numeric>
#include <vector>

#include "random/counter_rng.h"
#include "support/stats.h"

namespace urn::samplers {
namespace {

using ::testing::HasSubstr;

std::vector<double> Normalized(const std::vector<double>& w) {
  const double total = std::accumulate(w.begin(), w.end(), 0.0);
  std::vector<double> p(w);
  for (double& x : p) x /= total;
  return p;
}

// Frequencies of 200000 draws, zero weights included (their cells must stay empty).
TEST(AliasTable, DrawFrequenciesAreProportionalToWeightsChiSquare) {
  const std::vector<double> w = {0, 1, 2, 3, 0, 4, 10, 0.5, 7, 0};
  const AliasTable table = *AliasTable::Build(w);
  std::vector<int64_t> counts(w.size());
  for (uint64_t row : table.SampleRows(77, 200000).rows) ++counts[row];
  EXPECT_EQ(counts[0] + counts[4] + counts[9], 0);
  const auto chi = testing::ChiSquareTest(counts, Normalized(w));
  EXPECT_GT(chi.p_value, 1e-4) << "chi2=" << chi.statistic;
}

// Pairs of consecutive draws (2d, 2d + 1): joint probability p_i * p_j (independence).
TEST(AliasTable, ConsecutiveDrawsAreIndependentChiSquare) {
  const std::vector<double> w = {1, 2, 3, 4, 5};
  const std::vector<double> p = Normalized(w);
  std::vector<double> joint(25);
  for (int i = 0; i < 5; ++i) {
    for (int j = 0; j < 5; ++j) joint[i * 5 + j] = p[i] * p[j];
  }
  const AliasTable table = *AliasTable::Build(w);
  const std::vector<uint64_t> rows = table.SampleRows(5, 400000).rows;
  std::vector<int64_t> counts(25);
  for (size_t d = 0; d + 1 < rows.size(); d += 2) ++counts[rows[d] * 5 + rows[d + 1]];
  const auto chi = testing::ChiSquareTest(counts, joint);
  EXPECT_GT(chi.p_value, 1e-4) << "chi2=" << chi.statistic;
}

// Across seeds: draw number 3 of seeds 0..N-1 (a different axis than the draw index).
TEST(AliasTable, OneDrawAcrossSeedsIsProportionalChiSquare) {
  const std::vector<double> w = {5, 1, 1, 3};
  const AliasTable table = *AliasTable::Build(w);
  std::vector<int64_t> counts(4);
  for (uint64_t seed = 0; seed < 50000; ++seed) ++counts[table.Draw(seed, 3)];
  const auto chi = testing::ChiSquareTest(counts, Normalized(w));
  EXPECT_GT(chi.p_value, 1e-4) << "chi2=" << chi.statistic;
}

TEST(AliasTable, RealizedProbabilitiesAreWithinTheDocumentedBound) {
  const random::KeyedStream s(3, random::Stream::kUniformWithReplacement);
  for (int trial = 0; trial < 4; ++trial) {
    const size_t n = trial == 0 ? 3 : 5000;
    std::vector<double> w(n);
    for (size_t i = 0; i < n; ++i) {
      const double u = s.Uniform(trial * 100000 + i);
      w[i] = trial == 1   ? u
             : trial == 2 ? std::pow(10.0, 600 * u - 300)  // 1e-300 .. 1e300
             : trial == 3 ? (i % 3 == 0 ? 0.0 : std::ldexp(u, -1074 + static_cast<int>(i % 50)))
                          : (i == 1 ? 1e300 : 1e-300);
    }
    long double total = 0;
    for (double x : w) total += x;
    const AliasTable table = *AliasTable::Build(w);
    const std::vector<double> p = table.Probabilities();
    long double sum = 0;
    for (size_t i = 0; i < n; ++i) {
      const long double exact = w[i] / total;
      sum += p[i];
      if (w[i] == 0) {
        ASSERT_EQ(p[i], 0.0) << i;
      }
      ASSERT_LE(std::fabs(static_cast<long double>(p[i]) - exact), 0x1p-60 + 0x1p-52 * exact)
          << "trial " << trial << " row " << i << " w=" << w[i];
    }
    EXPECT_NEAR(static_cast<double>(sum), 1.0, 1e-12);
  }
}

TEST(AliasTable, ExtremeWeightsTogether) {
  std::vector<double> w(1000, 1e-300);
  w[10] = 1e300;
  w[20] = 0;
  const AliasTable table = *AliasTable::Build(w);
  for (uint64_t row : table.SampleRows(1, 10000).rows) ASSERT_EQ(row, 10u);
  // Subnormal weights only: the ratios still hold.
  const AliasTable tiny = *AliasTable::Build(std::vector<double>{DBL_TRUE_MIN, 3 * DBL_TRUE_MIN});
  EXPECT_EQ(tiny.Probabilities(), (std::vector<double>{0.25, 0.75}));
}

TEST(AliasTable, SingleRowAndAllButOneZero) {
  const AliasTable one = *AliasTable::Build(std::vector<double>{2.5});
  EXPECT_EQ(one.Draw(1, 0), 0u);
  const AliasTable sparse = *AliasTable::Build(std::vector<double>{0, 0, 7, 0});
  for (uint64_t row : sparse.SampleRows(2, 1000).rows) ASSERT_EQ(row, 2u);
  EXPECT_TRUE(one.SampleRows(1, 0).rows.empty());
}

TEST(AliasTable, InvalidInputsAreErrors) {
  EXPECT_EQ(AliasTable::Build({}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(AliasTable::Build(std::vector<double>{0, 0}).status().code(),
            absl::StatusCode::kInvalidArgument);
  for (double bad : {-1.0, std::nan(""), HUGE_VAL}) {
    const auto t = AliasTable::Build(std::vector<double>{1, 2, bad});
    EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(t.status().message()), HasSubstr("row 2 "));
  }
}

TEST(AliasTable, DrawsArePureFunctionsOfSeedAndDrawNumber) {
  const std::vector<double> w = {1, 2, 3, 4, 5, 6, 7};
  const AliasTable table = *AliasTable::Build(w);
  const std::vector<uint64_t> all = table.SampleRows(9, 1000).rows;
  std::vector<uint64_t> tail(400);
  table.Draw(9, 600, tail);
  EXPECT_TRUE(std::equal(tail.begin(), tail.end(), all.begin() + 600));
  for (uint64_t d : {0, 17, 999}) EXPECT_EQ(table.Draw(9, d), all[d]);
  EXPECT_NE(table.SampleRows(10, 1000).rows, all);
  EXPECT_EQ(AliasTable::Build(w)->SampleRows(9, 1000).rows, all);
}

}  // namespace
}  // namespace urn::samplers
