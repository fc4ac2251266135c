// Exponential keys E / w of weighted sampling (Efraimidis & Spirakis, "Weighted random sampling
// with a reservoir", IPL 97(5), 2006), held so that they never overflow or underflow.
//
// A row of weight w > 0 draws E = -ln(u), u = U(seed, stream, row key) in (0, 1], and arrives
// at time E / w. The first k arrivals are a weighted sample without replacement, in the order
// of successive weighted draws. With doubles, E / w overflows when w is subnormal (E / 5e-324)
// and underflows when w is near 1e308 (1e-16 / 1e308), which would collapse distinct keys into
// ties. An ExponentialKey is instead E / w correctly rounded to 53 significant bits with an
// unbounded exponent (E and w are split by frexp, their mantissas divided, and the exponents
// subtracted), packed into a uint64_t that compares like the real number:
//
//     bits 63..52  exponent + 2048  (the exponent of E / w lies in [-1077, 1079])
//     bits 51..0   the 52 fraction bits of the mantissa in [1, 2)
//
// and the value 0 for E = 0 (u = 1, probability 2^-53). Rounding is monotone, so if
// E_a / w_a < E_b / w_b as real numbers then key_a <= key_b; the only loss is that reals within
// one part in 2^53 may tie, and ties are broken by row index by every caller.
//
// Cost: one log, two frexp, one division (~20 ns). Thread safety: pure functions.
#ifndef URN_SAMPLERS_EXPONENTIAL_KEY_H_
#define URN_SAMPLERS_EXPONENTIAL_KEY_H_

#include <cstdint>

namespace urn::samplers {

// The key of a row whose uniform draw has `bits` (KeyedStream::Bits) and whose weight is `w`.
// REQUIRES: w > 0 and finite (subnormals allowed).
uint64_t ExponentialKey(uint64_t bits, double w);

// The key of a row whose standard exponential variate is `e` (e >= 0, finite) and weight `w`.
// Used for sums of exponentials (Poisson arrivals after the first). REQUIRES: as above.
uint64_t ExponentialKeyOf(double e, double w);

// The key as a double, rounded UP to a value >= the key: +inf when the key is above 2^1000,
// 2^-1000 when it is below 2^-1000 (and positive), exact otherwise. Filters that must never
// reject a row the exact comparison would accept use this as their threshold.
double ExponentialKeyUpperBound(uint64_t key);

// w * key as a double (ldexp semantics: +inf on overflow, 0 or subnormal on underflow).
double WeightTimesKey(double w, uint64_t key);

// The largest key; greater than every key ExponentialKey returns.
inline constexpr uint64_t kInfiniteExponentialKey = ~uint64_t{0};

}  // namespace urn::samplers

#endif  // URN_SAMPLERS_EXPONENTIAL_KEY_H_
