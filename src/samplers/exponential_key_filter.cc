#include "samplers/exponential_key_filter.h"

#include <cfloat>
#include <cstring>

#include "random/counter_rng.h"

// Why a rejected row can never be accepted by the exact comparison.
//
// Let t >= 0 be the threshold bound, S = fl(t * 2^52 * (1 + 2^-40)) = FilterScale(t), and for a
// row of weight 0 <= w <= DBL_MAX let P = fl(S * w) and d = (~bits) >> 12, an integer below
// 2^52 converted exactly. The row is rejected iff d > P, tested on bit patterns (P and d are
// non-negative; P is NaN only as inf * 0, for a zero-weight row, which may then be rejected).
//  - S = +inf: P is +inf (w > 0) or NaN (w = 0): no row of positive weight is rejected.
//  - P normal: P >= S w (1 - 2^-53) >= t w 2^52 (1 + 2^-40)(1 - 2^-53)^2 > t w 2^52 (1 + 2^-41).
//  - P subnormal or 0: t w 2^52 < S w < 2^-1022, while d > P >= 0 means d >= 1.
// Either way d 2^-52 > t w (1 + 2^-41). Now u = ((bits >> 11) + 1) 2^-53, so
// 1 - u = ((~bits) >> 11) 2^-53 >= d 2^-52, and E = fl(-ln u) >= (1 - 2^-52)(-ln u) (glibc's
// log is within one ulp) >= (1 - 2^-52)(1 - u). Hence E > (1 - 2^-52)(1 + 2^-41) t w > t w:
// the key E / w is above t, its correctly rounded value is >= t, and a row with a key >= the
// k-th key and a larger row index does not enter the top k.

namespace urn::samplers::internal {
namespace {

using U64x8 = uint64_t __attribute__((vector_size(64)));
using F64x8 = double __attribute__((vector_size(64)));

constexpr uint64_t kMix1 = 0xBF58476D1CE4E5B9ULL;
constexpr uint64_t kMix2 = 0x94D049BB133111EBULL;
constexpr uint64_t kTwo52Bits = 0x4330000000000000ULL;  // the double 2^52
constexpr uint64_t kInfBits = 0x7FF0000000000000ULL;    // the double +inf

// 8 rows per vector, 8 vectors per group; a group with no candidate costs one test.
template <bool kKeyed>
[[gnu::always_inline]] inline size_t Kernel(const FilterBlock& block, double scale, uint32_t* out) {
  constexpr uint64_t kG = random::kGolden;
  const double* w = block.weights;
  const uint64_t* keys = block.keys;
  const size_t count = block.count;
  const U64x8 lanes = {1, 2, 3, 4, 5, 6, 7, 8};
  U64x8 x = (lanes + block.first_index) * kG + block.base;
  const uint64_t step = 8 * kG;
  size_t n = 0;
  size_t i = 0;
  for (; i + 64 <= count; i += 64) {
    U64x8 masks[8];
    U64x8 any = {};
    for (int g = 0; g < 8; ++g) {
      U64x8 h;
      if constexpr (kKeyed) {
        U64x8 k;
        std::memcpy(&k, keys + i + 8 * g, sizeof(k));
        h = (k + 1) * kG + block.base;
      } else {
        h = x;
        x += step;
      }
      h = (h ^ (h >> 30)) * kMix1;
      h = (h ^ (h >> 27)) * kMix2;
      h ^= h >> 31;
      const U64x8 v = ((~h) >> 12) | kTwo52Bits;
      F64x8 d;
      std::memcpy(&d, &v, sizeof(d));
      d -= 0x1p52;
      F64x8 wv;
      std::memcpy(&wv, w + i + 8 * g, sizeof(wv));
      // Sign-bit logic instead of compares (GCC 12 scalarizes vector compares on AVX-512).
      // d > P iff bits(P) - bits(d) < 0: non-negative doubles order like their bit patterns.
      // Integer subtraction, so no FMA can fuse it with the multiply on any build.
      // 0 <= w <= DBL_MAX iff w's bits are below those of +inf with a clear sign bit.
      const F64x8 p = wv * scale;
      U64x8 pb, db, wb;
      std::memcpy(&pb, &p, sizeof(pb));
      std::memcpy(&db, &d, sizeof(db));
      std::memcpy(&wb, &wv, sizeof(wb));
      const U64x8 keep = ~((pb - db) & (wb - kInfBits) & ~wb) >> 63;  // 1: candidate
      masks[g] = keep;
      any |= keep;
    }
    uint64_t found = 0;
    for (int l = 0; l < 8; ++l) found |= any[l];
    if (found == 0) continue;
    for (int g = 0; g < 8; ++g) {
      for (int l = 0; l < 8; ++l) {
        if (masks[g][l] != 0) out[n++] = static_cast<uint32_t>(i + 8 * g + l);
      }
    }
  }
  for (; i < count; ++i) out[n++] = static_cast<uint32_t>(i);  // the tail: always a candidate
  return n;
}

size_t FilterBaseline(const FilterBlock& block, double scale, uint32_t* out) {
  return block.keys ? Kernel<true>(block, scale, out) : Kernel<false>(block, scale, out);
}

__attribute__((target("avx2"))) size_t FilterAvx2(const FilterBlock& block, double scale,
                                                  uint32_t* out) {
  return block.keys ? Kernel<true>(block, scale, out) : Kernel<false>(block, scale, out);
}

__attribute__((target("avx512f,avx512dq,avx512vl,avx512bw"))) size_t FilterAvx512(
    const FilterBlock& block, double scale, uint32_t* out) {
  return block.keys ? Kernel<true>(block, scale, out) : Kernel<false>(block, scale, out);
}

}  // namespace

bool FilterIsaSupported(FilterIsa isa) {
  switch (isa) {
    case FilterIsa::kBaseline:
      return true;
    case FilterIsa::kAvx2:
      return __builtin_cpu_supports("avx2");
    case FilterIsa::kAvx512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw");
  }
  return false;
}

FilterIsa BestFilterIsa() {
  static const FilterIsa best = FilterIsaSupported(FilterIsa::kAvx512) ? FilterIsa::kAvx512
                                : FilterIsaSupported(FilterIsa::kAvx2) ? FilterIsa::kAvx2
                                                                       : FilterIsa::kBaseline;
  return best;
}

double FilterScale(double t) { return t * 0x1p52 * (1 + 0x1p-40); }

size_t FilterCandidates(FilterIsa isa, const FilterBlock& block, double scale, uint32_t* out) {
  switch (isa) {
    case FilterIsa::kAvx512:
      return FilterAvx512(block, scale, out);
    case FilterIsa::kAvx2:
      return FilterAvx2(block, scale, out);
    case FilterIsa::kBaseline:
      break;
  }
  return FilterBaseline(block, scale, out);
}

}  // namespace urn::samplers::internal
