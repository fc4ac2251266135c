#include "samplers/hansen_hurwitz.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace urn::samplers {
namespace {

// Below overflow the weight is exactly W / (k w), as computed directly.
TEST(HansenHurwitz, IsExactlyTotalOverDrawsTimesWeight) {
  const std::vector<double> w = {0.1, 2.5, 7, 1e-300, 3e200};
  const HansenHurwitzTotal t = HansenHurwitzTotal::Of(w);
  double total = 0;
  for (double x : w) total += x;
  EXPECT_EQ(t.unit, 1);
  for (double x : w) EXPECT_EQ(t.Weight(13, x), total / (13.0 * x)) << x;
}

// Finite weights whose sum overflows: 1e308 + 1.7e308 = 2.7e308. Each weight is W / (k w),
// finite where that is, and +inf only where it exceeds the largest double; never NaN.
TEST(HansenHurwitz, SumsPastTheLargestDoubleGiveNumbersNotNaN) {
  const std::vector<double> w = {1e308, 1.7e308, 1e-300};
  const HansenHurwitzTotal t = HansenHurwitzTotal::Of(w);
  EXPECT_EQ(t.unit, 1.7e308);
  EXPECT_NEAR(t.Weight(3, 1.7e308), 2.7 / (3 * 1.7), 1e-15);
  EXPECT_NEAR(t.Weight(3, 1e308), 2.7 / 3, 1e-15);
  EXPECT_TRUE(std::isinf(t.Weight(3, 1e-300)));  // 9e607: beyond any double
}

// A finite total whose draws * w overflows: {1e308, 1} drawn 2 and 4 times gives 1e308 the
// weights W / (k w) = 0.5 and 0.25, and 1e9 draws of {1e300, 1e300} give 2e-9 (before, W / inf
// gave 0, so an estimate of the total from the sample was 0).
TEST(HansenHurwitz, DrawsTimesWeightPastTheLargestDoubleStillGivesTheWeight) {
  const HansenHurwitzTotal t = HansenHurwitzTotal::Of(std::vector<double>{1e308, 1});
  EXPECT_EQ(t.unit, 1);
  EXPECT_DOUBLE_EQ(t.Weight(2, 1e308), 0.5);
  EXPECT_DOUBLE_EQ(t.Weight(4, 1e308), 0.25);
  EXPECT_DOUBLE_EQ(t.Weight(4, 1), 2.5e307);
  const HansenHurwitzTotal u = HansenHurwitzTotal::Of(std::vector<double>{1e300, 1e300});
  EXPECT_DOUBLE_EQ(u.Weight(1'000'000'000, 1e300), 2e-9);
}

}  // namespace
}  // namespace urn::samplers
