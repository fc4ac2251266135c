// The heavy no-drift tests of issue 4 (label `slow`): 10^8 updates, and 2^27 slots.
// Each takes well under a minute in Release and holds at most one large tree.
#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <vector>

#include "random/counter_rng.h"
#include "weights/sum_tree.h"

namespace urn::weights {
namespace {

using random::KeyedStream;
using random::Stream;

// Log-uniform over [1e-12, 1e12] from 10^(-12 + 24 u), a quarter of them 0.
double ExtremeWeight(const KeyedStream& rng, uint64_t key) {
  const uint64_t bits = rng.Bits(key);
  if ((bits & 3) == 0) return 0.0;
  return std::exp2((-12 + 24 * random::BitsToUnit(bits)) * 3.321928094887362);
}

void FillExtreme(SumTree& tree, uint64_t seed) {
  const KeyedStream rng(seed, Stream::kSumTree, 0);
  constexpr uint64_t kStep = 1 << 16;
  std::vector<uint64_t> slots;
  std::vector<double> weights;
  for (uint64_t first = 0; first < tree.size(); first += kStep) {
    const uint64_t m = std::min(kStep, tree.size() - first);
    slots.resize(m);
    weights.resize(m);
    for (uint64_t i = 0; i < m; ++i) {
      slots[i] = first + i;
      weights[i] = ExtremeWeight(rng, first + i);
    }
    ASSERT_TRUE(tree.SetBatch(slots, weights).ok());
  }
}

void ExpectPositiveAndInRange(const SumTree& tree, const std::vector<uint64_t>& draws) {
  for (uint64_t s : draws) {
    ASSERT_LT(s, tree.size());
    ASSERT_GT(tree.Get(s), 0.0) << "slot " << s;
  }
}

// 10^8 random updates in batches of 256 (and some single ones) over 2^20 slots, weights
// spanning 1e-12 .. 1e12 with zeros: afterwards every node is bit-identical to a fresh rebuild
// and the total is within the documented bound of the exact sum.
TEST(SumTreeSlowTest, HundredMillionUpdatesLeaveEveryNodeEqualToAFreshRebuild) {
  const uint64_t n = uint64_t{1} << 20;
  auto tree = *SumTree::Create(n);
  FillExtreme(*tree, 1);
  constexpr uint64_t kUpdates = 100'000'000, kBatch = 256;
  std::vector<uint64_t> slots(kBatch);
  std::vector<double> weights(kBatch);
  for (uint64_t batch = 0; batch < kUpdates / kBatch + 1; ++batch) {
    const KeyedStream rng(2, Stream::kSumTree, batch);
    for (uint64_t i = 0; i < kBatch; ++i) {
      const uint64_t bits = rng.Bits(2 * i);
      slots[i] = bits >> 44;  // top 20 bits: a slot of 2^20
      weights[i] = ExtremeWeight(rng, 2 * i + 1);
    }
    if (batch % 1000 == 0) {
      for (uint64_t i = 0; i < kBatch; ++i) ASSERT_TRUE(tree->Set(slots[i], weights[i]).ok());
    } else {
      ASSERT_TRUE(tree->SetBatch(slots, weights).ok());
    }
  }
  ASSERT_TRUE(tree->Verify().ok()) << tree->Verify();
  std::vector<double> leaves(n);
  long double exact = 0;
  for (uint64_t i = 0; i < n; ++i) {
    leaves[i] = tree->Get(i);
    exact += leaves[i];
  }
  auto rebuilt = *SumTree::Create(n);
  ASSERT_TRUE(rebuilt->Assign(leaves).ok());
  EXPECT_TRUE(tree->IdenticalTo(*rebuilt));
  EXPECT_LE(std::fabs(tree->Total() - exact), SumTree::kBoundaryError * exact);
}

// 2^27 slots (about 1.3 GiB), weights spanning 1e-12 .. 1e12 with zeros: no draw of any kind
// returns a zero-weight slot or a slot out of range, and draws without replacement leave the
// tree exactly as it was.
TEST(SumTreeSlowTest, TwoToThe27SlotsWithExtremeWeightsNeverDrawZeroOrOutOfRange) {
  const uint64_t n = uint64_t{1} << 27;
  auto tree = *SumTree::Create(n);
  FillExtreme(*tree, 3);
  ASSERT_GT(tree->PositiveCount(), n / 2);
  std::vector<uint64_t> out(4096);
  for (uint64_t batch = 0; batch < 250; ++batch) {
    ASSERT_TRUE(tree->SampleWithReplacement(4, batch, absl::MakeSpan(out)).ok());
    ExpectPositiveAndInRange(*tree, out);
    ASSERT_TRUE(tree->SampleStratified(4, batch, absl::MakeSpan(out)).ok());
    ExpectPositiveAndInRange(*tree, out);
  }
  // The very top of the range, where rounding is most likely to walk past the last slot.
  for (double mass : {tree->Total(), std::nextafter(tree->Total(), 0.0), 0.0}) {
    const uint64_t s = *tree->FindPrefix(mass);
    ASSERT_LT(s, n);
    ASSERT_GT(tree->Get(s), 0.0);
  }
  const double total = tree->Total();
  for (uint64_t batch = 0; batch < 20; ++batch) {
    ASSERT_TRUE(tree->SampleWithoutReplacement(4, batch, absl::MakeSpan(out)).ok());
    ExpectPositiveAndInRange(*tree, out);
    ASSERT_EQ(std::set<uint64_t>(out.begin(), out.end()).size(), out.size());
  }
  EXPECT_EQ(tree->Total(), total);
  EXPECT_TRUE(tree->Verify().ok()) << tree->Verify();
}

}  // namespace
}  // namespace urn::weights
