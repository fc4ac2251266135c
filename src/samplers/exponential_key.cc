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

}  // namespace

uint64_t ExponentialKeyOf(double e, double w) {
  if (e == 0) return 0;
  int ee = 0, ew = 0;
  const double me = std::frexp(e, &ee);  // [0.5, 1)
  const double mw = std::frexp(w, &ew);  // [0.5, 1), also for subnormal w
  double q = me / mw;                    // (0.5, 2): correctly rounded, never out of range
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
  const double mw = std::frexp(w, &ew);
  return std::ldexp(m * mw, exponent + ew);
}

}  // namespace urn::samplers
