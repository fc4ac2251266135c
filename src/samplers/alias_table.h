// AliasTable: weighted draws WITH replacement from static weights, P(row i) = w_i / W, in O(1)
// per draw.
//
// Algorithm: Walker's alias method ("An efficient method for generating discrete random
// variables with general distributions", ACM TOMS 3(3), 1977) built by Vose's O(n) pairing of
// under- and over-full columns ("A linear algorithm for generating random numbers with a given
// distribution", IEEE TSE 17(9), 1991), in exact integer arithmetic. Each of the n columns
// holds 2^64 units of probability mass; row i is given m_i units with sum m_i = n * 2^64, and
// column j keeps t_j units for row j and gives the rest to its alias a_j. A draw picks a column
// j uniformly (Lemire's bounded integer), then 64 random bits c, and returns j if c < t_j,
// else a_j. Because the pairing is done on integers, row i is drawn with probability exactly
// m_i / (n * 2^64).
//
// Exactness. m_i = floor(w_i * n * 2^64 / W) computed in 64-bit-mantissa long double from a
// compensated sum W, and the rounding remainder (at most ~5n units) is given to the row of
// largest weight. Hence every row's probability is within 2^-60 (absolute) of w_i / W, and
// within a relative 2^-61 plus 2^-64/n for every row but the largest. A zero weight gets no
// mass and is never drawn; a positive weight below ~2^-64/n of W may round to no mass.
//
// Randomness: draw d of a request with seed s uses U(s, kWeightedReplacement, d, 0) for the
// column and (s, kWeightedReplacement, d, 1) for the coin, so a draw is a pure function of
// (weights, seed, d): draws can be taken in any batches, on any thread, in any order.
//
// Build: O(n) time, 16 bytes per row kept (on huge pages when large), 32 more per row while
// building. Draw: O(1), one table access (a cache miss for large tables). Input: weights finite
// and >= 0 with at least one positive. Thread safety: immutable after Build; share freely.
#ifndef URN_SAMPLERS_ALIAS_TABLE_H_
#define URN_SAMPLERS_ALIAS_TABLE_H_

#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "samplers/sample.h"
// PageArray is a plain memory utility that lives with the sum tree, its first user.
#include "weights/page_array.h"

namespace urn::samplers {

class AliasTable {
 public:
  // InvalidArgument if weights is empty, has no positive weight, or a negative, NaN or
  // infinite weight (naming its row).
  static absl::StatusOr<AliasTable> Build(std::span<const double> weights);

  // Number of rows.
  uint64_t size() const { return columns_.size(); }
  // Memory of the table: 16 bytes a row.
  int64_t MemoryBytes() const { return static_cast<int64_t>(columns_.size() * sizeof(Column)); }
  static constexpr int64_t kBytesPerRow = 16;

  // The row of draw number `draw` for `seed`.
  uint64_t Draw(uint64_t seed, uint64_t draw) const;

  // Draws first_draw, first_draw + 1, ... into `out`; equal to calling Draw for each.
  void Draw(uint64_t seed, uint64_t first_draw, std::span<uint64_t> out) const;

  // `count` draws (draw numbers 0..count-1) in draw order. No HT weights.
  Sample SampleRows(uint64_t seed, uint64_t count) const;

  // The probability each row is actually drawn with: m_i / (n * 2^64), rounded to double.
  // O(n); for tests and diagnostics.
  std::vector<double> Probabilities() const;

 private:
  struct Column {
    uint64_t threshold;  // coin < threshold: this column's row; else `alias`
    uint64_t alias;
  };
  // Tables of 2 MiB and more are backed by transparent huge pages: draws touch the table at
  // random, and with 4 KiB pages nearly every draw of a large table also missed the TLB
  // (BM_AliasSample/10000000: 55.7 M draws/s before, 60.6 M/s after).
  explicit AliasTable(uint64_t n) : columns_(n, n * sizeof(Column) >= (size_t{2} << 20)) {}

  weights::PageArray<Column> columns_;
  static_assert(sizeof(Column) == kBytesPerRow);
};

}  // namespace urn::samplers

#endif  // URN_SAMPLERS_ALIAS_TABLE_H_
