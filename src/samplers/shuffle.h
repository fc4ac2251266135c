// Shuffle: a uniformly random order of all n rows, materialized (every one of the n! orders
// equally likely), and the partial shuffle it is built from.
//
// Algorithm. Fisher-Yates in Durstenfeld's form (Knuth, TAOCP vol. 2, 3.4.2, Algorithm P),
// run forward: for j = 0, 1, ..., swap values[j] with values[j + r_j], r_j uniform on
// [0, size - j). After step j, values[0..j] is a uniformly random ordered sample of j + 1
// values, which is why the same routine serves uniform sampling without replacement.
// r_j = stream.Bounded(j, size - j) (Lemire), a pure function of (seed, stream, j).
// Time O(n) (random memory access: a cache miss per row once n outgrows the cache, hidden in
// part by prefetching draws a few steps ahead); memory: the n values themselves.
// For a shuffle that is not materialized, see permutation.h.
//
// Thread safety: functions; the caller owns `values`.
#ifndef URN_SAMPLERS_SHUFFLE_H_
#define URN_SAMPLERS_SHUFFLE_H_

#include <cstdint>
#include <vector>

#include "absl/types/span.h"
#include "random/counter_rng.h"

namespace urn::samplers {

// Runs the first min(k, size - 1) steps of Fisher-Yates on `values`, so that values[0, k) is
// a uniformly random ordered k-sample of the values (all of them, shuffled, if k >= size).
void PartialShuffle(absl::Span<uint64_t> values, uint64_t k, const random::KeyedStream& stream);

// 0 .. n-1 in a uniformly random order chosen by the seed (stream kShuffle). n = 0: empty.
std::vector<uint64_t> Shuffle(uint64_t n, uint64_t seed);

}  // namespace urn::samplers

#endif  // URN_SAMPLERS_SHUFFLE_H_
