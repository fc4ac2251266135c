#include "samplers/poisson_arrivals.h"

#include <algorithm>
#include <cmath>
#include <queue>
#include <vector>

#include "absl/status/status.h"
#include "random/counter_rng.h"
#include "samplers/exponential_key.h"

namespace urn::samplers {
namespace {

struct Arrival {
  uint64_t key;  // exponential key of the arrival time
  uint64_t row;
  uint64_t number;  // 1 for the row's first arrival
  double sum;       // E_i1 + ... + E_i,number
  // Ordered for a min-heap on (key, row, number).
  friend bool operator>(const Arrival& a, const Arrival& b) {
    if (a.key != b.key) return a.key > b.key;
    if (a.row != b.row) return a.row > b.row;
    return a.number > b.number;
  }
};

}  // namespace

absl::StatusOr<Sample> PoissonArrivalsSample(std::span<const double> weights, uint64_t m,
                                             const WeightedOptions& options) {
  return PoissonArrivalsSample(weights, {}, m, options);
}

absl::StatusOr<Sample> PoissonArrivalsSample(std::span<const double> weights,
                                             std::span<const uint64_t> row_keys, uint64_t m,
                                             const WeightedOptions& options) {
  absl::StatusOr<std::vector<KeyedRow>> first =
      SmallestExponentialKeys(weights, row_keys, m, options.seed, options.threads);
  if (!first.ok()) return first.status();
  if (m > 0 && first->empty()) {
    return absl::InvalidArgumentError("no row has a positive weight to draw with replacement");
  }
  auto key_of = [&](uint64_t row) { return row_keys.empty() ? row : row_keys[row]; };
  const random::KeyedStream first_stream(options.seed, random::Stream::kWeighted);
  std::vector<Arrival> heap_storage;
  heap_storage.reserve(first->size());
  for (const KeyedRow& r : *first) {
    const double e = -std::log(random::BitsToUnit(first_stream.Bits(key_of(r.row))));
    heap_storage.push_back({r.key, r.row, 1, e});
  }
  std::priority_queue<Arrival, std::vector<Arrival>, std::greater<Arrival>> heap(
      std::greater<Arrival>(), std::move(heap_storage));
  Sample sample;
  sample.rows.reserve(m);
  for (uint64_t d = 0; d < m; ++d) {
    Arrival a = heap.top();
    heap.pop();
    sample.rows.push_back(a.row);
    ++a.number;
    a.sum += random::KeyedStream(options.seed, random::Stream::kWeightedReplacement, a.number)
                 .Exponential(key_of(a.row));
    a.key = ExponentialKeyOf(a.sum, weights[a.row]);
    heap.push(a);
  }
  if (options.order == SampleOrder::kInput) std::sort(sample.rows.begin(), sample.rows.end());
  return sample;
}

}  // namespace urn::samplers
