// Sample: what every sampler in this folder returns.
//
// `rows` are 0-based row indices into the population, in the sampler's documented output
// order (random, selection, draw or input order). `ht_weights`, when the sampler defines
// them, holds one Horvitz–Thompson weight per entry of `rows`: 1 / (the row's inclusion
// probability), so that sum(ht_weights[i] * y[rows[i]]) is an unbiased estimate of the
// population total of y. It is empty when the caller did not ask for weights or the sampler
// has none.
#ifndef URN_SAMPLERS_SAMPLE_H_
#define URN_SAMPLERS_SAMPLE_H_

#include <cstdint>
#include <vector>

namespace urn::samplers {

struct Sample {
  std::vector<uint64_t> rows;
  std::vector<double> ht_weights;
};

}  // namespace urn::samplers

#endif  // URN_SAMPLERS_SAMPLE_H_
