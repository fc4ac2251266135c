#include "samplers/distinct.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "support/stats.h"

namespace urn::samplers {
namespace {

using testing::ChiSquareTest;

// U-SQL's example: SAMPLE @data ON ZipCode DISTINCT (0.1, 3) WITH WEIGHT keeps all five rows,
// each with weight 1, because no ZipCode has more than 3 rows. Whatever the seed.
TEST(Distinct, USqlZipCodeExampleKeepsAllFiveRowsWithWeightOne) {
  const std::vector<std::string_view> zip = {"02143", "98052", "02139", "02139", "61801"};
  for (uint64_t seed = 0; seed < 100; ++seed) {
    auto s = SampleDistinct(zip, 0.1, 3, seed, true);
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(s->rows, (std::vector<uint64_t>{0, 1, 2, 3, 4}));
    EXPECT_EQ(s->ht_weights, std::vector<double>(5, 1.0));
  }
}

// A key with 10 rows, min_rows 3, p = 0.5: the first 3 rows are always kept with weight 1; the
// other 7 follow independent Bernoulli(0.5) trials: all 128 patterns equally likely.
TEST(Distinct, RowsBeyondMinRowsAreIndependentBernoulliTrials) {
  std::vector<int64_t> counts(128);
  for (uint64_t seed = 0; seed < 128 * 80; ++seed) {
    auto d = DistinctSampler::Create(0.5, 3, seed);
    ASSERT_TRUE(d.ok());
    int pattern = 0;
    for (int i = 0; i < 10; ++i) {
      const auto decision = d->Offer("98052");
      if (i < 3) {
        ASSERT_TRUE(decision.keep);
        ASSERT_EQ(decision.weight, 1.0);
      } else {
        ASSERT_EQ(decision.weight, 2.0);
        pattern |= decision.keep << (i - 3);
      }
    }
    ++counts[pattern];
  }
  const auto r = ChiSquareTest(counts, std::vector<double>(128, 1.0 / 128));
  EXPECT_GT(r.p_value, 1e-4) << "chi2=" << r.statistic;
}

// Every key appears; the rest of the rows are kept at rate p (Binomial over many rows).
TEST(Distinct, EveryKeyAppearsAndExtraRowsAreKeptAtRateP) {
  std::vector<std::string> column;
  for (int rep = 0; rep < 40; ++rep) {
    for (int k = 0; k < 500; ++k) column.push_back(absl::StrCat("k", k));
  }
  const std::vector<std::string_view> views(column.begin(), column.end());
  auto s = SampleDistinct(views, 0.2, 2, 7, true);
  ASSERT_TRUE(s.ok());
  std::vector<int> per_key(500);
  int64_t extra = 0;
  for (size_t j = 0; j < s->rows.size(); ++j) {
    ++per_key[s->rows[j] % 500];
    extra += s->ht_weights[j] != 1.0;
  }
  for (int k = 0; k < 500; ++k) ASSERT_GE(per_key[k], 2);
  const int64_t candidates = 500 * 38;
  const auto r = ChiSquareTest({extra, candidates - extra}, {0.2, 0.8});
  EXPECT_GT(r.p_value, 1e-4) << "extra=" << extra;
}

// A key's rows are decided by (key, occurrence) only: interleaving other keys changes nothing.
TEST(Distinct, DecisionsDoNotDependOnOtherKeysRows) {
  auto alone = DistinctSampler::Create(0.3, 1, 5);
  auto mixed = DistinctSampler::Create(0.3, 1, 5);
  for (int i = 0; i < 1000; ++i) {
    mixed->Offer(absl::StrCat("noise", i % 37));
    const auto a = alone->Offer("target");
    const auto m = mixed->Offer("target");
    ASSERT_EQ(a.keep, m.keep) << i;
  }
  EXPECT_EQ(alone->distinct_keys(), 1u);
  EXPECT_EQ(mixed->distinct_keys(), 38u);
}

TEST(Distinct, SampleAtPIsASubsetOfSampleAtLargerP) {
  std::vector<std::string> column;
  for (int i = 0; i < 20000; ++i) column.push_back(absl::StrCat("k", i % 300));
  const std::vector<std::string_view> views(column.begin(), column.end());
  std::vector<uint64_t> previous;
  for (double p : {0.01, 0.1, 0.5, 1.0}) {
    auto s = SampleDistinct(views, p, 3, 2, false);
    ASSERT_TRUE(s.ok());
    EXPECT_TRUE(std::includes(s->rows.begin(), s->rows.end(), previous.begin(), previous.end()));
    previous = s->rows;
  }
  EXPECT_EQ(previous.size(), column.size());
}

TEST(Distinct, MinRowsZeroIsAPerRowBernoulli) {
  auto d = DistinctSampler::Create(0.25, 0, 3);
  int64_t kept = 0;
  for (int i = 0; i < 40000; ++i) kept += d->Offer("same").keep;
  const auto r = ChiSquareTest({kept, 40000 - kept}, {0.25, 0.75});
  EXPECT_GT(r.p_value, 1e-4) << "kept=" << kept;
}

TEST(Distinct, RejectsProbabilitiesOutsideZeroOne) {
  for (double p : {0.0, -0.1, 1.01, std::nan("")}) {
    EXPECT_EQ(DistinctSampler::Create(p, 3, 1).status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_FALSE(SampleDistinct({}, p, 3, 1, false).ok());
  }
  auto empty = SampleDistinct({}, 0.5, 3, 1, true);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->rows.empty());
}

TEST(Distinct, SameSeedSameSampleOtherSeedAnother) {
  std::vector<std::string> column;
  for (int i = 0; i < 5000; ++i) column.push_back(absl::StrCat("k", i % 10));
  const std::vector<std::string_view> views(column.begin(), column.end());
  EXPECT_EQ(SampleDistinct(views, 0.3, 1, 1, false)->rows,
            SampleDistinct(views, 0.3, 1, 1, false)->rows);
  EXPECT_NE(SampleDistinct(views, 0.3, 1, 1, false)->rows,
            SampleDistinct(views, 0.3, 1, 2, false)->rows);
}

}  // namespace
}  // namespace urn::samplers
