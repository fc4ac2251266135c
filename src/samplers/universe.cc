#include "samplers/universe.h"

#include "samplers/probability.h"

namespace urn::samplers {

absl::StatusOr<UniverseSampler> UniverseSampler::Create(double p, uint64_t seed) {
  if (absl::Status s = CheckProbability(p, "UNIVERSE fraction p"); !s.ok()) return s;
  return UniverseSampler(p, seed);
}

bool UniverseSampler::KeepHash(uint64_t key_hash) const {
  return Selects(stream_.Uniform(key_hash), p_);
}

absl::StatusOr<Sample> SampleUniverse(absl::Span<const std::string_view> keys, double p,
                                      uint64_t seed, bool with_weights) {
  absl::StatusOr<UniverseSampler> sampler = UniverseSampler::Create(p, seed);
  if (!sampler.ok()) return sampler.status();
  Sample s;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (sampler->Keep(keys[i])) s.rows.push_back(i);
  }
  if (with_weights) s.ht_weights.assign(s.rows.size(), sampler->weight());
  return s;
}

}  // namespace urn::samplers
