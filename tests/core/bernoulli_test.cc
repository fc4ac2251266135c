#include "samplers/bernoulli.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "support/orders.h"
#include "support/stats.h"

namespace urn::samplers {
namespace {

using testing::ChiSquareTest;

// P(pattern) for independent inclusions at probability p: p^|pattern| (1-p)^(m-|pattern|).
std::vector<double> PatternProbabilities(int m, double p) {
  std::vector<double> probs(1 << m);
  for (int mask = 0; mask < (1 << m); ++mask) {
    const int k = __builtin_popcount(mask);
    probs[mask] = std::pow(p, k) * std::pow(1 - p, m - k);
  }
  return probs;
}

// Over many seeds, the inclusion pattern of 6 rows follows the exact product distribution:
// this tests every row's frequency p and the independence of every pair and tuple. Blocks of
// 2 rows put three block boundaries inside the population; 2^16 puts none.
TEST(Bernoulli, InclusionPatternsFollowIndependentBernoulliTrials) {
  const double p = 0.3;
  for (bool compat : {false, true}) {
    for (int block_log2 : {1, 16}) {
      std::vector<int64_t> counts(64);
      for (uint64_t seed = 0; seed < 20000; ++seed) {
        auto s = SampleBernoulli(
            6, p, {.seed = seed, .compatibility_mode = compat, .block_log2 = block_log2});
        ASSERT_TRUE(s.ok());
        ++counts[testing::SubsetMask(s->rows)];
      }
      const auto r = ChiSquareTest(counts, PatternProbabilities(6, p));
      EXPECT_GT(r.p_value, 1e-4) << "compat=" << compat << " block_log2=" << block_log2
                                 << " chi2=" << r.statistic;
    }
  }
}

// The sample size is Binomial(n, p): here n = 200 over 25 blocks of 8 rows, p = 0.05.
TEST(Bernoulli, SampleSizeIsBinomial) {
  const int n = 200;
  const double p = 0.05;
  const int cells = 21;  // 0 .. 19, and >= 20
  std::vector<double> probs(cells);
  double below = 0;
  for (int k = 0; k < cells - 1; ++k) {
    probs[k] = std::exp(std::lgamma(n + 1) - std::lgamma(k + 1) - std::lgamma(n - k + 1) +
                        k * std::log(p) + (n - k) * std::log1p(-p));
    below += probs[k];
  }
  probs[cells - 1] = 1 - below;
  for (bool compat : {false, true}) {
    std::vector<int64_t> counts(cells);
    for (uint64_t seed = 0; seed < 20000; ++seed) {
      auto s = SampleBernoulli(n, p, {.seed = seed, .compatibility_mode = compat, .block_log2 = 3});
      ASSERT_TRUE(s.ok());
      ++counts[std::min<size_t>(s->rows.size(), cells - 1)];
    }
    const auto r = ChiSquareTest(counts, probs);
    EXPECT_GT(r.p_value, 1e-4) << "compat=" << compat << " chi2=" << r.statistic;
  }
}

// In one large sample, rows fall in each of 100 equal slices of the population equally often,
// and the kept count matches n p.
TEST(Bernoulli, KeptRowsAreSpreadUniformlyInOneLargeSample) {
  const uint64_t n = 1000000;
  auto s = SampleBernoulli(n, 0.1, {.seed = 8});
  ASSERT_TRUE(s.ok());
  std::vector<int64_t> counts(100);
  for (uint64_t row : s->rows) ++counts[row * 100 / n];
  const auto r = ChiSquareTest(counts, std::vector<double>(100, 0.01));
  EXPECT_GT(r.p_value, 1e-4) << "chi2=" << r.statistic;
  const auto total = ChiSquareTest(
      {static_cast<int64_t>(s->rows.size()), static_cast<int64_t>(n - s->rows.size())}, {0.1, 0.9});
  EXPECT_GT(total.p_value, 1e-4) << "kept " << s->rows.size();
}

TEST(Bernoulli, RejectsProbabilitiesOutsideZeroOne) {
  for (double p :
       {0.0, -0.5, 1.0000001, 2.0, std::nan(""), std::numeric_limits<double>::infinity()}) {
    EXPECT_EQ(SampleBernoulli(10, p, {}).status().code(), absl::StatusCode::kInvalidArgument) << p;
    EXPECT_EQ(BernoulliFilter::Create(p, {}).status().code(), absl::StatusCode::kInvalidArgument);
  }
  EXPECT_FALSE(SampleBernoulli(10, 0.5, {.block_log2 = 0}).ok());
}

TEST(Bernoulli, ProbabilityOneKeepsEveryRowWithWeightOne) {
  for (bool compat : {false, true}) {
    auto s = SampleBernoulli(1000, 1.0, {.compatibility_mode = compat, .with_weights = true});
    ASSERT_TRUE(s.ok());
    ASSERT_EQ(s->rows.size(), 1000u);
    for (uint64_t i = 0; i < 1000; ++i) ASSERT_EQ(s->rows[i], i);
    EXPECT_EQ(s->ht_weights, std::vector<double>(1000, 1.0));
  }
}

TEST(Bernoulli, EmptyPopulationAndTinyProbability) {
  auto empty = SampleBernoulli(0, 0.5, {});
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->rows.empty());
  auto tiny = SampleBernoulli(1000000, 1e-300, {.seed = 1});
  ASSERT_TRUE(tiny.ok());
  EXPECT_TRUE(tiny->rows.empty());
  auto small = SampleBernoulli(1000000, 1e-5, {.seed = 2, .with_weights = true});
  ASSERT_TRUE(small.ok());
  EXPECT_LT(small->rows.size(), 40u);
  for (double w : small->ht_weights) EXPECT_DOUBLE_EQ(w, 1e5);
}

TEST(Bernoulli, OutputIsInInputOrderWithWeightsOneOverP) {
  auto s = SampleBernoulli(100000, 0.25, {.seed = 3, .with_weights = true});
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(std::is_sorted(s->rows.begin(), s->rows.end()));
  EXPECT_EQ(std::adjacent_find(s->rows.begin(), s->rows.end()), s->rows.end());
  EXPECT_EQ(s->ht_weights, std::vector<double>(s->rows.size(), 4.0));
}

TEST(Bernoulli, SameSeedSameSampleOtherSeedAnother) {
  for (bool compat : {false, true}) {
    const BernoulliOptions a{.seed = 1, .compatibility_mode = compat};
    const BernoulliOptions b{.seed = 2, .compatibility_mode = compat};
    EXPECT_EQ(SampleBernoulli(10000, 0.2, a)->rows, SampleBernoulli(10000, 0.2, a)->rows);
    EXPECT_NE(SampleBernoulli(10000, 0.2, a)->rows, SampleBernoulli(10000, 0.2, b)->rows);
  }
}

TEST(Bernoulli, OneTwoAndEightThreadsGiveTheSameSample) {
  const uint64_t n = 3 * (uint64_t{1} << 20) + 777;  // several parallel chunks
  for (bool compat : {false, true}) {
    const auto one = SampleBernoulli(n, 0.1, {.seed = 5, .compatibility_mode = compat});
    for (int threads : {2, 8}) {
      const auto many =
          SampleBernoulli(n, 0.1, {.seed = 5, .compatibility_mode = compat, .threads = threads});
      EXPECT_EQ(one->rows, many->rows) << "threads=" << threads << " compat=" << compat;
    }
  }
}

TEST(Bernoulli, CompatibilityModeSampleAtPIsASubsetOfSampleAtLargerP) {
  std::vector<uint64_t> previous;
  for (double p : {0.01, 0.1, 0.3, 0.7, 1.0}) {
    auto s = SampleBernoulli(50000, p, {.seed = 4, .compatibility_mode = true});
    ASSERT_TRUE(s.ok());
    EXPECT_TRUE(std::includes(s->rows.begin(), s->rows.end(), previous.begin(), previous.end()))
        << "p=" << p;
    previous = s->rows;
  }
}

// The streaming filter agrees with the batch sampler, row by row, in both modes and across
// block boundaries; NextKeptAtOrAfter jumps exactly to the next kept row.
TEST(BernoulliFilter, AgreesWithTheBatchSampler) {
  for (bool compat : {false, true}) {
    for (int block_log2 : {2, 16}) {
      const BernoulliOptions options{
          .seed = 12, .compatibility_mode = compat, .block_log2 = block_log2};
      const uint64_t n = 200000;
      const auto batch = SampleBernoulli(n, 0.05, options);
      ASSERT_TRUE(batch.ok());
      auto filter = BernoulliFilter::Create(0.05, options);
      ASSERT_TRUE(filter.ok());
      std::vector<uint64_t> kept;
      for (uint64_t i = 0; i < n; ++i) {
        if (filter->Keep(i)) kept.push_back(i);
      }
      EXPECT_EQ(kept, batch->rows) << "compat=" << compat << " block_log2=" << block_log2;

      auto jumper = BernoulliFilter::Create(0.05, options);
      std::vector<uint64_t> jumped;
      for (uint64_t i = jumper->NextKeptAtOrAfter(0); i < n; i = jumper->NextKeptAtOrAfter(i + 1)) {
        ASSERT_TRUE(jumper->Keep(i));
        jumped.push_back(i);
      }
      EXPECT_EQ(jumped, batch->rows);

      // With a limit 1000 rows ahead, as a reader that does not know where its input ends: the
      // limit comes back when no kept row lies before it, Keep refuses it, and the kept rows
      // are the same.
      auto limited = BernoulliFilter::Create(0.05, options);
      std::vector<uint64_t> stepped;
      for (uint64_t i = 0; i < n;) {
        const uint64_t next = limited->NextKeptAtOrAfter(i, i + 1000);
        ASSERT_LE(next, i + 1000);
        if (next >= n) break;
        if (limited->Keep(next)) stepped.push_back(next);
        i = next + 1;
      }
      EXPECT_EQ(stepped, batch->rows);
    }
  }
}

// With p tiny the next kept row is ~1/p rows away: a limit bounds the walk towards it.
TEST(BernoulliFilter, NextKeptStopsAtTheLimit) {
  for (bool compat : {false, true}) {
    auto filter =
        BernoulliFilter::Create(1e-18, BernoulliOptions{.seed = 1, .compatibility_mode = compat});
    ASSERT_TRUE(filter.ok());
    EXPECT_EQ(filter->NextKeptAtOrAfter(0, 1 << 20), uint64_t{1} << 20);
    EXPECT_FALSE(filter->Keep(uint64_t{1} << 20));
  }
}

// Feeding only some rows (gaps) gives the batch decisions for those rows.
TEST(BernoulliFilter, RowsWithGapsGetTheSameDecisions) {
  const BernoulliOptions options{.seed = 3, .block_log2 = 4};
  const auto batch = SampleBernoulli(10000, 0.3, options);
  auto filter = BernoulliFilter::Create(0.3, options);
  ASSERT_TRUE(filter.ok());
  for (uint64_t i = 0; i < 10000; i += 7) {
    const bool in = std::binary_search(batch->rows.begin(), batch->rows.end(), i);
    ASSERT_EQ(filter->Keep(i), in) << i;
  }
  EXPECT_DOUBLE_EQ(filter->weight(), 1 / 0.3);
}

}  // namespace
}  // namespace urn::samplers
