#include "support/stats.h"

#include <cmath>
#include <limits>

namespace urn::testing {
namespace {

// Series for P(a, x), good for x < a + 1.
double GammaPSeries(double a, double x) {
  double sum = 1.0 / a;
  double term = sum;
  for (int n = 1; n < 100000; ++n) {
    term *= x / (a + n);
    sum += term;
    if (std::fabs(term) < std::fabs(sum) * 1e-16) break;
  }
  return sum * std::exp(-x + a * std::log(x) - std::lgamma(a));
}

// Continued fraction for Q(a, x) (modified Lentz), good for x >= a + 1.
double GammaQFraction(double a, double x) {
  const double tiny = 1e-300;
  double b = x + 1.0 - a;
  double c = 1.0 / tiny;
  double d = 1.0 / b;
  double h = d;
  for (int i = 1; i < 100000; ++i) {
    const double an = -i * (i - a);
    b += 2.0;
    d = an * d + b;
    if (std::fabs(d) < tiny) d = tiny;
    c = b + an / c;
    if (std::fabs(c) < tiny) c = tiny;
    d = 1.0 / d;
    const double delta = d * c;
    h *= delta;
    if (std::fabs(delta - 1.0) < 1e-16) break;
  }
  return std::exp(-x + a * std::log(x) - std::lgamma(a)) * h;
}

}  // namespace

double RegularizedGammaQ(double a, double x) {
  if (x <= 0) return 1.0;
  if (x < a + 1.0) return 1.0 - GammaPSeries(a, x);
  return GammaQFraction(a, x);
}

ChiSquare ChiSquareTest(const std::vector<int64_t>& observed,
                        const std::vector<double>& probabilities) {
  ChiSquare r;
  int64_t total = 0;
  for (int64_t o : observed) total += o;
  int cells = 0;
  for (size_t i = 0; i < observed.size(); ++i) {
    const double expected = probabilities[i] * static_cast<double>(total);
    if (expected == 0) {
      if (observed[i] != 0) {
        r.statistic = std::numeric_limits<double>::infinity();
        r.p_value = 0;
        r.degrees_of_freedom = 1;
        return r;
      }
      continue;
    }
    const double diff = static_cast<double>(observed[i]) - expected;
    r.statistic += diff * diff / expected;
    ++cells;
  }
  r.degrees_of_freedom = cells > 1 ? cells - 1 : 1;
  r.p_value = RegularizedGammaQ(r.degrees_of_freedom / 2.0, r.statistic / 2.0);
  return r;
}

}  // namespace urn::testing
