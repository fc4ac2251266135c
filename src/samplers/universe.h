// UNIVERSE sampling (U-SQL's SAMPLE ... ON keys UNIVERSE(p); tsv-sample's distinct sampling
// --key-fields with --prob): a random fraction p of the space of key values is chosen, and
// every row whose key is in it is kept. All rows of a key go together.
//
// Algorithm. Key value v is in the universe iff U(seed, kUniverse, HashKey(v)) <= p (see
// group_key.h for HashKey of one or several columns). The decision depends on the key and the
// seed only, never on the row's position, the other rows, the shard or the thread, so it needs
// no memory and no coordination: sampling both inputs of an equijoin on the join keys with one
// seed and p equals sampling the join. Monotone in p: with one seed the keys kept at p are a
// subset of those kept at p' > p. Time O(key length) per row, memory O(1).
// (U-SQL calls for a cryptographically strong hash; XXH3 keyed by the seed is not one: an
// adversary who knows the seed can choose keys. That is fine for sampling one's own data.)
//
// Weights. A row's inclusion probability is its key's, p, so every HT weight is 1/p.
// Output: input order. Expected size p * rows, with more variance than Bernoulli when there
// are few keys. Requirements: p in (0, 1], else InvalidArgument; p = 1 keeps every row.
//
// Thread safety: immutable; share freely.
#ifndef URN_SAMPLERS_UNIVERSE_H_
#define URN_SAMPLERS_UNIVERSE_H_

#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "random/counter_rng.h"
#include "samplers/sample.h"

namespace urn::samplers {

class UniverseSampler {
 public:
  static absl::StatusOr<UniverseSampler> Create(double p, uint64_t seed);

  // True iff rows with this key are kept.
  bool Keep(std::string_view key) const { return KeepHash(random::HashKey(key)); }
  // The same for a key already hashed with HashKey / HashKeyColumns.
  bool KeepHash(uint64_t key_hash) const;
  double weight() const { return 1.0 / p_; }

 private:
  UniverseSampler(double p, uint64_t seed) : p_(p), stream_(seed, random::Stream::kUniverse) {}
  double p_;
  random::KeyedStream stream_;
};

// The rows (indices into `keys`) whose key is in the universe, ascending, with weights 1/p
// when asked.
absl::StatusOr<Sample> SampleUniverse(absl::Span<const std::string_view> keys, double p,
                                      uint64_t seed, bool with_weights);

}  // namespace urn::samplers

#endif  // URN_SAMPLERS_UNIVERSE_H_
