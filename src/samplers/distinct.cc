#include "samplers/distinct.h"

#include "samplers/probability.h"

namespace urn::samplers {

absl::StatusOr<DistinctSampler> DistinctSampler::Create(double p, uint64_t min_rows,
                                                        uint64_t seed) {
  if (absl::Status s = CheckProbability(p, "DISTINCT fraction p"); !s.ok()) return s;
  return DistinctSampler(p, min_rows, seed);
}

DistinctSampler::Decision DistinctSampler::OfferHash(uint64_t key_hash) {
  const uint64_t occurrence = counts_[key_hash]++;
  if (occurrence < min_rows_) return {true, 1.0};
  const double u = stream_.Uniform(key_hash ^ random::Mix64(occurrence));
  return {Selects(u, p_), 1.0 / p_};
}

absl::StatusOr<Sample> SampleDistinct(absl::Span<const std::string_view> keys, double p,
                                      uint64_t min_rows, uint64_t seed, bool with_weights) {
  absl::StatusOr<DistinctSampler> sampler = DistinctSampler::Create(p, min_rows, seed);
  if (!sampler.ok()) return sampler.status();
  Sample s;
  for (size_t i = 0; i < keys.size(); ++i) {
    const DistinctSampler::Decision d = sampler->Offer(keys[i]);
    if (!d.keep) continue;
    s.rows.push_back(i);
    if (with_weights) s.ht_weights.push_back(d.weight);
  }
  return s;
}

}  // namespace urn::samplers
