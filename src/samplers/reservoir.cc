#include "samplers/reservoir.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "base/log1mexp.h"
#include "samplers/shuffle.h"

namespace urn::samplers {

ReservoirSampler::ReservoirSampler(uint64_t k, uint64_t seed)
    : k_(k), stream_(seed, random::Stream::kReservoir, 0), seed_(seed) {
  slots_.reserve(static_cast<size_t>(std::min<uint64_t>(k, uint64_t{1} << 20)));
}

void ReservoirSampler::DrawNext() {
  // Li's Algorithm L, in logs: W *= U^(1/k); skip = floor(ln U' / ln(1 - W)). ln(1 - W) from
  // ln W by Log1mExp: with a large k, W stays within 2^-20 of 1 for many events, where
  // log1p(-exp(ln W)) kept only the bits of W below 2^-53.
  log_w_ += std::log(stream_.Uniform(3 * event_)) / static_cast<double>(k_);
  const double skip = std::floor(std::log(stream_.Uniform(3 * event_ + 1)) / Log1mExp(log_w_));
  // skip is +inf or NaN once W underflows: no later row enters.
  const double room = static_cast<double>(std::numeric_limits<uint64_t>::max() - seen_);
  next_ = skip < room ? seen_ + static_cast<uint64_t>(skip) : std::numeric_limits<uint64_t>::max();
}

int64_t ReservoirSampler::Offer() {
  const uint64_t row = seen_++;
  if (k_ == 0) return kDrop;
  if (row < k_) {
    slots_.push_back(row);
    if (row + 1 == k_) DrawNext();  // seen_ == k: the first candidate is row k + skip
    return static_cast<int64_t>(row);
  }
  if (row != next_) return kDrop;
  const uint64_t slot = stream_.Bounded(3 * event_ + 2, k_);
  slots_[slot] = row;
  ++event_;
  DrawNext();  // seen_ == row + 1: the next candidate is row + 1 + skip
  return static_cast<int64_t>(slot);
}

uint64_t ReservoirSampler::RowsToSkip() const {
  if (k_ == 0) return std::numeric_limits<uint64_t>::max() - seen_;
  if (seen_ < k_) return 0;
  return next_ - seen_;
}

Sample ReservoirSampler::Result(OutputOrder order, bool with_weights) const {
  Sample s;
  s.rows = slots_;
  std::sort(s.rows.begin(), s.rows.end());
  Arrange(s.rows, order);
  if (with_weights && !s.rows.empty()) s.ht_weights.assign(s.rows.size(), HtWeight());
  return s;
}

double ReservoirSampler::HtWeight() const {
  return slots_.empty() ? 0.0 : static_cast<double>(seen_) / static_cast<double>(slots_.size());
}

std::vector<uint64_t> ReservoirSampler::SlotOrder(OutputOrder order) const {
  // Rows are distinct, so sorting (row, slot) pairs by row orders the slots as Result sorts the
  // rows, and the shuffle's swaps depend only on positions: the same permutation follows.
  std::vector<std::pair<uint64_t, uint64_t>> by_row(slots_.size());
  for (size_t i = 0; i < slots_.size(); ++i) by_row[i] = {slots_[i], i};
  std::sort(by_row.begin(), by_row.end());
  std::vector<uint64_t> order_of(by_row.size());
  for (size_t i = 0; i < by_row.size(); ++i) order_of[i] = by_row[i].second;
  Arrange(order_of, order);
  return order_of;
}

void ReservoirSampler::Arrange(std::vector<uint64_t>& sorted, OutputOrder order) const {
  if (order != OutputOrder::kRandom) return;
  PartialShuffle(absl::MakeSpan(sorted), sorted.size(),
                 random::KeyedStream(seed_, random::Stream::kReservoir, 1));
}

Sample SampleReservoir(uint64_t n, uint64_t k, uint64_t seed, OutputOrder order,
                       bool with_weights) {
  ReservoirSampler r(k, seed);
  while (r.rows_seen() < n) {
    const uint64_t skip = std::min(r.RowsToSkip(), n - r.rows_seen());
    if (skip > 0) {
      r.Skip(skip);
    } else {
      r.Offer();
    }
  }
  return r.Result(order, with_weights);
}

}  // namespace urn::samplers
