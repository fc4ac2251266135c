#include "samplers/stratified.h"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "random/counter_rng.h"

namespace urn::samplers {
namespace {

struct Stratum {
  uint64_t n = 0;
  uint64_t k = 0;
  // Max-heap on key of (key, row): the k smallest keys seen so far.
  std::vector<std::pair<uint64_t, uint64_t>> heap;
};

// fraction * n, taken as the nearest multiple of 1/2 when it is within 2^-40 (relative, and
// never more than 2^-20) of one: a decimal fraction is not exact in binary, and 0.07 * 100 is
// 7.000000000000001 in doubles, whose ceiling (8) is not what "7% of 100" means; halves likewise
// round as halves (0.285 * 100 is 28.499999999999996, meant 28.5, rounded up to 29).
double FractionOf(double fraction, uint64_t n) {
  const double x = fraction * static_cast<double>(n);
  const double half = std::round(2 * x) / 2;
  return half > 0 && std::abs(x - half) <= std::min(half * 0x1p-40, 0x1p-20) ? half : x;
}

uint64_t AllocatedRows(const StratumAllocation& a, uint64_t stratum, uint64_t n) {
  double k = 0;
  switch (a.kind) {
    case StratumAllocation::Kind::kCount: {
      auto it = a.counts.find(stratum);
      return std::min(n, it == a.counts.end() ? a.default_count : it->second);
    }
    case StratumAllocation::Kind::kFraction:
      k = std::round(FractionOf(a.fraction, n));  // halves away from 0: up
      break;
    case StratumAllocation::Kind::kFractionCeil:
      k = std::ceil(FractionOf(a.fraction, n));
      break;
  }
  return std::min(n, static_cast<uint64_t>(k));
}

}  // namespace

absl::StatusOr<Sample> SampleStratified(absl::Span<const uint64_t> strata,
                                        const StratumAllocation& allocation, uint64_t seed,
                                        bool with_weights) {
  if (allocation.kind != StratumAllocation::Kind::kCount &&
      !(allocation.fraction >= 0.0 && allocation.fraction <= 1.0)) {
    return absl::InvalidArgumentError("stratified fraction must be in [0, 1]");
  }
  absl::flat_hash_map<uint64_t, Stratum> by_id;
  for (uint64_t s : strata) ++by_id[s].n;
  for (auto& [id, st] : by_id) {
    st.k = AllocatedRows(allocation, id, st.n);
    st.heap.reserve(st.k);
  }
  const random::KeyedStream stream(seed, random::Stream::kStratified);
  for (size_t i = 0; i < strata.size(); ++i) {
    Stratum& st = by_id.find(strata[i])->second;
    if (st.k == 0) continue;
    const uint64_t key = stream.Bits(i);
    if (st.heap.size() < st.k) {
      st.heap.emplace_back(key, i);
      std::push_heap(st.heap.begin(), st.heap.end());
    } else if (key < st.heap.front().first) {
      std::pop_heap(st.heap.begin(), st.heap.end());
      st.heap.back() = {key, i};
      std::push_heap(st.heap.begin(), st.heap.end());
    }
  }
  std::vector<std::pair<uint64_t, double>> kept;  // (row, weight)
  for (const auto& [id, st] : by_id) {
    const double w = static_cast<double>(st.n) / static_cast<double>(st.k);
    for (const auto& entry : st.heap) kept.emplace_back(entry.second, w);
  }
  std::sort(kept.begin(), kept.end());
  Sample out;
  out.rows.reserve(kept.size());
  for (const auto& [row, w] : kept) out.rows.push_back(row);
  if (with_weights) {
    out.ht_weights.reserve(kept.size());
    for (const auto& [row, w] : kept) out.ht_weights.push_back(w);
  }
  return out;
}

}  // namespace urn::samplers
