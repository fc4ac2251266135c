// Weighted sampling WITH replacement by racing Poisson arrivals: m draws, each row i with
// probability w_i / W, independently, where a row's draws are keyed by the row itself (not by
// a table position), so they repeat for that row wherever it is stored.
//
// Method (after "Sampling with SQL", T. Moertel, 2024; the race of exponentials is the one in
// Efraimidis & Spirakis, IPL 2006). Give row i a Poisson process of rate w_i: arrival j is at
//     A_ij = (E_i1 + ... + E_ij) / w_i,   E_i1 = -ln U(seed, kWeighted, key_i),
//                                         E_ij = -ln U(seed, kWeightedReplacement, key_i, j), j
//                                         >= 2.
// The superposition is a Poisson process of rate W whose arrivals come from row i with
// probability w_i / W independently of the past, so its first m arrivals, in time order, are m
// independent weighted draws. Every one of them comes from the rows of the weighted sample of m
// WITHOUT replacement taken with the same seed (the m smallest first arrivals A_i1): the m-th
// arrival overall is no later than the m-th smallest first arrival, and a row outside that
// sample has a later first arrival. So the method takes that sample
// (weighted_without_replacement.h) and merges its rows' arrivals with a heap, generating each row's
// next arrival only when the previous one is taken. Unlike the article's SQL, nothing is truncated:
// a row can repeat up to m times, and the result is exactly the first m arrivals.
//
// Exactness: first arrivals use the exact keys of exponential_key.h; later ones sum at most m
// doubles (relative error <= m 2^-53) before the exact division, so only arrivals closer than
// that can swap. Ties go to (row, arrival number). Compatibility: with one seed the m draws are
// the first m of the m' > m draws.
//
// Time: the without-replacement scan, O(n), plus O(m log m); memory O(m). Input: weights finite
// and >= 0; m > 0 needs some positive weight. Thread safety: reentrant.
#ifndef URN_SAMPLERS_POISSON_ARRIVALS_H_
#define URN_SAMPLERS_POISSON_ARRIVALS_H_

#include <cstdint>
#include <span>

#include "absl/status/statusor.h"
#include "samplers/sample.h"
#include "samplers/weighted_without_replacement.h"

namespace urn::samplers {

// m draws with replacement, in arrival order (options.order == kSelection) or sorted by row
// (kInput). options.ht_weights is ignored: draws with replacement have no inclusion
// probabilities (the Hansen–Hurwitz weight of a draw of row i is W / (m w_i)).
// InvalidArgument on an invalid weight (naming the lowest such row), or if m > 0 and no row
// has positive weight.
absl::StatusOr<Sample> PoissonArrivalsSample(std::span<const double> weights, uint64_t m,
                                             const WeightedOptions& options = {});

// As above with row i keyed by row_keys[i] (one per weight).
absl::StatusOr<Sample> PoissonArrivalsSample(std::span<const double> weights,
                                             std::span<const uint64_t> row_keys, uint64_t m,
                                             const WeightedOptions& options = {});

}  // namespace urn::samplers

#endif  // URN_SAMPLERS_POISSON_ARRIVALS_H_
