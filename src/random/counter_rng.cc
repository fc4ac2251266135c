#include "random/counter_rng.h"

#include <xxhash.h>

namespace urn::random {

uint64_t HashKey(std::string_view key) { return XXH3_64bits(key.data(), key.size()); }

namespace {

// A loop the compiler vectorizes: once as built, once for AVX-512DQ (its 64-bit multiply does
// eight keys at a time). Integer arithmetic: both give the same values.
inline void FillMixed(uint64_t base, uint64_t first_key, uint64_t* out, size_t count) {
  for (size_t i = 0; i < count; ++i) out[i] = Mix64(base + (first_key + i + 1) * kGolden);
}

__attribute__((target("avx512f,avx512dq"))) void FillMixedWide(uint64_t base, uint64_t first_key,
                                                               uint64_t* out, size_t count) {
  FillMixed(base, first_key, out, count);
}

const bool kWide = [] {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512dq");
}();

}  // namespace

void KeyedStream::FillBits(uint64_t first_key, uint64_t* out, size_t count) const {
  if (kWide) {
    FillMixedWide(base_, first_key, out, count);
  } else {
    FillMixed(base_, first_key, out, count);
  }
}

}  // namespace urn::random
