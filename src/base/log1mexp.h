// Log1mExp(x) = ln(1 - e^x) for x < 0, accurate to a few ulps over the whole range.
//
// The direct forms each lose precision on one side of -ln 2 (Maechler, "Accurately Computing
// log(1 - exp(-|a|))", CRAN Rmpfr vignette, 2012): log1p(-exp(x)) rounds e^x to a double near 1
// when x is close to 0, so 1 - e^x keeps only the bits of e^x below 2^-53 (at x = -1e-10 a
// relative error up to 5e-7 in 1 - e^x, 3.6e-9 measured in the logarithm), while log(-expm1(x))
// loses the small e^x to rounding when x is very negative. Each is used where it is exact to the
// last bits: expm1 above -ln 2, log1p below. O(1). x = 0 gives -inf; x = -inf gives -0.
#ifndef URN_BASE_LOG1MEXP_H_
#define URN_BASE_LOG1MEXP_H_

#include <cmath>
#include <numbers>

namespace urn {

inline double Log1mExp(double x) {
  return x > -std::numbers::ln2 ? std::log(-std::expm1(x)) : std::log1p(-std::exp(x));
}

}  // namespace urn

#endif  // URN_BASE_LOG1MEXP_H_
