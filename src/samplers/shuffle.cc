#include "samplers/shuffle.h"

#include <numeric>
#include <utility>

namespace urn::samplers {

void PartialShuffle(absl::Span<uint64_t> values, uint64_t k, const random::KeyedStream& stream) {
  const uint64_t size = values.size();
  if (size < 2) return;
  const uint64_t steps = k < size - 1 ? k : size - 1;
  // The swap partner of step j is known in advance, so compute it kAhead steps early and
  // prefetch its cache line; the swap itself is then usually a cache hit.
  constexpr uint64_t kAhead = 16;
  uint64_t partner[kAhead];
  const uint64_t warm = steps < kAhead ? steps : kAhead;
  for (uint64_t j = 0; j < warm; ++j) {
    partner[j] = j + stream.Bounded(j, size - j);
    __builtin_prefetch(&values[partner[j]], 1);
  }
  uint64_t* v = values.data();
  for (uint64_t j = 0; j < steps; ++j) {
    const uint64_t r = partner[j % kAhead];
    const uint64_t ahead = j + kAhead;
    if (ahead < steps) {
      partner[ahead % kAhead] = ahead + stream.Bounded(ahead, size - ahead);
      __builtin_prefetch(&v[partner[ahead % kAhead]], 1);
    }
    std::swap(v[j], v[r]);
  }
}

std::vector<uint64_t> Shuffle(uint64_t n, uint64_t seed) {
  std::vector<uint64_t> values(n);
  std::iota(values.begin(), values.end(), uint64_t{0});
  PartialShuffle(absl::MakeSpan(values), n, random::KeyedStream(seed, random::Stream::kShuffle));
  return values;
}

}  // namespace urn::samplers
