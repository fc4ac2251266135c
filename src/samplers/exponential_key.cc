#include "samplers/exponential_key.h"

#include <bit>
#include <cmath>

#include "random/counter_rng.h"

namespace urn::samplers {
namespace {

constexpr int kExponentBias = 2048;
constexpr uint64_t kFractionMask = (uint64_t{1} << 52) - 1;

// Packs m * 2^exponent, m in [1, 2).
uint64_t Pack(double m, int exponent) {
  return (static_cast<uint64_t>(exponent + kExponentBias) << 52) |
         (std::bit_cast<uint64_t>(m) & kFractionMask);
}

// Unpacks a nonzero, finite key into m in [1, 2) and its exponent.
double Unpack(uint64_t key, int* exponent) {
  *exponent = static_cast<int>(key >> 52) - kExponentBias;
  return std::bit_cast<double>((key & kFractionMask) | std::bit_cast<uint64_t>(1.0));
}

// std::frexp without the library call for normal x > 0 (m in [0.5, 1), x = m 2^e).
inline double Frexp(double x, int* e) {
  const uint64_t bits = std::bit_cast<uint64_t>(x);
  const int biased = static_cast<int>(bits >> 52);              // sign bit is 0
  if (biased == 0 || biased == 0x7FF) return std::frexp(x, e);  // subnormal (or not finite)
  *e = biased - 1022;
  return std::bit_cast<double>((bits & kFractionMask) | (uint64_t{1022} << 52));
}

}  // namespace

uint64_t ExponentialKeyOf(double e, double w) {
  if (e == 0) return 0;
  int ee = 0, ew = 0;
  const double me = Frexp(e, &ee);  // [0.5, 1)
  const double mw = Frexp(w, &ew);  // [0.5, 1), also for subnormal w
  double q = me / mw;               // (0.5, 2): correctly rounded, never out of range
  int exponent = ee - ew;
  if (q < 1) {
    q *= 2;  // exact
    --exponent;
  }
  return Pack(q, exponent);
}

uint64_t ExponentialKey(uint64_t bits, double w) {
  return ExponentialKeyOf(-std::log(random::BitsToUnit(bits)), w);
}

double ExponentialKeyUpperBound(uint64_t key) {
  if (key == 0) return 0;
  if (key == kInfiniteExponentialKey) return HUGE_VAL;
  int exponent = 0;
  const double m = Unpack(key, &exponent);
  if (exponent > 1000) return HUGE_VAL;
  if (exponent < -1000) return 0x1p-1000;
  return std::ldexp(m, exponent);
}

double WeightTimesKey(double w, uint64_t key) {
  if (key == 0 || w == 0) return 0;
  if (key == kInfiniteExponentialKey) return HUGE_VAL;
  int exponent = 0, ew = 0;
  const double m = Unpack(key, &exponent);
  const double mw = Frexp(w, &ew);
  return std::ldexp(m * mw, exponent + ew);
}

}  // namespace urn::samplers
