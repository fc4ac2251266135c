// Weighted shuffle: every row of positive weight, in the order of successive weighted draws
// without replacement (each next row picked among the remaining ones with probability
// proportional to its weight), followed by the zero-weight rows in input order.
//
// Algorithm: the exponential keys of weighted_without_replacement.h (Efraimidis & Spirakis,
// IPL 2006), all of them, sorted ascending by (key, row): each thread computes and LSD
// radix-sorts (64-bit key, 11-bit digits) the keys of its chunk of rows, then the sorted runs
// are merged. Same stream and keys as WeightedSampleWithoutReplacement, so the first k rows of the
// shuffle are the weighted sample of k with the same seed (tsv-sample's compatibility
// property). Zero-weight rows come last, in input order, as in tsv-sample, whose weighted
// shuffle gives them the lowest random value; they are not a weighted draw.
//
// Time: O(n) keys (one logarithm per row) and an O(n) radix sort (up to 6 passes; a pass in
// which every key has the same digit is skipped), both spread over `threads` threads, then
// O(n log threads) merging.
// Memory: 32 bytes per row. Input: weights finite and >= 0; else InvalidArgument naming the
// lowest invalid row. Thread safety: reentrant.
#ifndef URN_SAMPLERS_WEIGHTED_SHUFFLE_H_
#define URN_SAMPLERS_WEIGHTED_SHUFFLE_H_

#include <cstdint>
#include <span>

#include "absl/status/statusor.h"
#include "samplers/sample.h"
#include "samplers/weighted_without_replacement.h"

namespace urn::samplers {

// All rows, as described above. Uses options.seed and options.threads; options.order and
// options.ht_weights are ignored (a shuffle has one order and includes every row).
absl::StatusOr<Sample> WeightedShuffle(std::span<const double> weights,
                                       const WeightedOptions& options = {});

// As above with row i keyed by row_keys[i] (one per weight).
absl::StatusOr<Sample> WeightedShuffle(std::span<const double> weights,
                                       std::span<const uint64_t> row_keys,
                                       const WeightedOptions& options = {});

}  // namespace urn::samplers

#endif  // URN_SAMPLERS_WEIGHTED_SHUFFLE_H_
