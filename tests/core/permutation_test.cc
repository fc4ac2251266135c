#include "samplers/permutation.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <set>
#include <vector>

#include "support/orders.h"
#include "support/stats.h"

namespace urn::samplers {
namespace {

using testing::Iota;
using testing::OrderRank;

TEST(KeyedPermutation, IsABijectionForEverySize) {
  for (uint64_t n : {0,   1,   2,   3,    4,     5,     7,     8,     9,     15,
                     16,  17,  31,  32,   33,    100,   1000,  1024,  1025,  255,
                     256, 257, 258, 4096, 32768, 32769, 65535, 65536, 65537, 100003}) {
    const KeyedPermutation p(n, 11, 3);
    ASSERT_EQ(p.size(), n);
    std::vector<uint64_t> all = p.Materialize();
    for (uint64_t i = 0; i < n; ++i) ASSERT_EQ(all[i], p.At(i)) << "n=" << n << " i=" << i;
    std::sort(all.begin(), all.end());
    EXPECT_EQ(all, Iota(n)) << "n=" << n;
  }
}

// The generic, AVX2 and AVX-512 kernels give bit-identical permutations (those the CPU has).
TEST(KeyedPermutation, EveryInstructionSetGivesTheSamePermutation) {
  using internal::PermutationIsa;
  const KeyedPermutation p(100003, 21, 4);
  const auto reference = p.Materialize();
  int checked = 0;
  for (auto isa : {PermutationIsa::kGeneric, PermutationIsa::kAvx2, PermutationIsa::kAvx512}) {
    if (!internal::ForcePermutationIsaForTesting(isa)) continue;
    EXPECT_EQ(p.Materialize(), reference) << static_cast<int>(isa);
    ++checked;
  }
  EXPECT_GE(checked, 1);
  // Restore the best available.
  if (!internal::ForcePermutationIsaForTesting(PermutationIsa::kAvx512) &&
      !internal::ForcePermutationIsaForTesting(PermutationIsa::kAvx2)) {
    internal::ForcePermutationIsaForTesting(PermutationIsa::kGeneric);
  }
  for (uint64_t i = 0; i < 100003; i += 1009) EXPECT_EQ(reference[i], p.At(i));
}

// The wide round function (used for n above about 2^40) is a bijection too, and uniform.
TEST(KeyedPermutation, WideRoundFunctionIsABijectionAndUniform) {
  for (uint64_t n : {257, 1000, 65537, 100003}) {
    const KeyedPermutation p = KeyedPermutation::WideForTesting(n, 11, 3);
    std::vector<uint64_t> all = p.Materialize(2);
    for (uint64_t i = 0; i < n; i += 97) ASSERT_EQ(all[i], p.At(i));
    std::sort(all.begin(), all.end());
    EXPECT_EQ(all, Iota(n)) << "n=" << n;
  }
  const uint64_t n = 300;
  std::vector<int64_t> counts(n);
  for (uint64_t e = 0; e < 20 * n; ++e) ++counts[KeyedPermutation::WideForTesting(n, 5, e).At(7)];
  const auto r = testing::ChiSquareTest(counts, std::vector<double>(n, 1.0 / n));
  EXPECT_GT(r.p_value, 1e-4) << "chi2=" << r.statistic;
}

TEST(KeyedPermutation, HugeDomainsStayInRangeAndInjective) {
  for (uint64_t n : {(uint64_t{1} << 40) + 7, (uint64_t{1} << 63) + 1, ~uint64_t{0}}) {
    const KeyedPermutation p(n, 5, 0);
    std::set<uint64_t> seen;
    std::vector<uint64_t> positions, batch(1000);
    for (uint64_t i = 0; i < 1000; ++i) positions.push_back(n - 1 - i * 7919);
    p.Map(positions.data(), batch.data(), positions.size());
    for (size_t j = 0; j < positions.size(); ++j) {
      const uint64_t v = p.At(positions[j]);
      ASSERT_LT(v, n);
      ASSERT_EQ(v, batch[j]);
      ASSERT_TRUE(seen.insert(v).second);
    }
  }
}

TEST(KeyedPermutation, OneElementIsTheIdentity) {
  const KeyedPermutation p(1, 99, 7);
  EXPECT_EQ(p.At(0), 0u);
  EXPECT_EQ(p.Materialize(), std::vector<uint64_t>{0});
}

TEST(KeyedPermutation, FillFromAnyStartMatchesAt) {
  const KeyedPermutation p(12345, 8, 1);
  std::vector<uint64_t> out(3000);
  p.Fill(777, out.size(), out.data());
  for (size_t j = 0; j < out.size(); ++j) ASSERT_EQ(out[j], p.At(777 + j));
}

TEST(KeyedPermutation, SameSeedSameOrderOtherSeedOrEpochAnother) {
  const auto a = KeyedPermutation(1000, 1, 0).Materialize();
  EXPECT_EQ(a, KeyedPermutation(1000, 1, 0).Materialize());
  EXPECT_NE(a, KeyedPermutation(1000, 2, 0).Materialize());
  EXPECT_NE(a, KeyedPermutation(1000, 1, 1).Materialize());
}

TEST(KeyedPermutation, FillIsIdenticalOnOneTwoAndEightThreads) {
  const uint64_t n = (uint64_t{1} << 20) + 12345;
  const KeyedPermutation p(n, 42, 0);
  const auto one = p.Materialize(1);
  EXPECT_EQ(one, p.Materialize(2));
  EXPECT_EQ(one, p.Materialize(8));
  auto sorted = one;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, Iota(n));
}

// Over many epochs, each of the m! orders of a tiny domain must appear with probability 1/m!.
void ExpectAllOrdersUniform(uint64_t m, int epochs_per_order) {
  int orders = 1;
  for (uint64_t i = 2; i <= m; ++i) orders *= static_cast<int>(i);
  std::vector<int64_t> counts(orders);
  for (int e = 0; e < orders * epochs_per_order; ++e) {
    ++counts[OrderRank(KeyedPermutation(m, 2026, e).Materialize())];
  }
  const auto r = testing::ChiSquareTest(counts, std::vector<double>(orders, 1.0 / orders));
  EXPECT_GT(r.p_value, 1e-4) << "n=" << m << " chi2=" << r.statistic;
}

TEST(KeyedPermutation, AllOrdersOfTwoThreeFourFiveAreUniform) {
  ExpectAllOrdersUniform(2, 2000);
  ExpectAllOrdersUniform(3, 1000);
  ExpectAllOrdersUniform(4, 500);
  ExpectAllOrdersUniform(5, 400);  // 48,000 epochs, 400 expected per order
}

TEST(KeyedPermutation, AllOrdersOfFiveAreUniformForOtherSeeds) {
  for (uint64_t seed : {1, 77}) {
    std::vector<int64_t> counts(120);
    for (int e = 0; e < 120 * 200; ++e) {
      ++counts[OrderRank(KeyedPermutation(5, seed, e).Materialize())];
    }
    const auto r = testing::ChiSquareTest(counts, std::vector<double>(120, 1.0 / 120));
    EXPECT_GT(r.p_value, 1e-4) << "seed=" << seed << " chi2=" << r.statistic;
  }
}

// The number of values of [0, n) in each of `buckets` equal-width buckets (value * b / n).
std::vector<double> BucketSizes(uint64_t n, uint64_t buckets) {
  std::vector<double> sizes(buckets);
  for (uint64_t v = 0; v < n; ++v) ++sizes[v * buckets / n];
  return sizes;
}

// Each position takes each value with probability 1/n: sizes served by the table (10, 16) and
// by the Feistel network with 16 rounds (257, 300) and 8 rounds (100000, bucketed).
TEST(KeyedPermutation, EveryPositionIsUniformOverValues) {
  for (uint64_t n : {10, 16, 257, 300}) {
    const std::vector<uint64_t> positions = {0, 1, n / 2, n - 1};
    std::vector<std::vector<int64_t>> counts(positions.size(), std::vector<int64_t>(n));
    for (uint64_t e = 0; e < 20 * n; ++e) {
      const KeyedPermutation p(n, 5, e);
      for (size_t i = 0; i < positions.size(); ++i) ++counts[i][p.At(positions[i])];
    }
    for (size_t i = 0; i < positions.size(); ++i) {
      const auto r = testing::ChiSquareTest(counts[i], std::vector<double>(n, 1.0 / n));
      EXPECT_GT(r.p_value, 1e-4) << "n=" << n << " position " << positions[i]
                                 << " chi2=" << r.statistic;
    }
  }
  const uint64_t n = 100000, buckets = 64;
  std::vector<double> probs = BucketSizes(n, buckets);
  for (double& q : probs) q /= n;
  for (uint64_t position : {0, 50000, 99999}) {
    std::vector<int64_t> counts(buckets);
    for (int e = 0; e < 64 * 100; ++e) ++counts[KeyedPermutation(n, 6, e).At(position) * 64 / n];
    const auto r = testing::ChiSquareTest(counts, probs);
    EXPECT_GT(r.p_value, 1e-4) << "position " << position << " chi2=" << r.statistic;
  }
}

// The values at positions i and i + 1, over many epochs, fall in each pair of 32 value buckets
// with the exact probability of two draws without replacement: the network leaves no
// correlation between neighbours, at 16 rounds (257, 1000, 40000) and 8 rounds (100003, 2^20 + 3).
TEST(KeyedPermutation, NeighbouringPositionsAreIndependent) {
  const uint64_t b = 32;
  for (uint64_t n : {uint64_t{257}, uint64_t{1000}, uint64_t{40000}, uint64_t{100003},
                     (uint64_t{1} << 20) + 3}) {
    const std::vector<double> sizes = BucketSizes(n, b);
    std::vector<double> probs(b * b);
    for (uint64_t x = 0; x < b; ++x) {
      for (uint64_t y = 0; y < b; ++y) {
        probs[x * b + y] = (x == y ? sizes[x] * (sizes[x] - 1) : sizes[x] * sizes[y]) /
                           (static_cast<double>(n) * (n - 1));
      }
    }
    for (uint64_t i : {uint64_t{0}, n / 2, n - 2}) {
      std::vector<int64_t> counts(b * b);
      for (uint64_t e = 0; e < b * b * 30; ++e) {
        const KeyedPermutation p(n, 7, e);
        ++counts[(p.At(i) * b / n) * b + p.At(i + 1) * b / n];
      }
      const auto r = testing::ChiSquareTest(counts, probs);
      EXPECT_GT(r.p_value, 1e-4) << "n=" << n << " i=" << i << " chi2=" << r.statistic;
    }
  }
}

// A uniformly random permutation is odd with probability exactly 1/2. Rotations of an odd
// radix are even permutations, so a network whose radixes are both odd gave only even ones at
// odd squares (289 = 17^2, 625, 91809 = 303^2) and almost only odd or only even ones just below
// them (288: 1994 of 2000 odd, 287, 960, 959, 66048, 66047), where few values are cycle-walked.
TEST(KeyedPermutation, OddAndEvenPermutationsAreEquallyLikely) {
  for (uint64_t n : {289, 625, 91809, 288, 287, 960, 959, 66048, 66047, 300, 1024}) {
    std::vector<int64_t> counts(2);  // even, odd
    for (uint64_t e = 0; e < 600; ++e) {
      const std::vector<uint64_t> v = KeyedPermutation(n, 13, e).Materialize();
      std::vector<bool> seen(n);
      uint64_t cycles = 0;
      for (uint64_t i = 0; i < n; ++i) {
        if (seen[i]) continue;
        ++cycles;
        for (uint64_t j = i; !seen[j]; j = v[j]) seen[j] = true;
      }
      ++counts[(n - cycles) % 2];
    }
    const auto r = testing::ChiSquareTest(counts, {0.5, 0.5});
    EXPECT_GT(r.p_value, 1e-4) << "n=" << n << " even=" << counts[0] << " odd=" << counts[1];
  }
}

// Within one large permutation, consecutive values are independent too (8x8 buckets).
TEST(KeyedPermutation, ConsecutiveValuesOfOnePermutationAreIndependent) {
  const uint64_t n = 1 << 16;
  const auto v = KeyedPermutation(n, 3, 0).Materialize();
  std::vector<int64_t> counts(64);
  for (uint64_t i = 0; i + 1 < n; i += 2) ++counts[(v[i] * 8 / n) * 8 + v[i + 1] * 8 / n];
  std::vector<double> probs(64);
  const double c = n / 8.0;
  for (int a = 0; a < 8; ++a) {
    for (int b = 0; b < 8; ++b) probs[a * 8 + b] = (a == b ? c * (c - 1) : c * c) / (n * (n - 1.0));
  }
  const auto r = testing::ChiSquareTest(counts, probs);
  EXPECT_GT(r.p_value, 1e-4) << "chi2=" << r.statistic;
}

TEST(PermutationShard, RejectsBadRankOrWorld) {
  const KeyedPermutation p(10, 1, 0);
  EXPECT_FALSE(PermutationShard::Create(&p, 0, 0, ShardTail::kDropLast).ok());
  EXPECT_FALSE(PermutationShard::Create(&p, 3, 3, ShardTail::kPad).ok());
  EXPECT_TRUE(PermutationShard::Create(&p, 2, 3, ShardTail::kPad).ok());
}

TEST(PermutationShard, DropLastSlicesAreDisjointAndEqualSized) {
  for (uint64_t n : {0, 1, 5, 10, 11, 17, 1000, 1001}) {
    const KeyedPermutation p(n, 9, 2);
    const auto all = p.Materialize();
    for (uint64_t w : {1, 2, 3, 4, 7, 16}) {
      std::vector<uint64_t> taken;
      for (uint64_t r = 0; r < w; ++r) {
        auto shard = PermutationShard::Create(&p, r, w, ShardTail::kDropLast);
        ASSERT_TRUE(shard.ok());
        ASSERT_EQ(shard->size(), n / w);
        std::vector<uint64_t> got(shard->size());
        shard->Fill(0, got.size(), got.data());
        for (uint64_t j = 0; j < got.size(); ++j) {
          ASSERT_EQ(got[j], all[r + j * w]);  // strided, as PyTorch's DistributedSampler
          ASSERT_EQ(got[j], shard->At(j));
        }
        taken.insert(taken.end(), got.begin(), got.end());
      }
      std::sort(taken.begin(), taken.end());
      std::vector<uint64_t> expected(all.begin(), all.begin() + (n / w) * w);
      std::sort(expected.begin(), expected.end());
      EXPECT_EQ(taken, expected) << "n=" << n << " w=" << w;  // disjoint, nothing else
    }
  }
}

TEST(PermutationShard, PaddedSlicesCoverEverythingByWrapping) {
  for (uint64_t n : {1, 5, 10, 11, 17, 1000, 1001}) {
    const KeyedPermutation p(n, 9, 2);
    const auto all = p.Materialize();
    for (uint64_t w : {1, 2, 3, 4, 7, 16}) {
      const uint64_t per_rank = (n + w - 1) / w;
      std::multiset<uint64_t> taken;
      for (uint64_t r = 0; r < w; ++r) {
        auto shard = PermutationShard::Create(&p, r, w, ShardTail::kPad);
        ASSERT_TRUE(shard.ok());
        ASSERT_EQ(shard->size(), per_rank);
        for (uint64_t j = 0; j < per_rank; ++j) {
          ASSERT_EQ(shard->At(j), all[(r + j * w) % n]);
          taken.insert(shard->At(j));
        }
      }
      ASSERT_EQ(taken.size(), per_rank * w);
      for (uint64_t v = 0; v < n; ++v) EXPECT_GE(taken.count(v), 1u) << "n=" << n << " w=" << w;
      if (n % w == 0) {
        for (uint64_t v = 0; v < n; ++v) EXPECT_EQ(taken.count(v), 1u);
      }
    }
  }
}

TEST(PermutationShard, EmptyPermutationGivesEmptyShards) {
  const KeyedPermutation p(0, 1, 0);
  for (auto tail : {ShardTail::kDropLast, ShardTail::kPad}) {
    auto shard = PermutationShard::Create(&p, 1, 4, tail);
    ASSERT_TRUE(shard.ok());
    EXPECT_EQ(shard->size(), 0u);
    PermutationCursor cursor(&*shard, 0);
    uint64_t v;
    EXPECT_FALSE(cursor.Next(&v));
  }
}

// Rank 0 of 2 over n = 6 holds an ordered triple; all 6*5*4 = 120 must be equally likely.
TEST(PermutationShard, ARankSliceIsAUniformOrderedSample) {
  std::vector<int64_t> counts(216);
  std::vector<double> probs(216, 0.0);
  for (int a = 0; a < 6; ++a) {
    for (int b = 0; b < 6; ++b) {
      for (int c = 0; c < 6; ++c) {
        if (a != b && b != c && a != c) probs[a * 36 + b * 6 + c] = 1.0 / 120;
      }
    }
  }
  for (int e = 0; e < 120 * 200; ++e) {
    const KeyedPermutation p(6, 31, e);
    auto shard = PermutationShard::Create(&p, 0, 2, ShardTail::kDropLast);
    ASSERT_TRUE(shard.ok());
    ++counts[shard->At(0) * 36 + shard->At(1) * 6 + shard->At(2)];
  }
  const auto r = testing::ChiSquareTest(counts, probs);
  EXPECT_GT(r.p_value, 1e-4) << "chi2=" << r.statistic;
}

TEST(PermutationCursor, ResumingAtAnyOffsetYieldsExactlyTheSuffix) {
  const KeyedPermutation p(2500, 4, 4);
  for (uint64_t w : {1, 3}) {
    auto shard = PermutationShard::Create(&p, w - 1, w, ShardTail::kPad);
    ASSERT_TRUE(shard.ok());
    for (uint64_t offset : {uint64_t{0}, uint64_t{1}, uint64_t{511}, uint64_t{512}, uint64_t{700},
                            shard->size() - 1, shard->size()}) {
      PermutationCursor cursor(&*shard, offset);
      std::vector<uint64_t> got;
      uint64_t v;
      while (cursor.Next(&v)) got.push_back(v);
      ASSERT_EQ(got.size(), shard->size() - offset);
      for (size_t j = 0; j < got.size(); ++j) ASSERT_EQ(got[j], shard->At(offset + j));
      EXPECT_EQ(cursor.offset(), shard->size());
    }
  }
}

}  // namespace
}  // namespace urn::samplers
