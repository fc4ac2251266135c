// Uniform sampling with replacement: k independent draws, each row of [0, n) equally likely.
//
// Algorithm. Draw j is random::KeyedStream(seed, kUniformWithReplacement).Bounded(j, n)
// (Lemire's unbiased multiply-shift), a pure function of (seed, j): any draw can be computed
// alone, in any order, on any thread, and the first k draws of a request for k' > k are the k
// draws of a request for k. See "Efficient Sampling Algorithms" (seeds/002) for the method.
// Time O(k), memory O(1) beyond the output. Rows appear in draw order and may repeat.
//
// Weights. A with-replacement sample has no inclusion-probability (Horvitz-Thompson) weight
// per draw; what it has is the Hansen-Hurwitz weight 1 / (k * p_i) = n / k, with p_i = 1/n the
// draw probability, which makes sum(w * y[row]) over the k draws (repeats counted) an
// unbiased estimate of the population total. That is what ht_weights holds: n / k per draw.
//
// Extremes. k = 0 gives an empty sample. n = 0 gives an empty sample whatever k is (there is
// nothing to draw from; this is not an error, as reading an empty file is not).
//
// Thread safety: immutable value; share freely.
#ifndef URN_SAMPLERS_UNIFORM_WITH_REPLACEMENT_H_
#define URN_SAMPLERS_UNIFORM_WITH_REPLACEMENT_H_

#include <cstdint>

#include "random/counter_rng.h"
#include "samplers/sample.h"

namespace urn::samplers {

class UniformWithReplacement {
 public:
  UniformWithReplacement(uint64_t n, uint64_t seed)
      : n_(n), stream_(seed, random::Stream::kUniformWithReplacement) {}

  // Row of draw j. REQUIRES: n > 0.
  uint64_t Draw(uint64_t j) const { return stream_.Bounded(j, n_); }

  // out[i] = Draw(first + i) for i in [0, count). REQUIRES: n > 0 or count == 0.
  void Fill(uint64_t first, uint64_t count, uint64_t* out) const;

  // The Hansen-Hurwitz weight of each of k draws: n / k. REQUIRES: k > 0.
  double Weight(uint64_t k) const { return static_cast<double>(n_) / static_cast<double>(k); }

  // Draws 0 .. k-1, in draw order, with Hansen-Hurwitz weights n / k when asked.
  Sample Take(uint64_t k, bool with_weights) const;

 private:
  uint64_t n_;
  random::KeyedStream stream_;
};

}  // namespace urn::samplers

#endif  // URN_SAMPLERS_UNIFORM_WITH_REPLACEMENT_H_
