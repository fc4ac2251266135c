// Statistics for tests that compare observed counts with an exact distribution.
#ifndef URN_TESTS_SUPPORT_STATS_H_
#define URN_TESTS_SUPPORT_STATS_H_

#include <cstdint>
#include <vector>

namespace urn::testing {

// Regularized upper incomplete gamma Q(a, x) = Gamma(a, x) / Gamma(a). REQUIRES: a > 0, x >= 0.
double RegularizedGammaQ(double a, double x);

struct ChiSquare {
  double statistic = 0;
  int degrees_of_freedom = 0;
  double p_value = 1;  // P(X >= statistic) for X ~ chi-square(df)
};

// Pearson's chi-square of `observed` counts against `probabilities` (which must sum to 1).
// Cells whose probability is 0 must be empty (else the p-value is 0). Expected counts should
// be >= 5 for the approximation to hold; callers choose sizes so that they are.
ChiSquare ChiSquareTest(const std::vector<int64_t>& observed,
                        const std::vector<double>& probabilities);

}  // namespace urn::testing

#endif  // URN_TESTS_SUPPORT_STATS_H_
