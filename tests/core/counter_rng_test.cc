#include "random/counter_rng.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <tuple>
#include <utility>
#include <vector>

#include "support/stats.h"

namespace urn::random {
namespace {

TEST(CounterRng, SameInputsGiveSameDraw) {
  EXPECT_EQ(U(42, Stream::kBernoulli, 7, 0), U(42, Stream::kBernoulli, 7, 0));
  KeyedStream a(42, Stream::kWeighted), b(42, Stream::kWeighted);
  for (uint64_t k = 0; k < 1000; ++k) EXPECT_EQ(a.Bits(k), b.Bits(k));
}

TEST(CounterRng, EachCoordinateChangesTheDraw) {
  const double base = U(1, Stream::kBernoulli, 5, 0);
  EXPECT_NE(base, U(2, Stream::kBernoulli, 5, 0));
  EXPECT_NE(base, U(1, Stream::kUniverse, 5, 0));
  EXPECT_NE(base, U(1, Stream::kBernoulli, 6, 0));
  EXPECT_NE(base, U(1, Stream::kBernoulli, 5, 1));
}

// A frozen value: if this changes, every sample urn ever produced changes with it.
// FillBits (vectorized where the CPU allows) gives exactly Bits(key) for every key, whatever
// the count (full vectors, a remainder, none) and wherever the run starts.
TEST(CounterRng, FillBitsEqualsBitsKeyByKey) {
  const KeyedStream s(99, Stream::kWeightedReplacement, 1);
  for (const uint64_t first : {uint64_t{0}, uint64_t{5}, ~uint64_t{0} - 40}) {
    for (const size_t count : {size_t{0}, size_t{1}, size_t{7}, size_t{8}, size_t{33}}) {
      std::vector<uint64_t> out(count + 1, 12345);
      s.FillBits(first, out.data(), count);
      for (size_t i = 0; i < count; ++i) EXPECT_EQ(out[i], s.Bits(first + i)) << first << "+" << i;
      EXPECT_EQ(out[count], 12345u) << "wrote past count " << count;
    }
  }
}

TEST(CounterRng, DrawsAreFrozenAcrossVersions) {
  KeyedStream s(2026, Stream::kUniformWithReplacement, 3);
  EXPECT_EQ(s.Bits(0), KeyedStream(2026, Stream::kUniformWithReplacement, 3).Bits(0));
  const uint64_t frozen = Mix64(s.base() + kGolden);
  EXPECT_EQ(s.Bits(0), frozen);
  EXPECT_EQ(Mix64(0), 0u);
  EXPECT_EQ(Mix64(1), 0x5692161D100B05E5ULL);
}

TEST(CounterRng, UnitIsInHalfOpenIntervalExcludingZero) {
  EXPECT_EQ(BitsToUnit(0), 0x1.0p-53);
  EXPECT_EQ(BitsToUnit(~0ULL), 1.0);
  KeyedStream s(9, Stream::kShuffle);
  for (uint64_t k = 0; k < 100000; ++k) {
    const double u = s.Uniform(k);
    ASSERT_GT(u, 0.0);
    ASSERT_LE(u, 1.0);
    ASSERT_TRUE(std::isfinite(s.Exponential(k)));
  }
}

TEST(CounterRng, DistinctKeysNeverCollideWithinAStream) {
  KeyedStream s(3, Stream::kPermutation);
  std::set<uint64_t> seen;
  for (uint64_t k = 0; k < 100000; ++k) ASSERT_TRUE(seen.insert(s.Bits(k)).second);
}

// Uniform(0,1] in 100 equal cells: each cell has probability exactly 1/100.
TEST(CounterRng, UniformIsUniformChiSquare) {
  KeyedStream s(12345, Stream::kUniformWithReplacement);
  std::vector<int64_t> counts(100);
  for (uint64_t k = 0; k < 1000000; ++k) {
    int cell = static_cast<int>(std::ceil(s.Uniform(k) * 100)) - 1;
    ++counts[cell];
  }
  const auto r = testing::ChiSquareTest(counts, std::vector<double>(100, 0.01));
  EXPECT_GT(r.p_value, 1e-4) << "chi2=" << r.statistic;
}

// Bounded(n) for n = 3, 7, 10 and a large n whose naive modulo would be biased: exact
// probability 1/n per value (large n: 1/4 per quarter of the range).
TEST(CounterRng, BoundedIsUnbiasedChiSquare) {
  for (uint64_t n : {3ULL, 7ULL, 10ULL}) {
    KeyedStream s(77 + n, Stream::kUniformWithReplacement);
    std::vector<int64_t> counts(n);
    for (uint64_t k = 0; k < 700000; ++k) ++counts[s.Bounded(k, n)];
    const auto r = testing::ChiSquareTest(counts, std::vector<double>(n, 1.0 / n));
    EXPECT_GT(r.p_value, 1e-4) << "n=" << n << " chi2=" << r.statistic;
  }
  const uint64_t big = (1ULL << 63) + (1ULL << 62);  // 3 * 2^62
  KeyedStream s(5, Stream::kUniformWithReplacement);
  std::vector<int64_t> quarters(4);
  for (uint64_t k = 0; k < 400000; ++k) {
    const uint64_t v = s.Bounded(k, big);
    ASSERT_LT(v, big);
    ++quarters[v / (big / 4)];
  }
  const auto r = testing::ChiSquareTest(quarters, std::vector<double>(4, 0.25));
  EXPECT_GT(r.p_value, 1e-4) << "chi2=" << r.statistic;
}

// n = 2^63 + 1 rejects about half of all first draws, so the redraws carry half the mass: they
// are RetryBits(key, 1), (key, 2), ... (fresh bits, not a function of the rejected ones), the
// result is below n, and each half of [0, n) has probability 1/2 (up to 1/n).
TEST(CounterRng, BoundedRedrawsAfterARejectionFromFreshBits) {
  const uint64_t n = (1ULL << 63) + 1;
  const uint64_t threshold = (0 - n) % n;
  const KeyedStream s(11, Stream::kUniformWithReplacement);
  std::vector<int64_t> halves(2);
  int64_t rejected = 0;
  for (uint64_t k = 0; k < 200000; ++k) {
    const uint64_t v = s.Bounded(k, n);
    ASSERT_LT(v, n);
    ++halves[v >= n / 2];
    const auto high_low = [&](uint64_t bits) {
      const unsigned __int128 m = static_cast<unsigned __int128>(bits) * n;
      return std::pair<uint64_t, uint64_t>(static_cast<uint64_t>(m >> 64),
                                           static_cast<uint64_t>(m));
    };
    auto [high, low] = high_low(s.Bits(k));
    if (low < threshold) {
      ++rejected;
      for (uint64_t attempt = 1; low < threshold; ++attempt) {
        std::tie(high, low) = high_low(s.RetryBits(k, attempt));
      }
    }
    ASSERT_EQ(v, high) << "key " << k;
  }
  EXPECT_GT(rejected, 90000);
  EXPECT_LT(rejected, 110000);
  const auto r = testing::ChiSquareTest(halves, {0.5, 0.5});
  EXPECT_GT(r.p_value, 1e-4) << "chi2=" << r.statistic;
}

TEST(CounterRng, BoundedOfOneIsZero) {
  KeyedStream s(1, Stream::kShuffle);
  for (uint64_t k = 0; k < 100; ++k) EXPECT_EQ(s.Bounded(k, 1), 0u);
}

// Exp(1): P(E > t) = e^-t; cells [0, .5), [.5, 1), [1, 2), [2, inf).
TEST(CounterRng, ExponentialMatchesExactTailChiSquare) {
  KeyedStream s(31337, Stream::kWeighted);
  std::vector<int64_t> counts(4);
  for (uint64_t k = 0; k < 500000; ++k) {
    const double e = s.Exponential(k);
    ++counts[e < 0.5 ? 0 : e < 1 ? 1 : e < 2 ? 2 : 3];
  }
  const std::vector<double> p = {1 - std::exp(-0.5), std::exp(-0.5) - std::exp(-1.0),
                                 std::exp(-1.0) - std::exp(-2.0), std::exp(-2.0)};
  const auto r = testing::ChiSquareTest(counts, p);
  EXPECT_GT(r.p_value, 1e-4) << "chi2=" << r.statistic;
}

TEST(CounterRng, StringKeysHashStably) {
  EXPECT_EQ(HashKey(std::string_view("user-17")), HashKey(std::string_view("user-17")));
  EXPECT_NE(HashKey(std::string_view("user-17")), HashKey(std::string_view("user-18")));
  EXPECT_NE(HashKey(uint64_t{17}), HashKey(uint64_t{18}));
}

}  // namespace
}  // namespace urn::random
