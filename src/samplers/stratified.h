// Stratified sampling: inside each stratum (rows sharing a stratum id), a fixed number k_s of
// rows drawn uniformly without replacement, independently across strata.
//
// Algorithm. Two passes over the stratum ids. Pass 1 counts n_s per stratum and fixes k_s
// from the allocation (a count per stratum, or a fraction f with k_s = round(f n_s) or
// ceil(f n_s); always clamped to n_s). Pass 2 gives row i the random key
// KeyedStream(seed, kStratified).Bits(i) and keeps, per stratum, the k_s rows with the
// smallest keys in a bounded max-heap ("bottom-k": the k smallest of i.i.d. uniform keys are a
// uniformly random k-subset; cf. Efraimidis and Spirakis 2006 with equal weights). Bits is a
// bijection of i, so keys never tie. The bottom-k of a union is the bottom-k of the parts'
// bottom-k, so shards can sample separately and merge.
// Time O(n + n_kept_candidates log k) (a heap operation only for rows that beat the current
// k_s-th smallest key: O(k_s log(n_s/k_s)) expected per stratum); memory O(strata + sum k_s).
//
// Output: the kept rows in input order (ascending row index), with HT weight n_s / k_s for a
// row of stratum s (its inclusion probability is k_s / n_s).
// Requirements. A fraction must be in [0, 1] (NaN rejected), else InvalidArgument. k_s = 0 or
// an empty stratum keeps nothing of it.
//
// Thread safety: a function; no shared state.
#ifndef URN_SAMPLERS_STRATIFIED_H_
#define URN_SAMPLERS_STRATIFIED_H_

#include <cstdint>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "samplers/sample.h"

namespace urn::samplers {

// How many rows to take from each stratum.
struct StratumAllocation {
  enum class Kind {
    kCount,  // k_s = counts[s] if s is listed, else default_count
    // k_s = round(fraction * n_s), halves rounded up. In both fraction kinds a product within
    // 2^-40 (relative, and at most 2^-20) of a multiple of 1/2 counts as that multiple, since
    // decimal fractions are inexact in binary: 7% of 100 rows is 7 (0.07 * 100 is
    // 7.000000000000001 in doubles).
    kFraction,
    kFractionCeil,  // k_s = ceil(fraction * n_s): every non-empty stratum keeps at least one row
  };
  Kind kind = Kind::kCount;
  uint64_t default_count = 0;
  absl::flat_hash_map<uint64_t, uint64_t> counts;
  double fraction = 0;

  static StratumAllocation Count(uint64_t per_stratum) {
    StratumAllocation a;
    a.default_count = per_stratum;
    return a;
  }
  static StratumAllocation Fraction(double f, bool ceil = false) {
    StratumAllocation a;
    a.kind = ceil ? Kind::kFractionCeil : Kind::kFraction;
    a.fraction = f;
    return a;
  }
};

// `strata[i]` is row i's stratum id.
absl::StatusOr<Sample> SampleStratified(absl::Span<const uint64_t> strata,
                                        const StratumAllocation& allocation, uint64_t seed,
                                        bool with_weights);

}  // namespace urn::samplers

#endif  // URN_SAMPLERS_STRATIFIED_H_
