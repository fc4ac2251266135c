// Uniform sampling without replacement: k distinct rows of [0, n), every k-subset equally
// likely, in O(k) memory whatever n is.
//
// Algorithm. The first k steps of a forward Fisher-Yates shuffle of 0 .. n-1 (see shuffle.h):
// step j swaps position j with position j + r_j, r_j = KeyedStream(seed,
// kUniformWithoutReplacement).Bounded(j, n - j), and the sample is positions 0 .. k-1. Only
// positions that were touched differ from the identity, so when k is small next to n they are
// kept in a hash map (a sparse Fisher-Yates; Floyd's algorithm, in Bentley and Floyd, "A
// sample of brilliance", CACM 1987, is the set-only alternative, which gives no random order);
// when 8k >= n a plain array of n (at most 8k words) is faster. Both make the same swaps, so
// the sample does not depend on which is used.
// Time O(k) expected; memory O(k).
//
// Order. OutputOrder::kRandom (default): the rows in the order the steps chose them, which is
// a uniformly random ordering: every ordered k-tuple of distinct rows has probability
// (n-k)!/n!. OutputOrder::kInput: the same rows sorted ascending (O(k log k) more).
//
// Weights. Every row's inclusion probability is k/n, so each HT weight is n/k.
//
// Extremes. k > n returns all n rows (a full shuffle in random order, weight 1). k = 0 or
// n = 0 gives an empty sample. Prefixes agree: the sample for k is the first k rows of the
// random-order sample for any k' > k with the same seed and n.
//
// Thread safety: a function; no shared state.
#ifndef URN_SAMPLERS_UNIFORM_WITHOUT_REPLACEMENT_H_
#define URN_SAMPLERS_UNIFORM_WITHOUT_REPLACEMENT_H_

#include <cstdint>
#include <vector>

#include "samplers/output_order.h"
#include "samplers/sample.h"

namespace urn::samplers {

struct UniformWithoutReplacementOptions {
  uint64_t seed = 0;
  OutputOrder order = OutputOrder::kRandom;
  bool with_weights = false;  // fill Sample::ht_weights with n/k
};

Sample SampleUniformWithoutReplacement(uint64_t n, uint64_t k,
                                       const UniformWithoutReplacementOptions& options);

namespace internal {
// The two implementations, exposed so that tests can check they agree. REQUIRES: k <= n.
std::vector<uint64_t> UniformWithoutReplacementDense(uint64_t n, uint64_t k, uint64_t seed);
std::vector<uint64_t> UniformWithoutReplacementSparse(uint64_t n, uint64_t k, uint64_t seed);
}  // namespace internal

}  // namespace urn::samplers

#endif  // URN_SAMPLERS_UNIFORM_WITHOUT_REPLACEMENT_H_
