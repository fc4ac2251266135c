#include "samplers/weighted_without_replacement.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <map>
#include <memory>
#include <numeric>
#include <vector>

#include "absl/strings/str_cat.h"
#include "random/counter_rng.h"
#include "samplers/exponential_key.h"
#include "support/stats.h"

namespace urn::samplers {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<uint64_t> Rows(std::span<const double> w, uint64_t k, uint64_t seed, int threads = 1) {
  WeightedOptions options;
  options.seed = seed;
  options.threads = threads;
  absl::StatusOr<Sample> s = WeightedSampleWithoutReplacement(w, k, options);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? s->rows : std::vector<uint64_t>{};
}

// The definition: every key computed, sorted by (key, row).
std::vector<uint64_t> BruteForce(std::span<const double> w, uint64_t k, uint64_t seed) {
  const random::KeyedStream stream(seed, random::Stream::kWeighted);
  std::vector<KeyedRow> all;
  for (uint64_t i = 0; i < w.size(); ++i) {
    if (w[i] > 0) all.push_back({ExponentialKey(stream.Bits(i), w[i]), i});
  }
  std::sort(all.begin(), all.end());
  std::vector<uint64_t> rows;
  for (uint64_t i = 0; i < std::min<uint64_t>(k, all.size()); ++i) rows.push_back(all[i].row);
  return rows;
}

// Weights over the whole double range, with zeros: log-uniform in [1e-300, 1e300], subnormal,
// near DBL_MAX.
std::vector<double> WildWeights(uint64_t seed, size_t n) {
  const random::KeyedStream s(seed, random::Stream::kUniformWithReplacement);
  std::vector<double> w(n);
  for (size_t i = 0; i < n; ++i) {
    const double u = s.Uniform(i);
    switch (s.Bounded(i + n, 10)) {
      case 0:
        w[i] = 0;
        break;
      case 1:
        w[i] = std::ldexp(u, -1074 + static_cast<int>(s.Bounded(i + 2 * n, 60)));
        break;
      case 2:
        w[i] = DBL_MAX * u;
        break;
      default:
        w[i] = std::pow(10.0, 600 * u - 300);
    }
  }
  return w;
}

std::vector<double> UniformWeights(uint64_t seed, size_t n) {
  const random::KeyedStream s(seed, random::Stream::kUniformWithReplacement);
  std::vector<double> w(n);
  for (size_t i = 0; i < n; ++i) w[i] = s.Uniform(i);
  return w;
}

TEST(WeightedWithoutReplacement, MatchesSortingEveryKeyOnWildWeights) {
  const std::vector<double> w = WildWeights(1, 20000);
  for (uint64_t seed = 0; seed < 5; ++seed) {
    for (uint64_t k : {1, 10, 500, 5000}) {
      ASSERT_EQ(Rows(w, k, seed), BruteForce(w, k, seed)) << "seed " << seed << " k " << k;
    }
  }
}

TEST(WeightedWithoutReplacement, MatchesSortingEveryKeyOnUniformWeights) {
  const std::vector<double> w = UniformWeights(2, 300000);
  for (uint64_t seed = 0; seed < 3; ++seed) {
    for (uint64_t k : {1, 100, 20000}) {
      ASSERT_EQ(Rows(w, k, seed, 2), BruteForce(w, k, seed)) << "seed " << seed << " k " << k;
    }
  }
}

// Ordered pairs (i, j) of a sample of 2 from weights (1, 2, 3, 4, 5, 15): probability
// w_i / W * w_j / (W - w_i), 30 outcomes.
TEST(WeightedWithoutReplacement, OrderedPairsFollowSuccessiveDrawsChiSquare) {
  const std::vector<double> w = {1, 2, 3, 4, 5, 15};
  const double total = 30;
  std::vector<double> p(36, 0.0);
  for (int i = 0; i < 6; ++i) {
    for (int j = 0; j < 6; ++j) {
      if (i != j) p[i * 6 + j] = w[i] / total * w[j] / (total - w[i]);
    }
  }
  std::vector<int64_t> counts(36);
  for (uint64_t seed = 0; seed < 40000; ++seed) {
    const std::vector<uint64_t> r = Rows(w, 2, seed);
    ASSERT_EQ(r.size(), 2u);
    ++counts[r[0] * 6 + r[1]];
  }
  const auto chi = testing::ChiSquareTest(counts, p);
  EXPECT_GT(chi.p_value, 1e-4) << "chi2=" << chi.statistic;
}

// Two subnormal weights (E / w overflows doubles) and two near DBL_MAX (E / w underflows):
// the first draw still has probability w_i / W.
TEST(WeightedWithoutReplacement, FirstDrawIsProportionalAtTheEdgesOfTheDoubleRangeChiSquare) {
  for (const std::vector<double>& w :
       {std::vector<double>{DBL_TRUE_MIN, 2 * DBL_TRUE_MIN},
        std::vector<double>{0.5 * DBL_MAX, DBL_MAX}, std::vector<double>{1e-300, 2e-300}}) {
    std::vector<int64_t> counts(2);
    for (uint64_t seed = 0; seed < 20000; ++seed) ++counts[Rows(w, 1, seed)[0]];
    const auto chi = testing::ChiSquareTest(counts, {1.0 / 3, 2.0 / 3});
    EXPECT_GT(chi.p_value, 1e-4) << w[0] << " chi2=" << chi.statistic;
  }
}

TEST(WeightedWithoutReplacement, HugeWeightAmongTinyOnesIsDrawnFirst) {
  std::vector<double> w(1000, 1e-300);
  w[617] = 1e300;
  for (uint64_t seed = 0; seed < 300; ++seed) {
    const std::vector<uint64_t> r = Rows(w, 3, seed);
    ASSERT_EQ(r[0], 617u) << seed;
  }
  std::vector<double> v(100, DBL_TRUE_MIN);
  v[3] = DBL_MAX;
  for (uint64_t seed = 0; seed < 300; ++seed) ASSERT_EQ(Rows(v, 1, seed)[0], 3u);
}

TEST(WeightedWithoutReplacement, ScalingAllWeightsByAPowerOfTwoGivesTheSameSample) {
  const std::vector<double> w = UniformWeights(3, 5000);
  for (int scale : {-1000, 1000}) {
    std::vector<double> scaled(w);
    for (double& x : scaled) x = std::ldexp(x, scale);
    for (uint64_t seed = 0; seed < 5; ++seed) {
      EXPECT_EQ(Rows(scaled, 200, seed), Rows(w, 200, seed)) << scale;
    }
  }
}

TEST(WeightedWithoutReplacement, ZeroWeightsAreNeverSelected) {
  const std::vector<double> w = {0, 3, 0, 0, 1, 0, 2};
  for (uint64_t seed = 0; seed < 200; ++seed) {
    std::vector<uint64_t> r = Rows(w, 10, seed);  // k above the 3 positive rows
    ASSERT_EQ(r.size(), 3u);
    EXPECT_EQ(r, BruteForce(w, 3, seed));  // in selection order
    std::sort(r.begin(), r.end());
    ASSERT_THAT(r, ElementsAre(1, 4, 6));
  }
}

// With zero_weight_rows_follow, a k above the positive rows is the first k rows of
// WeightedShuffle: the positive rows in selection order, then zero-weight rows in input order,
// all with HT weight 1; kInput sorts them together.
TEST(WeightedWithoutReplacement, ZeroWeightRowsFollowWhenAsked) {
  const std::vector<double> w = {0, 3, 0, 0, 1, 0, 2};
  WeightedOptions o;
  o.seed = 5;
  o.ht_weights = true;
  o.zero_weight_rows_follow = true;
  absl::StatusOr<Sample> s = WeightedSampleWithoutReplacement(w, 5, o);
  ASSERT_TRUE(s.ok()) << s.status();
  const std::vector<uint64_t> positive = BruteForce(w, 3, 5);
  EXPECT_THAT(s->rows, ElementsAre(positive[0], positive[1], positive[2], 0, 2));
  EXPECT_THAT(s->ht_weights, ElementsAre(1, 1, 1, 1, 1));
  o.order = SampleOrder::kInput;
  s = WeightedSampleWithoutReplacement(w, 5, o);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_THAT(s->rows, ElementsAre(0, 1, 2, 4, 6));
  // Enough positive rows: the option changes nothing.
  EXPECT_EQ(
      WeightedSampleWithoutReplacement(w, 2, o)->rows,
      WeightedSampleWithoutReplacement(w, 2, {.seed = 5, .order = SampleOrder::kInput})->rows);
}

TEST(WeightedWithoutReplacement, EdgeSizes) {
  EXPECT_TRUE(Rows({}, 5, 1).empty());
  EXPECT_TRUE(Rows(std::vector<double>{2.0}, 0, 1).empty());
  EXPECT_THAT(Rows(std::vector<double>{2.0}, 1, 1), ElementsAre(0));
  EXPECT_THAT(Rows(std::vector<double>{2.0}, 7, 1), ElementsAre(0));
  EXPECT_TRUE(Rows(std::vector<double>{0.0}, 1, 1).empty());
  EXPECT_TRUE(Rows(std::vector<double>(100, 0.0), 10, 1).empty());
  std::vector<uint64_t> all = Rows(std::vector<double>{1, 2, 3}, 99, 4);
  std::sort(all.begin(), all.end());
  EXPECT_THAT(all, ElementsAre(0, 1, 2));
}

TEST(WeightedWithoutReplacement, InvalidWeightIsAnErrorNamingTheLowestRow) {
  for (double bad : {-1.0, std::nan(""), HUGE_VAL, -HUGE_VAL}) {
    std::vector<double> w = UniformWeights(4, 400000);
    w[300001] = bad;
    w[7] = bad;
    for (uint64_t k : {0, 1, 1000}) {
      for (int threads : {1, 4}) {
        WeightedOptions options;
        options.threads = threads;
        const absl::StatusOr<Sample> s = WeightedSampleWithoutReplacement(w, k, options);
        ASSERT_FALSE(s.ok());
        EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
        EXPECT_THAT(std::string(s.status().message()), HasSubstr("row 7 "));
      }
    }
  }
}

TEST(WeightedWithoutReplacement, NegativeZeroIsAZeroWeight) {
  EXPECT_THAT(Rows(std::vector<double>{-0.0, 1.0}, 2, 1), ElementsAre(1));
}

TEST(WeightedWithoutReplacement, SameSeedSameSampleAndSeedsDiffer) {
  const std::vector<double> w = UniformWeights(5, 10000);
  EXPECT_EQ(Rows(w, 100, 9), Rows(w, 100, 9));
  EXPECT_NE(Rows(w, 100, 9), Rows(w, 100, 10));
}

TEST(WeightedWithoutReplacement, ThreadCountDoesNotChangeTheSample) {
  std::vector<double> w = WildWeights(6, 1 << 20);
  for (uint64_t k : {1, 1000, 100000}) {
    const std::vector<uint64_t> one = Rows(w, k, 11, 1);
    EXPECT_EQ(one.size(), k);
    EXPECT_EQ(Rows(w, k, 11, 2), one) << k;
    EXPECT_EQ(Rows(w, k, 11, 8), one) << k;
  }
}

TEST(WeightedWithoutReplacement, SmallerSampleIsAPrefixOfALargerOne) {
  const std::vector<double> w = WildWeights(7, 50000);
  const std::vector<uint64_t> big = Rows(w, 3000, 12);
  for (uint64_t k : {1, 10, 999, 2999}) {
    const std::vector<uint64_t> small = Rows(w, k, 12);
    EXPECT_TRUE(std::equal(small.begin(), small.end(), big.begin())) << k;
  }
}

TEST(WeightedWithoutReplacement, InputOrderSortsTheSameRows) {
  const std::vector<double> w = UniformWeights(8, 10000);
  WeightedOptions options;
  options.seed = 13;
  options.ht_weights = true;
  const Sample selection = *WeightedSampleWithoutReplacement(w, 50, options);
  options.order = SampleOrder::kInput;
  const Sample input = *WeightedSampleWithoutReplacement(w, 50, options);
  EXPECT_TRUE(std::is_sorted(input.rows.begin(), input.rows.end()));
  std::map<uint64_t, double> a, b;
  for (size_t i = 0; i < 50; ++i) {
    a[selection.rows[i]] = selection.ht_weights[i];
    b[input.rows[i]] = input.ht_weights[i];
  }
  EXPECT_EQ(a, b);
}

TEST(WeightedWithoutReplacement, RowKeysEqualToIndicesReproduceTheIndexSample) {
  const std::vector<double> w = UniformWeights(9, 100000);
  std::vector<uint64_t> keys(w.size());
  std::iota(keys.begin(), keys.end(), 0);
  WeightedOptions options;
  options.seed = 14;
  EXPECT_EQ(WeightedSampleWithoutReplacement(w, keys, 300, options)->rows,
            WeightedSampleWithoutReplacement(w, 300, options)->rows);
}

// A row keyed by its primary key gets the same key wherever it is stored: reversing the rows
// selects the same keys.
TEST(WeightedWithoutReplacement, RowKeysMakeTheSampleIndependentOfStorageOrder) {
  const std::vector<double> w = UniformWeights(10, 100000);
  std::vector<uint64_t> keys(w.size());
  for (size_t i = 0; i < keys.size(); ++i) keys[i] = random::HashKey(uint64_t{i * 7 + 1});
  const std::vector<double> w_rev(w.rbegin(), w.rend());
  const std::vector<uint64_t> keys_rev(keys.rbegin(), keys.rend());
  WeightedOptions options;
  options.seed = 15;
  options.threads = 2;
  const Sample a = *WeightedSampleWithoutReplacement(w, keys, 400, options);
  const Sample b = *WeightedSampleWithoutReplacement(w_rev, keys_rev, 400, options);
  ASSERT_EQ(a.rows.size(), b.rows.size());
  for (size_t i = 0; i < a.rows.size(); ++i) {
    EXPECT_EQ(keys[a.rows[i]], keys_rev[b.rows[i]]) << i;
  }
  std::vector<uint64_t> short_keys(3);
  EXPECT_EQ(WeightedSampleWithoutReplacement(w, short_keys, 4, options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// sum over the sample of y_i * ht_weight_i estimates sum y_i without bias. Over R independent
// seeds the mean estimate must lie within 5 standard errors of the exact total (a false alarm
// has probability ~6e-7 by the central limit theorem; R = 20000 makes the normal
// approximation and the plug-in standard error accurate).
TEST(WeightedWithoutReplacement, HorvitzThompsonTotalIsUnbiased) {
  const size_t n = 60;
  std::vector<double> w(n), y(n);
  for (size_t i = 0; i < n; ++i) {
    w[i] = 1 + static_cast<double>(i % 7) * (i % 3) + (i == 5 ? 40 : 0);
    y[i] = std::sqrt(static_cast<double>(i)) + (i % 4 == 0 ? 10.0 : 0.0);
  }
  const double total = std::accumulate(y.begin(), y.end(), 0.0);
  const int reps = 20000;
  for (uint64_t k : {1, 8, 30}) {
    double sum = 0, sum_sq = 0;
    WeightedOptions options;
    options.ht_weights = true;
    for (int r = 0; r < reps; ++r) {
      options.seed = 1000000 + r;
      const Sample s = *WeightedSampleWithoutReplacement(w, k, options);
      ASSERT_EQ(s.rows.size(), k);
      double estimate = 0;
      for (size_t i = 0; i < k; ++i) {
        ASSERT_GE(s.ht_weights[i], 1.0);
        estimate += y[s.rows[i]] * s.ht_weights[i];
      }
      sum += estimate;
      sum_sq += estimate * estimate;
    }
    const double mean = sum / reps;
    const double se = std::sqrt((sum_sq / reps - mean * mean) / reps);
    EXPECT_LT(std::abs(mean - total), 5 * se) << "k=" << k << " mean=" << mean << " se=" << se;
    EXPECT_GT(se, 0.0);
  }
}

TEST(WeightedWithoutReplacement, HorvitzThompsonWeightIsOneWhenEveryPositiveRowIsTaken) {
  WeightedOptions options;
  options.ht_weights = true;
  const Sample s = *WeightedSampleWithoutReplacement(std::vector<double>{1, 0, 5}, 2, options);
  EXPECT_THAT(s.ht_weights, ElementsAre(1.0, 1.0));
}

// Weights served block by block from an array, failing from row `fail_from` on.
class ArrayWeights : public WeightSource {
 public:
  explicit ArrayWeights(const std::vector<double>& w, uint64_t fail_from = ~uint64_t{0})
      : w_(w), fail_from_(fail_from) {}
  std::unique_ptr<Reader> NewReader() const override { return std::make_unique<ArrayReader>(this); }

 private:
  class ArrayReader : public Reader {
   public:
    explicit ArrayReader(const ArrayWeights* source) : source_(source) {}
    absl::Status Read(uint64_t begin, size_t n, double* out) override {
      EXPECT_GE(begin, next_);  // ascending, disjoint
      EXPECT_LE(n, WeightSource::kBlockRows);
      next_ = begin + n;
      if (begin + n > source_->fail_from_) {
        return absl::UnavailableError(absl::StrCat("block at ", begin));
      }
      std::copy_n(source_->w_.data() + begin, n, out);
      return absl::OkStatus();
    }

   private:
    const ArrayWeights* source_;
    uint64_t next_ = 0;
  };
  const std::vector<double>& w_;
  uint64_t fail_from_;
};

TEST(SmallestExponentialKeys, WeightSourceGivesTheArrayResultWithWeights) {
  std::vector<double> w(300001);
  const random::KeyedStream s(5, random::Stream::kUniformWithReplacement);
  for (size_t i = 0; i < w.size(); ++i) w[i] = i % 5 == 0 ? 0.0 : std::exp(30 * s.Uniform(i));
  for (int threads : {1, 2, 3}) {
    SCOPED_TRACE(threads);
    const std::vector<KeyedRow> want = *SmallestExponentialKeys(w, {}, 777, 9, threads);
    absl::StatusOr<std::vector<WeightedKeyedRow>> got =
        SmallestExponentialKeys(w.size(), ArrayWeights(w), 777, 9, threads);
    ASSERT_TRUE(got.ok()) << got.status();
    ASSERT_EQ(got->size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ(got->at(i).keyed, want[i]);
      EXPECT_EQ(got->at(i).weight, w[want[i].row]);
    }
  }
}

TEST(SmallestExponentialKeys, WeightSourceErrorsOfTheLowestRowsWin) {
  const std::vector<double> w(300000, 1.0);
  // Two chunks of 150,000 rows: the first fails at its block holding row 100,000, the second
  // at its first block; the first chunk's error is returned.
  absl::StatusOr<std::vector<WeightedKeyedRow>> got =
      SmallestExponentialKeys(w.size(), ArrayWeights(w, 100000), 10, 1, 2);
  EXPECT_EQ(got.status(), absl::UnavailableError("block at 99328"));
  std::vector<double> bad = w;
  bad[123456] = -1;
  got = SmallestExponentialKeys(bad.size(), ArrayWeights(bad), 10, 1, 2);
  EXPECT_EQ(got.status(), absl::InvalidArgumentError(
                              "weight of row 123456 is -1; weights must be finite and >= 0"));
}

}  // namespace
}  // namespace urn::samplers
