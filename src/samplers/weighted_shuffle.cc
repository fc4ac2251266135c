#include "samplers/weighted_shuffle.h"

#include <algorithm>
#include <array>
#include <limits>
#include <utility>
#include <vector>

#include "random/counter_rng.h"
#include "samplers/exponential_key.h"
#include "samplers/row_chunks.h"
#include "samplers/weight_validation.h"

namespace urn::samplers {
namespace {

constexpr uint64_t kMinRowsPerThread = uint64_t{1} << 16;
constexpr uint64_t kNoRow = std::numeric_limits<uint64_t>::max();
constexpr int kDigitBits = 11;
constexpr int kDigits = (64 + kDigitBits - 1) / kDigitBits;
constexpr size_t kBuckets = size_t{1} << kDigitBits;

struct Chunk {
  std::vector<KeyedRow> keyed;  // positive weights, sorted by (key, row)
  std::vector<uint64_t> zero;   // zero weights, ascending row
  uint64_t first_invalid = kNoRow;
};

// Sorts by (key, row): a stable LSD radix sort by key of rows given in ascending row order.
void RadixSortByKey(std::vector<KeyedRow>& rows) {
  if (rows.size() < 4096) {  // the histograms would cost more than the sort
    std::sort(rows.begin(), rows.end());
    return;
  }
  std::vector<std::array<uint64_t, kBuckets>> counts(kDigits);
  for (auto& c : counts) c.fill(0);
  for (const KeyedRow& r : rows) {
    for (int d = 0; d < kDigits; ++d) ++counts[d][(r.key >> (d * kDigitBits)) & (kBuckets - 1)];
  }
  std::vector<KeyedRow> buffer(rows.size());
  for (int d = 0; d < kDigits; ++d) {
    std::array<uint64_t, kBuckets>& c = counts[d];
    if (std::find(c.begin(), c.end(), rows.size()) != c.end()) continue;  // one digit value
    uint64_t offset = 0;
    for (uint64_t& x : c) offset += std::exchange(x, offset);
    const int shift = d * kDigitBits;
    for (const KeyedRow& r : rows) buffer[c[(r.key >> shift) & (kBuckets - 1)]++] = r;
    rows.swap(buffer);
  }
}

void KeyChunk(std::span<const double> weights, std::span<const uint64_t> row_keys,
              const random::KeyedStream& stream, uint64_t begin, uint64_t end, Chunk* chunk) {
  chunk->keyed.reserve(end - begin);
  for (uint64_t row = begin; row < end; ++row) {
    const double w = weights[row];
    if (!IsValidWeight(w)) {
      chunk->first_invalid = row;
      return;
    }
    if (w == 0) {
      chunk->zero.push_back(row);
    } else {
      const uint64_t bits = stream.Bits(row_keys.empty() ? row : row_keys[row]);
      chunk->keyed.push_back({ExponentialKey(bits, w), row});
    }
  }
  RadixSortByKey(chunk->keyed);
}

}  // namespace

absl::StatusOr<Sample> WeightedShuffle(std::span<const double> weights,
                                       const WeightedOptions& options) {
  return WeightedShuffle(weights, {}, options);
}

absl::StatusOr<Sample> WeightedShuffle(std::span<const double> weights,
                                       std::span<const uint64_t> row_keys,
                                       const WeightedOptions& options) {
  if (!row_keys.empty() && row_keys.size() != weights.size()) {
    return RowKeyCountError(row_keys.size(), weights.size());
  }
  const uint64_t n = weights.size();
  const random::KeyedStream stream(options.seed, random::Stream::kWeighted);
  std::vector<Chunk> parts(RowChunkCount(n, options.threads, kMinRowsPerThread));
  ForEachRowChunk(n, options.threads, kMinRowsPerThread, 1,
                  [&](uint64_t c, uint64_t begin, uint64_t end) {
                    KeyChunk(weights, row_keys, stream, begin, end, &parts[c]);
                  });
  for (const Chunk& part : parts) {
    if (part.first_invalid != kNoRow) return InvalidWeightError(weights, part.first_invalid);
  }
  // Each chunk sorted its keys; merge the runs pairwise (ties cannot cross runs: rows differ).
  std::vector<std::vector<KeyedRow>> runs;
  runs.reserve(parts.size());
  for (Chunk& part : parts) runs.push_back(std::move(part.keyed));
  while (runs.size() > 1) {
    std::vector<std::vector<KeyedRow>> merged;
    for (size_t r = 0; r + 1 < runs.size(); r += 2) {
      std::vector<KeyedRow> out(runs[r].size() + runs[r + 1].size());
      std::merge(runs[r].begin(), runs[r].end(), runs[r + 1].begin(), runs[r + 1].end(),
                 out.begin());
      merged.push_back(std::move(out));
    }
    if (runs.size() % 2 == 1) merged.push_back(std::move(runs.back()));
    runs = std::move(merged);
  }
  const std::vector<KeyedRow>& keyed = runs[0];
  Sample sample;
  sample.rows.reserve(n);
  for (const KeyedRow& r : keyed) sample.rows.push_back(r.row);
  for (const Chunk& part : parts) {
    sample.rows.insert(sample.rows.end(), part.zero.begin(), part.zero.end());
  }
  return sample;
}

}  // namespace urn::samplers
