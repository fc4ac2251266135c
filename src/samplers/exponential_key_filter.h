// The fast reject test in front of exponential-key sampling: which rows of a block MAY have an
// exponential key below a threshold T, without a logarithm. Internal to the weighted samplers.
//
// A row with u = U(key) has E = -ln(u) >= 1 - u (ln x <= x - 1), and 1 - u is exactly
// v * 2^-53 with v = (~bits) >> 11, an integer, because u = ((bits >> 11) + 1) * 2^-53. So if
// (1 - u) > T * w the row's key E / w is above T and the row cannot enter a top-k whose k-th key
// is T. The test is done with a safety margin (see exponential_key_filter.cc for the proof that
// it never rejects a row the exact comparison would accept) on 8 rows at a time with GCC vector
// extensions: the counter hash (two 64-bit multiplies), an exact integer-to-double conversion,
// one multiply and integer sign-bit logic per row, no branch. Invalid weights (negative, NaN, inf)
// are never rejected, so the exact pass sees and reports them.
//
// Three builds of the same code are dispatched at run time: AVX-512 (F+DQ+VL+BW), AVX2 and the
// baseline x86-64 one. They use only integer operations, an exact conversion and one IEEE
// multiply (never fused into an FMA: the comparison is an integer subtraction), so every build
// returns the same candidates bit for bit.
//
// Cost per row (BM_ExponentialKeyFilter, AMD Zen 4, cache-resident): ~0.5 ns AVX-512, ~1 ns
// AVX2, ~2 ns baseline.
// Thread safety: pure functions.
#ifndef URN_SAMPLERS_EXPONENTIAL_KEY_FILTER_H_
#define URN_SAMPLERS_EXPONENTIAL_KEY_FILTER_H_

#include <cstddef>
#include <cstdint>

namespace urn::samplers::internal {

enum class FilterIsa { kBaseline, kAvx2, kAvx512 };

// True if this CPU can run `isa`.
bool FilterIsaSupported(FilterIsa isa);

// The widest supported build; chosen once per process.
FilterIsa BestFilterIsa();

// The threshold argument of FilterCandidates for a threshold key bound `t` (a double >= the
// k-th smallest key, e.g. from ExponentialKeyUpperBound; +inf keeps every row).
double FilterScale(double t);

// One block of rows. Row r (0 <= r < count) has weight weights[r]; its uniform draw is
// KeyedStream::Bits(first_index + r) of the stream with base `base`, or Bits(keys[r]) when
// `keys` is not null.
struct FilterBlock {
  const double* weights = nullptr;
  const uint64_t* keys = nullptr;
  uint64_t base = 0;
  uint64_t first_index = 0;
  size_t count = 0;
};

// Writes to `out` (room for block.count entries) the offsets r, ascending, of every row whose
// key may be below the threshold `scale` = FilterScale(t), and of every row with an invalid
// weight; returns how many. Rows not written have key > t for sure.
size_t FilterCandidates(FilterIsa isa, const FilterBlock& block, double scale, uint32_t* out);

}  // namespace urn::samplers::internal

#endif  // URN_SAMPLERS_EXPONENTIAL_KEY_FILTER_H_
