#include "samplers/uniform_without_replacement.h"

#include <algorithm>
#include <numeric>

#include "absl/container/flat_hash_map.h"
#include "random/counter_rng.h"
#include "samplers/shuffle.h"

namespace urn::samplers {
namespace internal {

std::vector<uint64_t> UniformWithoutReplacementDense(uint64_t n, uint64_t k, uint64_t seed) {
  std::vector<uint64_t> values(n);
  std::iota(values.begin(), values.end(), uint64_t{0});
  PartialShuffle(absl::MakeSpan(values), k,
                 random::KeyedStream(seed, random::Stream::kUniformWithoutReplacement));
  values.resize(k);
  return values;
}

std::vector<uint64_t> UniformWithoutReplacementSparse(uint64_t n, uint64_t k, uint64_t seed) {
  const random::KeyedStream stream(seed, random::Stream::kUniformWithoutReplacement);
  // displaced[p] = the value now at position p, for touched positions p > j; others hold p.
  absl::flat_hash_map<uint64_t, uint64_t> displaced;
  displaced.reserve(k);
  std::vector<uint64_t> out(k);
  for (uint64_t j = 0; j < k; ++j) {
    // The last step of a full shuffle (j = n - 1) has a single choice; Bounded(j, 1) is 0.
    const uint64_t r = j + stream.Bounded(j, n - j);
    auto at_j = displaced.find(j);
    const uint64_t value_j = at_j == displaced.end() ? j : at_j->second;
    if (r == j) {
      out[j] = value_j;
      continue;
    }
    auto [at_r, fresh] = displaced.try_emplace(r, r);
    out[j] = at_r->second;
    at_r->second = value_j;  // position j is never read again, so it needs no entry
  }
  return out;
}

}  // namespace internal

Sample SampleUniformWithoutReplacement(uint64_t n, uint64_t k,
                                       const UniformWithoutReplacementOptions& options) {
  Sample s;
  const uint64_t m = std::min(k, n);
  if (m == 0) return s;
  s.rows = m >= n / 8 ? internal::UniformWithoutReplacementDense(n, m, options.seed)
                      : internal::UniformWithoutReplacementSparse(n, m, options.seed);
  if (options.order == OutputOrder::kInput) std::sort(s.rows.begin(), s.rows.end());
  if (options.with_weights) {
    s.ht_weights.assign(m, static_cast<double>(n) / static_cast<double>(m));
  }
  return s;
}

}  // namespace urn::samplers
