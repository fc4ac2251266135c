#include "samplers/weighted_without_replacement.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "random/counter_rng.h"
#include "samplers/exponential_key.h"
#include "samplers/exponential_key_filter.h"
#include "samplers/row_chunks.h"
#include "samplers/weight_validation.h"

namespace urn::samplers {
namespace {

constexpr size_t kBlockRows = 1024;
constexpr uint64_t kMinRowsPerThread = uint64_t{1} << 16;
constexpr uint64_t kNoRow = std::numeric_limits<uint64_t>::max();

struct ChunkResult {
  std::vector<KeyedRow> smallest;  // ascending
  uint64_t first_invalid = kNoRow;
};

// Scans rows [begin, end) in ascending order and keeps the `count` smallest (key, row). Keys
// below the threshold go to a buffer of up to 2 * count entries, cut back to the `count`
// smallest by a selection when full (amortized O(1) per candidate, unlike a heap's
// O(log count) of scattered accesses). The threshold is then the count-th smallest key seen.
// Rows arrive in ascending order, so a key equal to the threshold loses its tie: comparing
// keys alone implements the (key, row) order.
void ScanChunk(std::span<const double> weights, std::span<const uint64_t> row_keys,
               const random::KeyedStream& stream, uint64_t begin, uint64_t end, uint64_t count,
               ChunkResult* result) {
  std::vector<KeyedRow>& kept = result->smallest;
  const size_t limit = static_cast<size_t>(2 * count);
  kept.reserve(std::min<uint64_t>(limit, end - begin));
  uint64_t threshold = kInfiniteExponentialKey;
  auto cut = [&] {
    std::nth_element(kept.begin(), kept.begin() + (count - 1), kept.end());
    kept.resize(count);
    threshold = kept.back().key;
  };
  uint32_t candidates[kBlockRows];
  const internal::FilterIsa isa = internal::BestFilterIsa();
  for (uint64_t b = begin; b < end; b += kBlockRows) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(kBlockRows, end - b));
    // With count == 0 nothing is kept, but every row is still validated.
    const double t = count == 0 ? 0.0 : ExponentialKeyUpperBound(threshold);
    internal::FilterBlock block;
    block.weights = weights.data() + b;
    block.keys = row_keys.empty() ? nullptr : row_keys.data() + b;
    block.base = stream.base();
    block.first_index = b;
    block.count = n;
    const size_t found =
        internal::FilterCandidates(isa, block, internal::FilterScale(t), candidates);
    for (size_t c = 0; c < found; ++c) {
      const uint64_t row = b + candidates[c];
      const double w = weights[row];
      if (!IsValidWeight(w)) {
        result->first_invalid = row;
        return;
      }
      if (w == 0 || count == 0) continue;
      const uint64_t key = ExponentialKey(stream.Bits(row_keys.empty() ? row : row_keys[row]), w);
      if (key >= threshold) continue;
      kept.push_back({key, row});
      if (kept.size() == limit) {
        cut();
      } else if (kept.size() == count && threshold == kInfiniteExponentialKey) {
        threshold = std::max_element(kept.begin(), kept.end())->key;  // the first count rows
      }
    }
  }
  if (kept.size() > count) cut();
  std::sort(kept.begin(), kept.end());
}

}  // namespace

absl::StatusOr<std::vector<KeyedRow>> SmallestExponentialKeys(std::span<const double> weights,
                                                              std::span<const uint64_t> row_keys,
                                                              uint64_t count, uint64_t seed,
                                                              int threads) {
  if (!row_keys.empty() && row_keys.size() != weights.size()) {
    return RowKeyCountError(row_keys.size(), weights.size());
  }
  const uint64_t n = weights.size();
  count = std::min(count, n);
  const random::KeyedStream stream(seed, random::Stream::kWeighted);
  std::vector<ChunkResult> results(RowChunkCount(n, threads, kMinRowsPerThread));
  ForEachRowChunk(n, threads, kMinRowsPerThread, kBlockRows,
                  [&](uint64_t c, uint64_t begin, uint64_t end) {
                    ScanChunk(weights, row_keys, stream, begin, end, count, &results[c]);
                  });
  uint64_t first_invalid = kNoRow;
  for (const ChunkResult& r : results) first_invalid = std::min(first_invalid, r.first_invalid);
  if (first_invalid != kNoRow) return InvalidWeightError(weights, first_invalid);
  if (results.size() == 1) return std::move(results[0].smallest);
  std::vector<KeyedRow> merged;
  for (const ChunkResult& r : results) {
    merged.insert(merged.end(), r.smallest.begin(), r.smallest.end());
  }
  const size_t keep = std::min<size_t>(count, merged.size());
  std::partial_sort(merged.begin(), merged.begin() + keep, merged.end());
  merged.resize(keep);
  return merged;
}

absl::StatusOr<Sample> WeightedSampleWithoutReplacement(std::span<const double> weights, uint64_t k,
                                                        const WeightedOptions& options) {
  return WeightedSampleWithoutReplacement(weights, {}, k, options);
}

absl::StatusOr<Sample> WeightedSampleWithoutReplacement(std::span<const double> weights,
                                                        std::span<const uint64_t> row_keys,
                                                        uint64_t k,
                                                        const WeightedOptions& options) {
  k = std::min<uint64_t>(k, weights.size());
  // One key more than the sample: the (k+1)-th is the Horvitz–Thompson threshold tau.
  absl::StatusOr<std::vector<KeyedRow>> smallest =
      SmallestExponentialKeys(weights, row_keys, k + 1, options.seed, options.threads);
  if (!smallest.ok()) return smallest.status();
  const uint64_t tau = smallest->size() > k ? (*smallest)[k].key : kInfiniteExponentialKey;
  if (smallest->size() > k) smallest->resize(k);
  if (options.order == SampleOrder::kInput) {
    std::sort(smallest->begin(), smallest->end(),
              [](const KeyedRow& a, const KeyedRow& b) { return a.row < b.row; });
  }
  Sample sample;
  sample.rows.reserve(smallest->size());
  for (const KeyedRow& r : *smallest) sample.rows.push_back(r.row);
  if (options.ht_weights) {
    sample.ht_weights.reserve(smallest->size());
    for (const KeyedRow& r : *smallest) {
      const double pi = -std::expm1(-WeightTimesKey(weights[r.row], tau));
      sample.ht_weights.push_back(1 / pi);
    }
  }
  return sample;
}

}  // namespace urn::samplers
