// Reservoir sampling: k rows chosen uniformly without replacement from a stream whose length
// is not known in advance, in one pass and O(k) memory.
//
// Algorithm L (Li, "Reservoir-sampling algorithms of time complexity O(n(1 + log(N/n)))",
// ACM TOMS 1994): the first k rows fill the reservoir; after that the algorithm draws how
// many rows to pass over before the next replacement (a geometric-like skip driven by W, the
// running maximum of k uniforms' k-th-root products), so the work is O(k (1 + log(N/k)))
// random draws for N rows, not N. The caller may ask RowsToSkip() and jump over that many rows
// without even parsing them.
// Draws: event e (the e-th replacement, e = 0 for the start) uses keys 3e, 3e+1, 3e+2 of
// KeyedStream(seed, kReservoir, 0) for the W update, the skip and the slot. Deterministic.
//
// Result. Every k-subset of the N rows is equally likely (N <= k: all rows). Order:
// OutputOrder::kInput (ascending row index) or OutputOrder::kRandom (the reservoir sorted,
// then shuffled by Fisher-Yates with KeyedStream(seed, kReservoir, 1): a uniformly random
// order, every ordered k-tuple equally likely).
// Weights. Once the stream has ended, each row's inclusion probability is k/N, so every HT
// weight is N/k (1 when N <= k).
// Memory O(k); time O(1) per offered row plus O(log) amortized draws.
//
// Thread safety: not thread-safe; one sampler per stream. Merge shards with a weighted
// sampler, not by concatenating reservoirs.
#ifndef URN_SAMPLERS_RESERVOIR_H_
#define URN_SAMPLERS_RESERVOIR_H_

#include <cstdint>
#include <vector>

#include "random/counter_rng.h"
#include "samplers/output_order.h"
#include "samplers/sample.h"

namespace urn::samplers {

class ReservoirSampler {
 public:
  static constexpr int64_t kDrop = -1;

  // A reservoir of k rows. k = 0 keeps nothing.
  ReservoirSampler(uint64_t k, uint64_t seed);

  // Offers the next row of the stream (its index is rows_seen() before the call). Returns the
  // slot in [0, k) the row now occupies (the caller may keep a payload per slot), or kDrop.
  int64_t Offer();

  // How many of the next rows will certainly be dropped: the caller may Skip() up to that many
  // instead of offering them (0 while the reservoir is filling or when the next row is taken).
  uint64_t RowsToSkip() const;
  // Passes over m rows. REQUIRES: m <= RowsToSkip().
  void Skip(uint64_t m) { seen_ += m; }

  uint64_t rows_seen() const { return seen_; }
  // The row index held in each slot (size min(k, rows_seen())).
  const std::vector<uint64_t>& slots() const { return slots_; }

  // The sample of the rows seen so far, in the given order, with weights N/k when asked.
  Sample Result(OutputOrder order, bool with_weights) const;
  // The HT weight of every row of the sample, N/k (1 when N <= k; 0 before any row).
  double HtWeight() const;
  // The same sample as slots: slots()[SlotOrder(order)[i]] == Result(order, ...).rows[i], so a
  // caller that keeps a payload per slot reads them in output order without a row-to-slot map.
  // O(k log k).
  std::vector<uint64_t> SlotOrder(OutputOrder order) const;

 private:
  void DrawNext();  // sets next_ from the current W and event
  // The output order's step after sorting by row: for kRandom, the sample's shuffle.
  void Arrange(std::vector<uint64_t>& sorted, OutputOrder order) const;

  uint64_t k_;
  random::KeyedStream stream_;
  uint64_t seed_;
  uint64_t seen_ = 0;
  uint64_t event_ = 0;
  uint64_t next_ = 0;  // index of the next row that enters (valid once full)
  double log_w_ = 0;   // ln W
  std::vector<uint64_t> slots_;
};

// Convenience for a population of known size n: the same sample a ReservoirSampler fed n rows
// gives, computed with skips (O(k log(n/k)) time).
Sample SampleReservoir(uint64_t n, uint64_t k, uint64_t seed, OutputOrder order, bool with_weights);

}  // namespace urn::samplers

#endif  // URN_SAMPLERS_RESERVOIR_H_
