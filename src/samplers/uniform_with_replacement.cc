#include "samplers/uniform_with_replacement.h"

namespace urn::samplers {

void UniformWithReplacement::Fill(uint64_t first, uint64_t count, uint64_t* out) const {
  for (uint64_t i = 0; i < count; ++i) out[i] = stream_.Bounded(first + i, n_);
}

Sample UniformWithReplacement::Take(uint64_t k, bool with_weights) const {
  Sample s;
  if (n_ == 0 || k == 0) return s;
  s.rows.resize(k);
  Fill(0, k, s.rows.data());
  if (with_weights) {
    s.ht_weights.assign(k, Weight(k));
  }
  return s;
}

}  // namespace urn::samplers
