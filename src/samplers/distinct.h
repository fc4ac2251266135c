// DISTINCT sampling (U-SQL's SAMPLE ... ON keys DISTINCT(p, min_rows)): per key, the first
// min_rows rows are always kept, and every later row of that key is kept with probability p.
// No key that occurs in the input is missing from the sample, which makes sampling before a
// GROUP BY on those keys safe.
//
// Algorithm. One counter per distinct key seen (a hash map from the key's 64-bit hash, see
// group_key.h, to its number of rows so far). The c-th row of a key (c counted from 0 in input
// order) is kept with weight 1 if c < min_rows; otherwise it is kept iff
// U(seed, kDistinct, HashKey(key) XOR Mix64(c)) <= p, with weight 1/p.
// Choice: the draw is keyed by (key, occurrence), not by row index, so a row's fate depends
// only on its key, its rank among that key's rows and the seed: reordering or interleaving
// other keys' rows, or adding rows of other keys, changes nothing for this key. Monotone in p:
// with one seed and min_rows, the sample at p is a subset of the sample at p' > p.
// Time O(1) expected per row; memory O(distinct keys) (16 bytes and hash-map overhead each).
// Two different keys whose 64-bit hashes collide share a counter (probability about
// keys^2 / 2^65: 3e-8 for a million keys).
//
// Weights. HT weight 1 for the always-kept rows (inclusion probability 1) and 1/p for the
// others. Output: input order.
// Requirements. p in (0, 1], else InvalidArgument; p = 1 keeps every row. min_rows >= 0
// (0: a per-key Bernoulli(p); there is then no guarantee that every key appears).
//
// Thread safety: DistinctSampler is not thread-safe (it counts). U-SQL runs DISTINCT per input
// partition and so may keep fewer than min_rows of a key split across partitions; urn counts
// over the whole input of one sampler.
#ifndef URN_SAMPLERS_DISTINCT_H_
#define URN_SAMPLERS_DISTINCT_H_

#include <cstdint>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "random/counter_rng.h"
#include "samplers/sample.h"

namespace urn::samplers {

class DistinctSampler {
 public:
  struct Decision {
    bool keep = false;
    double weight = 0;  // HT weight when kept: 1 (among the first min_rows) or 1/p
  };

  static absl::StatusOr<DistinctSampler> Create(double p, uint64_t min_rows, uint64_t seed);

  // The decision for the next row (in input order) whose key is `key`.
  Decision Offer(std::string_view key) { return OfferHash(random::HashKey(key)); }
  // The same for a key already hashed with HashKey / HashKeyColumns.
  Decision OfferHash(uint64_t key_hash);

  size_t distinct_keys() const { return counts_.size(); }

 private:
  DistinctSampler(double p, uint64_t min_rows, uint64_t seed)
      : p_(p), min_rows_(min_rows), stream_(seed, random::Stream::kDistinct) {}

  double p_;
  uint64_t min_rows_;
  random::KeyedStream stream_;
  absl::flat_hash_map<uint64_t, uint64_t> counts_;
};

// DISTINCT over a column of keys (one per row): kept rows ascending, with weights when asked.
absl::StatusOr<Sample> SampleDistinct(absl::Span<const std::string_view> keys, double p,
                                      uint64_t min_rows, uint64_t seed, bool with_weights);

}  // namespace urn::samplers

#endif  // URN_SAMPLERS_DISTINCT_H_
