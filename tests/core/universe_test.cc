#include "samplers/universe.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "samplers/group_key.h"
#include "support/stats.h"

namespace urn::samplers {
namespace {

using testing::ChiSquareTest;

std::vector<std::string> Keys(int n, const std::string& prefix = "key") {
  std::vector<std::string> keys;
  for (int i = 0; i < n; ++i) keys.push_back(prefix + std::to_string(i));
  return keys;
}

// Each of 50,000 distinct keys is in the universe with probability p: the count is
// Binomial(50000, p).
TEST(Universe, EachKeyIsKeptWithProbabilityP) {
  const auto keys = Keys(50000);
  for (double p : {0.01, 0.3, 0.9}) {
    auto u = UniverseSampler::Create(p, 17);
    ASSERT_TRUE(u.ok());
    int64_t kept = 0;
    for (const auto& k : keys) kept += u->Keep(k);
    const auto r = ChiSquareTest({kept, 50000 - kept}, {p, 1 - p});
    EXPECT_GT(r.p_value, 1e-4) << "p=" << p << " kept=" << kept;
  }
}

// One key over many seeds: kept in a fraction p of them, and two keys independently (the four
// joint outcomes have probabilities p^2, p(1-p), (1-p)p, (1-p)^2).
TEST(Universe, KeysAreDecidedIndependentlyAcrossSeeds) {
  const double p = 0.4;
  std::vector<int64_t> counts(4);
  for (uint64_t seed = 0; seed < 20000; ++seed) {
    auto u = UniverseSampler::Create(p, seed);
    ++counts[u->Keep("02139") * 2 + u->Keep("98052")];
  }
  const auto r = ChiSquareTest(counts, {(1 - p) * (1 - p), (1 - p) * p, p * (1 - p), p * p});
  EXPECT_GT(r.p_value, 1e-4) << "chi2=" << r.statistic;
}

TEST(Universe, AllRowsOfAKeyGoTogether) {
  std::vector<std::string> column;
  for (int rep = 0; rep < 5; ++rep) {
    for (const auto& k : Keys(200)) column.push_back(k);
  }
  const std::vector<std::string_view> views(column.begin(), column.end());
  auto s = SampleUniverse(views, 0.3, 5, true);
  ASSERT_TRUE(s.ok());
  std::map<std::string_view, int> rows_per_key;
  for (uint64_t row : s->rows) ++rows_per_key[views[row]];
  ASSERT_FALSE(rows_per_key.empty());
  for (const auto& [key, rows] : rows_per_key) EXPECT_EQ(rows, 5) << key;
  EXPECT_TRUE(std::is_sorted(s->rows.begin(), s->rows.end()));
  for (double w : s->ht_weights) EXPECT_DOUBLE_EQ(w, 1 / 0.3);
}

TEST(Universe, SampleAtPIsASubsetOfSampleAtLargerP) {
  const auto keys = Keys(20000);
  const std::vector<std::string_view> views(keys.begin(), keys.end());
  std::vector<uint64_t> previous;
  for (double p : {0.05, 0.2, 0.5, 1.0}) {
    auto s = SampleUniverse(views, p, 9, false);
    ASSERT_TRUE(s.ok());
    EXPECT_TRUE(std::includes(s->rows.begin(), s->rows.end(), previous.begin(), previous.end()));
    previous = s->rows;
  }
  EXPECT_EQ(previous.size(), keys.size());  // p = 1 keeps every row
}

// Sampling both inputs of an equijoin on the join key with one seed equals sampling the join.
TEST(Universe, SampleThenJoinEqualsJoinThenSample) {
  const auto left = Keys(3000), right = Keys(3000, "key");  // overlapping key spaces
  auto u = UniverseSampler::Create(0.2, 31);
  std::multiset<std::string> joined_then_sampled, sampled_then_joined;
  for (int i = 0; i < 3000; i += 2) {
    for (int j = 0; j < 3000; j += 3) {
      if (left[i] != right[j]) continue;
      if (u->Keep(left[i])) joined_then_sampled.insert(left[i]);
    }
  }
  for (int i = 0; i < 3000; i += 2) {
    if (!u->Keep(left[i])) continue;
    for (int j = 0; j < 3000; j += 3) {
      if (u->Keep(right[j]) && left[i] == right[j]) sampled_then_joined.insert(left[i]);
    }
  }
  EXPECT_FALSE(joined_then_sampled.empty());
  EXPECT_EQ(joined_then_sampled, sampled_then_joined);
}

TEST(Universe, RejectsProbabilitiesOutsideZeroOne) {
  for (double p : {0.0, -1.0, 1.5, std::nan("")}) {
    EXPECT_EQ(UniverseSampler::Create(p, 1).status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_FALSE(SampleUniverse({}, p, 1, false).ok());
  }
}

TEST(Universe, SameSeedSameKeysOtherSeedOthers) {
  const auto keys = Keys(2000);
  const std::vector<std::string_view> views(keys.begin(), keys.end());
  EXPECT_EQ(SampleUniverse(views, 0.5, 1, false)->rows, SampleUniverse(views, 0.5, 1, false)->rows);
  EXPECT_NE(SampleUniverse(views, 0.5, 1, false)->rows, SampleUniverse(views, 0.5, 2, false)->rows);
}

TEST(GroupKey, MultiColumnKeysAreUnambiguous) {
  using V = std::vector<std::string_view>;
  EXPECT_NE(HashKeyColumns(V{"ab", "c"}), HashKeyColumns(V{"a", "bc"}));
  EXPECT_NE(HashKeyColumns(V{"a\t", "b"}), HashKeyColumns(V{"a", "\tb"}));
  EXPECT_NE(HashKeyColumns(V{"", "x"}), HashKeyColumns(V{"x", ""}));
  EXPECT_NE(EncodeKeyColumns(V{"ab", "c"}), EncodeKeyColumns(V{"a", "bc"}));
  EXPECT_EQ(HashKeyColumns(V{"02139"}), random::HashKey(std::string_view("02139")));
  const std::string long_value(300, 'z');  // a two-byte length prefix
  EXPECT_EQ(EncodeKeyColumns(V{long_value}).size(), 302u);
  EXPECT_EQ(HashKeyColumns(V{"02139", "30"}), HashKeyColumns(V{"02139", "30"}));
}

}  // namespace
}  // namespace urn::samplers
