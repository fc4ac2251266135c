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

constexpr size_t kBlockRows = WeightSource::kBlockRows;
constexpr uint64_t kMinRowsPerThread = uint64_t{1} << 16;
constexpr uint64_t kNoRow = std::numeric_limits<uint64_t>::max();

struct ChunkResult {
  std::vector<WeightedKeyedRow> smallest;  // ascending
  uint64_t first_invalid = kNoRow;
  double invalid_weight = 0;
  absl::Status status;  // a WeightSource reader's failure
};

// Scans rows [begin, end) in ascending order and keeps the `count` smallest (key, row). Keys
// below the threshold go to a buffer of up to 2 * count entries, cut back to the `count`
// smallest by a selection when full (amortized O(1) per candidate, unlike a heap's
// O(log count) of scattered accesses). The threshold is then the count-th smallest key seen.
// Rows arrive in ascending order, so a key equal to the threshold loses its tie: comparing
// keys alone implements the (key, row) order.
// block_weights(b, n) returns the weights of rows [b, b + n), or null to stop (having set
// result->status).
template <typename BlockWeights>
void ScanChunk(BlockWeights block_weights, std::span<const uint64_t> row_keys,
               const random::KeyedStream& stream, uint64_t begin, uint64_t end, uint64_t count,
               ChunkResult* result) {
  std::vector<WeightedKeyedRow>& kept = result->smallest;
  const size_t limit = static_cast<size_t>(2 * count);
  kept.reserve(std::min<uint64_t>(limit, end - begin));
  uint64_t threshold = kInfiniteExponentialKey;
  auto cut = [&] {
    std::nth_element(kept.begin(), kept.begin() + (count - 1), kept.end());
    kept.resize(count);
    threshold = kept.back().keyed.key;
  };
  uint32_t candidates[kBlockRows];
  const internal::FilterIsa isa = internal::BestFilterIsa();
  for (uint64_t b = begin; b < end; b += kBlockRows) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(kBlockRows, end - b));
    const double* weights = block_weights(b, n);
    if (weights == nullptr) return;
    // With count == 0 nothing is kept, but every row is still validated.
    const double t = count == 0 ? 0.0 : ExponentialKeyUpperBound(threshold);
    internal::FilterBlock block;
    block.weights = weights;
    block.keys = row_keys.empty() ? nullptr : row_keys.data() + b;
    block.base = stream.base();
    block.first_index = b;
    block.count = n;
    const size_t found =
        internal::FilterCandidates(isa, block, internal::FilterScale(t), candidates);
    for (size_t c = 0; c < found; ++c) {
      const uint64_t row = b + candidates[c];
      const double w = weights[candidates[c]];
      if (!IsValidWeight(w)) {
        result->first_invalid = row;
        result->invalid_weight = w;
        return;
      }
      if (w == 0 || count == 0) continue;
      const uint64_t key = ExponentialKey(stream.Bits(row_keys.empty() ? row : row_keys[row]), w);
      if (key >= threshold) continue;
      kept.push_back({{key, row}, w});
      if (kept.size() == limit) {
        cut();
      } else if (kept.size() == count && threshold == kInfiniteExponentialKey) {
        threshold = std::max_element(kept.begin(), kept.end())->keyed.key;  // the first count rows
      }
    }
  }
  if (kept.size() > count) cut();
  std::sort(kept.begin(), kept.end());
}

// Runs scan(chunk, begin, end, result) over the chunks of [0, n) and merges their smallest
// keys; errors of the lowest rows win.
template <typename Scan>
absl::StatusOr<std::vector<WeightedKeyedRow>> ScanAndMerge(uint64_t n, uint64_t count, int threads,
                                                           Scan scan) {
  std::vector<ChunkResult> results(RowChunkCount(n, threads, kMinRowsPerThread));
  ForEachRowChunk(n, threads, kMinRowsPerThread, kBlockRows,
                  [&](uint64_t c, uint64_t begin, uint64_t end) { scan(begin, end, &results[c]); });
  for (const ChunkResult& r : results) {
    if (!r.status.ok()) return r.status;
    if (r.first_invalid != kNoRow) {
      return InvalidWeightError(r.first_invalid, r.invalid_weight);
    }
  }
  if (results.size() == 1) return std::move(results[0].smallest);
  std::vector<WeightedKeyedRow> merged;
  for (const ChunkResult& r : results) {
    merged.insert(merged.end(), r.smallest.begin(), r.smallest.end());
  }
  const size_t keep = std::min<size_t>(count, merged.size());
  std::partial_sort(merged.begin(), merged.begin() + keep, merged.end());
  merged.resize(keep);
  return merged;
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
  absl::StatusOr<std::vector<WeightedKeyedRow>> smallest =
      ScanAndMerge(n, count, threads, [&](uint64_t begin, uint64_t end, ChunkResult* result) {
        ScanChunk([&](uint64_t b, size_t) { return weights.data() + b; }, row_keys, stream, begin,
                  end, count, result);
      });
  if (!smallest.ok()) return smallest.status();
  std::vector<KeyedRow> rows;
  rows.reserve(smallest->size());
  for (const WeightedKeyedRow& r : *smallest) rows.push_back(r.keyed);
  return rows;
}

absl::StatusOr<std::vector<WeightedKeyedRow>> SmallestExponentialKeys(uint64_t n,
                                                                      const WeightSource& source,
                                                                      uint64_t count, uint64_t seed,
                                                                      int threads) {
  count = std::min(count, n);
  const random::KeyedStream stream(seed, random::Stream::kWeighted);
  return ScanAndMerge(n, count, threads, [&](uint64_t begin, uint64_t end, ChunkResult* result) {
    std::unique_ptr<WeightSource::Reader> reader = source.NewReader();
    alignas(64) double block[kBlockRows];
    auto read = [&](uint64_t b, size_t rows) -> const double* {
      result->status = reader->Read(b, rows, block);
      return result->status.ok() ? block : nullptr;
    };
    ScanChunk(read, {}, stream, begin, end, count, result);
  });
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
  if (options.zero_weight_rows_follow) {
    // Fewer than k positive rows: weight-0 rows after them (tau is infinite, their weight 1).
    for (uint64_t r = 0; r < weights.size() && smallest->size() < k; ++r) {
      if (weights[r] == 0) smallest->push_back(KeyedRow{kInfiniteExponentialKey, r});
    }
  }
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
      const double pi =
          weights[r.row] == 0 ? 1.0 : -std::expm1(-WeightTimesKey(weights[r.row], tau));
      sample.ht_weights.push_back(1 / pi);
    }
  }
  return sample;
}

}  // namespace urn::samplers
