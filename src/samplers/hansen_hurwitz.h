// Hansen-Hurwitz weights of draws with replacement: k draws with P(i) = w_i / W give row i the
// weight W / (k w_i), so that the weighted draws estimate a total without bias (Hansen and
// Hurwitz, "On the theory of sampling from finite populations", 1943).
//
// Finite weights can sum past the largest double (1e308 + 1.7e308). The total is then kept in
// units of the largest weight, so a weight is a number, or +inf when it truly exceeds the
// largest double, never inf / inf = NaN. Otherwise the weight is exactly W / (k w_i) as before.
//
// Complexity: O(n) to total the weights, O(1) per weight. Thread safety: immutable once made.
#ifndef URN_SAMPLERS_HANSEN_HURWITZ_H_
#define URN_SAMPLERS_HANSEN_HURWITZ_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>

namespace urn::samplers {

struct HansenHurwitzTotal {
  double total = 0;  // W, in units of `unit`
  double unit = 1;   // 1, or the largest weight when W overflows a double

  // REQUIRES: every weight finite and >= 0.
  static HansenHurwitzTotal Of(std::span<const double> weights) {
    HansenHurwitzTotal t;
    for (double x : weights) t.total += x;
    if (std::isinf(t.total)) {
      t.unit = *std::max_element(weights.begin(), weights.end());
      t.total = 0;
      for (double x : weights) t.total += x / t.unit;
    }
    return t;
  }

  // W / (draws * w) for a drawn weight w > 0.
  double Weight(uint64_t draws, double w) const {
    const double k = static_cast<double>(draws);
    if (unit != 1) return total / k * (unit / w);
    const double kw = k * w;
    // When draws * w overflows, W / w is finite (w <= W) and at least 1, so dividing by draws
    // after it neither overflows nor underflows (before, W / inf gave 0).
    return std::isfinite(kw) ? total / kw : total / w / k;
  }
};

}  // namespace urn::samplers

#endif  // URN_SAMPLERS_HANSEN_HURWITZ_H_
