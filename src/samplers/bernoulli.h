// Bernoulli sampling: each row of [0, n) is kept independently with probability p
// (U-SQL's UNIFORM(p), tsv-sample's --prob). Output in input order; the sample size is
// Binomial(n, p).
//
// Two modes, both deterministic from the seed on any thread count:
//
// Skip mode (default). Rows are cut into fixed blocks of 2^block_log2 rows (65,536). Inside a
// block, the gaps between kept rows are drawn directly: gap = floor(ln(u) / ln(1 - p)), a
// Geometric(p) number of rejected rows before the next kept one (Devroye, "Non-Uniform Random
// Variate Generation", 1986, X.2; the method of Vitter's skip-based samplers), so the cost is
// one random draw per KEPT row, not per row. Draw j of block b is
// U(seed, kBernoulli, key = b * 2^(block_log2 + 1) + j, draw 1): each block's gaps are a pure
// function of (seed, block, j), which is what lets blocks run on separate threads and a
// streaming reader start at any block, with the same result. Time O(n p + n / 2^block_log2).
//
// Compatibility mode. Row i is kept iff U(seed, kBernoulli, i, draw 0) <= p: one draw per
// row (time O(n)), but monotone in p: with one seed, the sample at p is a subset of the sample
// at any p' > p (tsv-sample's --compatibility-mode; see ARCHITECTURE.md "Randomness").
// The two modes give different samples with the same seed.
//
// Weights. Inclusion probability p, so every HT weight is 1/p.
// Requirements. p in (0, 1], else InvalidArgument (NaN too). p = 1 keeps every row. n = 0
// gives an empty sample.
#ifndef URN_SAMPLERS_BERNOULLI_H_
#define URN_SAMPLERS_BERNOULLI_H_

#include <cstdint>
#include <limits>

#include "absl/status/statusor.h"
#include "random/counter_rng.h"
#include "samplers/sample.h"

namespace urn::samplers {

struct BernoulliOptions {
  uint64_t seed = 0;
  bool compatibility_mode = false;  // per-row draws: slower, but nested across p
  bool with_weights = false;        // fill Sample::ht_weights with 1/p
  int threads = 1;                  // the sample is the same for every value
  // log2 of the skip-mode block size. Part of the reproducibility contract: a different value
  // gives a different sample. Exposed so that tests can exercise block boundaries; 1..30.
  int block_log2 = 16;
};

// The rows of [0, n) kept at probability p, ascending.
absl::StatusOr<Sample> SampleBernoulli(uint64_t n, double p, const BernoulliOptions& options);

// The same decisions for rows read one at a time from an input of unknown length (the command
// line's stdin). Feed rows in increasing order (gaps allowed); Keep(i) is true exactly
// when row i belongs to SampleBernoulli(n, p, options) for any n > i. Skip mode costs one draw
// per kept row plus one per block; compatibility mode one draw per call.
// Thread safety: not thread-safe (it carries the position of the next kept row).
class BernoulliFilter {
 public:
  static absl::StatusOr<BernoulliFilter> Create(double p, const BernoulliOptions& options);

  // REQUIRES: row >= the row of the previous call (to Keep or NextKeptAtOrAfter).
  bool Keep(uint64_t row);
  // The first kept row in [row, limit), or `limit` when there is none (skip mode: a caller can
  // skip reading up to it). Same ordering requirement as Keep; the returned row may then be passed
  // to Keep. A caller that does not know where its input ends passes a limit not far ahead:
  // with p tiny the next kept row may be ~1/p rows away, and finding it costs one step per
  // 2^16-row block on the way.
  uint64_t NextKeptAtOrAfter(uint64_t row, uint64_t limit = std::numeric_limits<uint64_t>::max());
  // 1/p.
  double weight() const { return 1.0 / p_; }

 private:
  BernoulliFilter(double p, const BernoulliOptions& options);
  void StartBlock(uint64_t block);
  void Advance();  // moves next_kept_ to the next kept row of the current block, or past it

  double p_;
  bool compatibility_;
  int block_log2_;
  double log_q_;  // ln(1 - p); -inf when p = 1
  random::KeyedStream gaps_;
  random::KeyedStream rows_;
  uint64_t block_ = ~uint64_t{0};
  uint64_t draw_ = 0;
  uint64_t next_kept_ = 0;  // within the current block; == block end when none is left
};

}  // namespace urn::samplers

#endif  // URN_SAMPLERS_BERNOULLI_H_
