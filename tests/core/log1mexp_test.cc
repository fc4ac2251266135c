// Log1mExp(x) = ln(1 - e^x) within 2 ulps of a reference in x86-64 long double (64-bit
// mantissa, the same two forms), from x = -1e-300 to the edge of exp's range; and the reason it
// exists: log1p(-exp(x)) is off by 3.6e-9 relative at x = -1e-10, where Algorithm L's ln(1 - W)
// sits for reservoirs of ~10^10 rows (Log1mExp: within 2 ulps, ~4e-16).
#include "base/log1mexp.h"

#include <gtest/gtest.h>

#include <cmath>
#include <initializer_list>
#include <limits>
#include <numbers>

namespace urn {
namespace {

long double Reference(long double x) {
  return x > -std::numbers::ln2_v<long double> ? std::log(-std::expm1(x))
                                               : std::log1p(-std::exp(x));
}

// |got - want| in units of the last place of `want` (as a double).
double Ulps(double got, long double want) {
  const double w = static_cast<double>(want);
  const double ulp =
      std::nextafter(std::fabs(w), std::numeric_limits<double>::infinity()) - std::fabs(w);
  return static_cast<double>(std::fabs(static_cast<long double>(got) - want)) / ulp;
}

TEST(Log1mExp, IsWithinTwoUlpsFromNearZeroToTheEdgeOfExpsRange) {
  for (double x :
       {-1e-300, -1e-100, -1e-20, -1e-10, -1e-5, -1e-3, -0.1,  -0.5,  -0.6931, -std::numbers::ln2,
        -0.6932, -0.7,    -1.0,   -2.0,   -5.0,  -20.0, -36.0, -37.0, -100.0,  -700.0,
        -745.0}) {
    EXPECT_LE(Ulps(Log1mExp(x), Reference(x)), 2.0) << "x = " << x;
  }
}

TEST(Log1mExp, TheDirectFormLosesPrecisionNearZero) {
  const double x = -1e-10;
  EXPECT_LE(Ulps(Log1mExp(x), Reference(x)), 2.0);
  const double direct = std::log1p(-std::exp(x));
  const double want = static_cast<double>(Reference(x));
  EXPECT_GT(std::fabs(direct - want) / std::fabs(want), 1e-9) << direct << " vs " << want;
}

TEST(Log1mExp, EndsAreMinusInfinityAndMinusZero) {
  EXPECT_EQ(Log1mExp(0.0), -std::numeric_limits<double>::infinity());
  const double far = Log1mExp(-std::numeric_limits<double>::infinity());
  EXPECT_EQ(far, 0.0);
  EXPECT_TRUE(std::signbit(far));
}

}  // namespace
}  // namespace urn
