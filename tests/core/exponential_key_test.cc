#include "samplers/exponential_key.h"

#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <vector>

#include "random/counter_rng.h"
#include "samplers/exponential_key_filter.h"

namespace urn::samplers {
namespace {

// Exponential variates spread over their whole range, weights over the whole double range.
std::vector<double> SpreadWeights(uint64_t seed, size_t n) {
  random::KeyedStream s(seed, random::Stream::kUniformWithReplacement);
  std::vector<double> w(n);
  for (size_t i = 0; i < n; ++i) {
    const double u = s.Uniform(i);
    switch (i % 8) {
      case 0:
        w[i] = std::ldexp(u, -1074 + static_cast<int>(s.Bounded(i + n, 60)));  // subnormal
        break;
      case 1:
        w[i] = DBL_MAX * u;
        break;
      case 2:
        w[i] = 0;
        break;
      default:
        w[i] = std::pow(10.0, 600 * u - 300);  // log-uniform over [1e-300, 1e300]
    }
  }
  return w;
}

TEST(ExponentialKey, OrdersLikeTheRealQuotientWhereDoublesAreExact) {
  // Where E / w is a normal double, the key orders exactly like the double quotient.
  random::KeyedStream s(3, random::Stream::kWeighted);
  for (uint64_t i = 0; i + 1 < 20000; i += 2) {
    const double wa = 0.001 + s.Uniform(i + 100000), wb = 0.001 + s.Uniform(i + 200000);
    const double qa = s.Exponential(i) / wa, qb = s.Exponential(i + 1) / wb;
    const uint64_t ka = ExponentialKey(s.Bits(i), wa), kb = ExponentialKey(s.Bits(i + 1), wb);
    ASSERT_EQ(qa < qb, ka < kb) << i;
    ASSERT_EQ(qa == qb, ka == kb) << i;
  }
}

TEST(ExponentialKey, ScalingWeightsByAPowerOfTwoKeepsTheOrderAcrossTheRange) {
  random::KeyedStream s(4, random::Stream::kWeighted);
  for (uint64_t i = 0; i + 1 < 2000; i += 2) {
    const double wa = 0.5 + s.Uniform(i + 7000), wb = 0.5 + s.Uniform(i + 9000);
    const bool less = ExponentialKey(s.Bits(i), wa) < ExponentialKey(s.Bits(i + 1), wb);
    for (int scale : {-1020, -500, 500, 1022}) {
      ASSERT_EQ(less, ExponentialKey(s.Bits(i), std::ldexp(wa, scale)) <
                          ExponentialKey(s.Bits(i + 1), std::ldexp(wb, scale)))
          << i << " " << scale;
    }
  }
}

TEST(ExponentialKey, ExtremeWeightsGiveFiniteDistinctOrderedKeys) {
  const uint64_t bits = random::KeyedStream(5, random::Stream::kWeighted).Bits(0);
  const uint64_t tiny = ExponentialKey(bits, DBL_TRUE_MIN);
  const uint64_t small = ExponentialKey(bits, 1e-300);
  const uint64_t one = ExponentialKey(bits, 1.0);
  const uint64_t large = ExponentialKey(bits, 1e300);
  const uint64_t huge = ExponentialKey(bits, DBL_MAX);
  EXPECT_GT(tiny, small);
  EXPECT_GT(small, one);
  EXPECT_GT(one, large);
  EXPECT_GT(large, huge);
  EXPECT_GT(huge, 0u);
  EXPECT_LT(tiny, kInfiniteExponentialKey);
}

TEST(ExponentialKey, UpperBoundIsNeverBelowTheKey) {
  EXPECT_EQ(ExponentialKeyUpperBound(0), 0.0);
  EXPECT_EQ(ExponentialKeyUpperBound(kInfiniteExponentialKey), HUGE_VAL);
  random::KeyedStream s(6, random::Stream::kWeighted);
  const std::vector<double> w = SpreadWeights(6, 4000);
  for (size_t i = 0; i < w.size(); ++i) {
    if (w[i] == 0) continue;
    const uint64_t key = ExponentialKey(s.Bits(i), w[i]);
    const double bound = ExponentialKeyUpperBound(key);
    // bound >= E / w: as keys, the key of (bound * w) is >= key when it is representable.
    if (std::isinf(bound) || bound == 0x1p-1000) continue;
    EXPECT_EQ(ExponentialKeyOf(bound * 1.0, 1.0), key) << i;  // exact in the normal range
  }
}

TEST(ExponentialKey, WeightTimesKeyHandlesOverflowAndUnderflow) {
  const uint64_t key = ExponentialKeyOf(1.0, 1e-300);  // 1e300
  EXPECT_DOUBLE_EQ(WeightTimesKey(1e-300, key), 1.0);
  EXPECT_EQ(WeightTimesKey(1e300, key), HUGE_VAL);
  EXPECT_EQ(WeightTimesKey(2.0, kInfiniteExponentialKey), HUGE_VAL);
  EXPECT_EQ(WeightTimesKey(0.0, key), 0.0);
  EXPECT_EQ(WeightTimesKey(1e-300, ExponentialKeyOf(1.0, 1e300)), 0.0);
}

// The fast filter must keep every row whose exact key is below the threshold (and every row
// with an invalid weight), and all instruction-set builds must agree bit for bit.
TEST(ExponentialKeyFilter, NeverRejectsARowTheExactComparisonAccepts) {
  using internal::FilterIsa;
  std::vector<double> w = SpreadWeights(7, 4096 + 37);
  w[5] = -1;
  w[77] = std::nan("");
  w[300] = HUGE_VAL;
  w[301] = -0.0;
  std::vector<uint64_t> keys(w.size());
  for (size_t i = 0; i < keys.size(); ++i) keys[i] = random::HashKey(uint64_t{i});
  std::vector<uint32_t> out(w.size());
  std::vector<uint32_t> reference;
  int checked = 0;
  for (bool keyed : {false, true}) {
    for (uint64_t seed = 0; seed < 6; ++seed) {
      const random::KeyedStream stream(seed, random::Stream::kWeighted);
      // Thresholds: the key of a random row, and fixed extremes.
      std::vector<double> thresholds = {0.0, 0x1p-1000, 1e-300, 1e-10, 1.0, 1e300, HUGE_VAL};
      for (uint64_t r = 0; r < 8; ++r) {
        const uint64_t row = (seed * 131 + r * 977) % w.size();
        if (w[row] > 0 && w[row] <= DBL_MAX) {
          thresholds.push_back(ExponentialKeyUpperBound(
              ExponentialKey(stream.Bits(keyed ? keys[row] : row), w[row])));
        }
      }
      for (double t : thresholds) {
        internal::FilterBlock block;
        block.weights = w.data();
        block.keys = keyed ? keys.data() : nullptr;
        block.base = stream.base();
        block.first_index = 0;
        block.count = w.size();
        reference.clear();
        bool first = true;
        for (FilterIsa isa : {FilterIsa::kBaseline, FilterIsa::kAvx2, FilterIsa::kAvx512}) {
          if (!internal::FilterIsaSupported(isa)) continue;
          const size_t n =
              internal::FilterCandidates(isa, block, internal::FilterScale(t), out.data());
          std::vector<uint32_t> got(out.begin(), out.begin() + n);
          if (first) {
            reference = got;
            first = false;
          } else {
            ASSERT_EQ(got, reference) << "isa " << static_cast<int>(isa) << " t=" << t;
          }
        }
        if (t == 0x1p-1000) {
          // ... and it does reject: here only a handful of rows can be below t.
          EXPECT_LT(reference.size(), w.size() / 4) << "t=" << t;
        }
        std::vector<bool> kept(w.size());
        for (uint32_t r : reference) kept[r] = true;
        for (size_t i = 0; i < w.size(); ++i) {
          const bool valid = w[i] >= 0 && w[i] <= DBL_MAX;
          if (!valid) {
            ASSERT_TRUE(kept[i]) << "invalid row " << i << " rejected";
            continue;
          }
          if (w[i] == 0) continue;
          const uint64_t key = ExponentialKey(stream.Bits(keyed ? keys[i] : i), w[i]);
          if (ExponentialKeyUpperBound(key) < t || key == 0) {
            ASSERT_TRUE(kept[i]) << "row " << i << " w=" << w[i] << " t=" << t;
            ++checked;
          }
        }
      }
    }
  }
  EXPECT_GT(checked, 1000);
}

}  // namespace
}  // namespace urn::samplers
