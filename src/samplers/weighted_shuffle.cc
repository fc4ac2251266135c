#include "samplers/weighted_shuffle.h"

#include <algorithm>
#include <array>
#include <cfloat>
#include <limits>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "random/counter_rng.h"
#include "samplers/exponential_key.h"

namespace urn::samplers {
namespace {

constexpr uint64_t kMinRowsPerThread = uint64_t{1} << 16;
constexpr uint64_t kNoRow = std::numeric_limits<uint64_t>::max();
constexpr int kDigitBits = 11;
constexpr int kDigits = (64 + kDigitBits - 1) / kDigitBits;
constexpr size_t kBuckets = size_t{1} << kDigitBits;

struct Chunk {
  std::vector<KeyedRow> keyed;  // positive weights, ascending row
  std::vector<uint64_t> zero;   // zero weights, ascending row
  uint64_t first_invalid = kNoRow;
};

void KeyChunk(std::span<const double> weights, std::span<const uint64_t> row_keys,
              const random::KeyedStream& stream, uint64_t begin, uint64_t end, Chunk* chunk) {
  chunk->keyed.reserve(end - begin);
  for (uint64_t row = begin; row < end; ++row) {
    const double w = weights[row];
    if (!(w >= 0 && w <= DBL_MAX)) {
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
}

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

}  // namespace

absl::StatusOr<Sample> WeightedShuffle(std::span<const double> weights,
                                       const WeightedOptions& options) {
  return WeightedShuffle(weights, {}, options);
}

absl::StatusOr<Sample> WeightedShuffle(std::span<const double> weights,
                                       std::span<const uint64_t> row_keys,
                                       const WeightedOptions& options) {
  if (!row_keys.empty() && row_keys.size() != weights.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("got ", row_keys.size(), " row keys for ", weights.size(), " weights"));
  }
  const uint64_t n = weights.size();
  const random::KeyedStream stream(options.seed, random::Stream::kWeighted);
  const uint64_t chunks = std::clamp<uint64_t>(n / kMinRowsPerThread, 1,
                                               static_cast<uint64_t>(std::max(options.threads, 1)));
  std::vector<Chunk> parts(chunks);
  auto bound = [&](uint64_t c) { return c == chunks ? n : n / chunks * c; };
  {
    std::vector<std::jthread> workers;
    for (uint64_t c = 1; c < chunks; ++c) {
      workers.emplace_back(
          [&, c] { KeyChunk(weights, row_keys, stream, bound(c), bound(c + 1), &parts[c]); });
    }
    KeyChunk(weights, row_keys, stream, bound(0), bound(1), &parts[0]);
  }
  for (const Chunk& part : parts) {
    if (part.first_invalid != kNoRow) {
      return absl::InvalidArgumentError(absl::StrCat("weight of row ", part.first_invalid, " is ",
                                                     weights[part.first_invalid],
                                                     "; weights must be finite and >= 0"));
    }
  }
  std::vector<KeyedRow> keyed = std::move(parts[0].keyed);
  for (uint64_t c = 1; c < chunks; ++c) {
    keyed.insert(keyed.end(), parts[c].keyed.begin(), parts[c].keyed.end());
  }
  RadixSortByKey(keyed);
  Sample sample;
  sample.rows.reserve(n);
  for (const KeyedRow& r : keyed) sample.rows.push_back(r.row);
  for (const Chunk& part : parts) {
    sample.rows.insert(sample.rows.end(), part.zero.begin(), part.zero.end());
  }
  return sample;
}

}  // namespace urn::samplers
