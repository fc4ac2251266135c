#include "samplers/bernoulli.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "samplers/parallel_for.h"
#include "samplers/probability.h"

namespace urn::samplers {
namespace {

// Rows per parallel work item (a multiple of every block size up to 2^20 rows).
constexpr uint64_t kChunkRows = uint64_t{1} << 20;

// The skip-mode walk of one block: calls emit(row) for each kept row of [begin, end).
struct BlockWalk {
  const random::KeyedStream* gaps;
  double log_q;
  int block_log2;

  template <typename Emit>
  void Run(uint64_t block, uint64_t begin, uint64_t end, const Emit& emit) const {
    const uint64_t key0 = block << (block_log2 + 1);
    uint64_t row = begin;
    for (uint64_t j = 0;; ++j) {
      const double gap = std::floor(std::log(gaps->Uniform(key0 + j)) / log_q);
      if (!(gap < static_cast<double>(end - row))) return;  // also stops on NaN
      row += static_cast<uint64_t>(gap);
      emit(row);
      ++row;
    }
  }
};

}  // namespace

absl::StatusOr<Sample> SampleBernoulli(uint64_t n, double p, const BernoulliOptions& options) {
  if (absl::Status s = CheckProbability(p, "Bernoulli probability p"); !s.ok()) return s;
  if (options.block_log2 < 1 || options.block_log2 > 30) {
    return absl::InvalidArgumentError("Bernoulli block_log2 must be in [1, 30]");
  }
  Sample out;
  if (p == 1.0) {
    out.rows.resize(n);
    for (uint64_t i = 0; i < n; ++i) out.rows[i] = i;
  } else {
    const uint64_t chunk_rows = std::max(kChunkRows, uint64_t{1} << options.block_log2);
    const uint64_t chunks = (n + chunk_rows - 1) / chunk_rows;
    std::vector<std::vector<uint64_t>> parts(chunks);
    const random::KeyedStream rows(options.seed, random::Stream::kBernoulli, 0);
    const random::KeyedStream gaps(options.seed, random::Stream::kBernoulli, 1);
    const BlockWalk walk{&gaps, std::log1p(-p), options.block_log2};
    ParallelFor(chunks, options.threads, [&](uint64_t c) {
      const uint64_t begin = c * chunk_rows, end = std::min(n, begin + chunk_rows);
      std::vector<uint64_t>& part = parts[c];
      part.reserve(static_cast<size_t>((end - begin) * p * 1.1) + 16);
      if (options.compatibility_mode) {
        for (uint64_t i = begin; i < end; ++i) {
          if (Selects(rows.Uniform(i), p)) part.push_back(i);
        }
        return;
      }
      const uint64_t block_rows = uint64_t{1} << options.block_log2;
      for (uint64_t b0 = begin; b0 < end; b0 += block_rows) {
        walk.Run(b0 >> options.block_log2, b0, std::min(end, b0 + block_rows),
                 [&](uint64_t row) { part.push_back(row); });
      }
    });
    size_t total = 0;
    for (const auto& part : parts) total += part.size();
    out.rows.reserve(total);
    for (const auto& part : parts) out.rows.insert(out.rows.end(), part.begin(), part.end());
  }
  if (options.with_weights) out.ht_weights.assign(out.rows.size(), 1.0 / p);
  return out;
}

absl::StatusOr<BernoulliFilter> BernoulliFilter::Create(double p, const BernoulliOptions& options) {
  if (absl::Status s = CheckProbability(p, "Bernoulli probability p"); !s.ok()) return s;
  if (options.block_log2 < 1 || options.block_log2 > 30) {
    return absl::InvalidArgumentError("Bernoulli block_log2 must be in [1, 30]");
  }
  return BernoulliFilter(p, options);
}

BernoulliFilter::BernoulliFilter(double p, const BernoulliOptions& options)
    : p_(p),
      compatibility_(options.compatibility_mode),
      block_log2_(options.block_log2),
      log_q_(std::log1p(-p)),
      gaps_(options.seed, random::Stream::kBernoulli, 1),
      rows_(options.seed, random::Stream::kBernoulli, 0) {}

void BernoulliFilter::StartBlock(uint64_t block) {
  block_ = block;
  draw_ = 0;
  next_kept_ = block << block_log2_;
  Advance();
}

void BernoulliFilter::Advance() {
  // next_kept_ is the first row not yet passed over; move it to the next kept row.
  const uint64_t end = (block_ + 1) << block_log2_;
  const double gap =
      std::floor(std::log(gaps_.Uniform((block_ << (block_log2_ + 1)) + draw_)) / log_q_);
  ++draw_;
  next_kept_ =
      gap < static_cast<double>(end - next_kept_) ? next_kept_ + static_cast<uint64_t>(gap) : end;
}

uint64_t BernoulliFilter::NextKeptAtOrAfter(uint64_t row, uint64_t limit) {
  if (p_ == 1.0) return std::min(row, limit);
  if (compatibility_) {
    while (row < limit && !Selects(rows_.Uniform(row), p_)) ++row;
    return std::min(row, limit);
  }
  while (row < limit) {
    if ((row >> block_log2_) != block_) StartBlock(row >> block_log2_);
    while (next_kept_ < row) {
      next_kept_ += 1;  // pass the kept row we are beyond
      Advance();
    }
    if (next_kept_ < ((block_ + 1) << block_log2_)) return std::min(next_kept_, limit);
    row = (block_ + 1) << block_log2_;  // nothing left in this block
  }
  return limit;
}

bool BernoulliFilter::Keep(uint64_t row) {
  if (p_ == 1.0) return true;
  if (compatibility_) return Selects(rows_.Uniform(row), p_);
  if ((row >> block_log2_) != block_) StartBlock(row >> block_log2_);
  while (next_kept_ < row) {
    next_kept_ += 1;
    Advance();
  }
  return next_kept_ == row;
}

}  // namespace urn::samplers
