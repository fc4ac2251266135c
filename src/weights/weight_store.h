// WeightStore: the index of a prioritized replay buffer. Items (named by 64-bit keys) live in
// a fixed ring of `capacity` slots; each has a priority p >= 0 and is drawn with probability
//
//     P(i) = p_i^alpha / sum_j p_j^alpha
//
// with importance weights (n P(i))^-beta / max_j (n P(j))^-beta, as in Schaul, Quan, Antonoglou
// and Silver, "Prioritized Experience Replay", ICLR 2016 (section 3.3 and 3.4; the maximum runs
// over every stored item of positive priority, tracked exactly by the tree's minimum).
//
// Semantics.
//  - Insert puts each key at the next ring slot; once the ring is full the oldest item is
//    evicted (FIFO). An inserted item without a priority gets `initial_priority`, by default
//    the largest priority seen so far (starting at 1), so that new items are drawn soon.
//  - Priorities are updated by slot or by key, in batches.
//  - Draws: with replacement, stratified (draw j uniform in the j-th of k equal-mass segments,
//    as in the paper's appendix B.2.1) or without replacement (k distinct items by successive
//    sampling). A draw is a pure function of the store's contents and (seed, batch).
//  - Snapshot() encodes the whole store as bytes; Restore() rebuilds an identical store (same
//    draws for the same seed and batch) or reports DataLoss naming what is damaged.
//
// Errors. Every batch is validated whole before anything changes (all or nothing):
// InvalidArgument for a priority that is negative, NaN, infinite or too large (p^alpha above
// SumTree::kMaxWeight), naming its index and value; for a slot outside [0, capacity) or not yet
// filled; for a key repeated in one insert. AlreadyExists for inserting a stored key; NotFound
// for updating a key that is not stored. Draws fail with FailedPrecondition when no item has
// positive priority (or, without replacement, fewer than k do).
//
// Complexity (n = capacity, D = ceil(log8 n) <= 11): insert / update of k items O(k D);
// draw of k O(k D) (see sum_tree.h); snapshot and restore O(n). Memory: about 45 bytes per slot
// (tree 9.4, priority 8, key 8, key index ~19).
//
// Thread safety and locking. All methods may be called concurrently. One reader/writer lock
// (mu_) guards the state. Draws with replacement (plain or stratified) and Snapshot() hold it
// shared, so they run in parallel with each other. Inserts, updates and draws without
// replacement (which zero and restore drawn slots) hold it exclusively, but only for the
// O(k D) application: validation and the computation of p^alpha happen before the lock is
// taken. So a draw waits at most for one batch being applied (about 30 ns per item at 2^20
// slots), never for a whole rebuild. A batch is applied atomically: a draw sees all of it or
// none of it. Snapshot() copies O(n) under the shared lock, so updates wait for that copy.
#ifndef URN_WEIGHTS_WEIGHT_STORE_H_
#define URN_WEIGHTS_WEIGHT_STORE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "weights/sum_tree.h"

namespace urn::weights {

struct WeightStoreOptions {
  // Number of slots, 1 .. 2^31. Memory is allocated up front.
  uint64_t capacity = 0;
  // Priority exponent: 0 draws uniformly among positive priorities, 1 proportionally.
  double alpha = 0.6;
  // Priority of items inserted without one; unset: the largest priority seen so far, >= 1.
  std::optional<double> initial_priority;
  // Layout knobs of the tree (huge pages, lockstep draws); the defaults are the fast ones.
  SumTree::Options tree;
};

class WeightStore {
 public:
  // InvalidArgument for a capacity outside [1, 2^31], an alpha that is negative or not finite,
  // or an invalid initial priority.
  static absl::StatusOr<std::unique_ptr<WeightStore>> Create(const WeightStoreOptions& options);

  WeightStore(const WeightStore&) = delete;
  WeightStore& operator=(const WeightStore&) = delete;

  // Inserts `keys` at the next ring slots, evicting the oldest items when full, and returns the
  // slots. `priorities` is empty (every item gets the initial priority) or one per key.
  // REQUIRES: keys.size() <= capacity.
  absl::StatusOr<std::vector<uint64_t>> Insert(absl::Span<const uint64_t> keys,
                                               absl::Span<const double> priorities = {});

  // Sets the priorities of stored items, named by slot or by key. Later entries win.
  absl::Status UpdateSlots(absl::Span<const uint64_t> slots, absl::Span<const double> priorities);
  absl::Status UpdateKeys(absl::Span<const uint64_t> keys, absl::Span<const double> priorities);

  struct SampleRequest {
    uint64_t batch_size = 1;
    uint64_t seed = 0;
    uint64_t batch = 0;       // draw number; (seed, batch) fixes the result for given contents
    double beta = 0.4;        // importance exponent, in [0, 1]
    bool replacement = true;  // false: batch_size distinct items
    bool stratified = false;  // with replacement only: one draw per equal-mass segment
  };
  struct Draw {
    uint64_t slot;
    uint64_t key;
    double priority;           // p_i
    double probability;        // P(i)
    double importance_weight;  // (n P(i))^-beta / max_j (n P(j))^-beta, in (0, 1]
  };
  absl::StatusOr<std::vector<Draw>> Sample(const SampleRequest& request);

  uint64_t capacity() const { return capacity_; }
  double alpha() const { return alpha_; }
  uint64_t size() const;
  // The priority of a stored key, or NotFound.
  absl::StatusOr<double> PriorityOf(uint64_t key) const;
  // The slot of a stored key, or NotFound.
  absl::StatusOr<uint64_t> SlotOf(uint64_t key) const;

  // The whole store as bytes: a versioned little-endian format with an XXH3 checksum.
  std::string Snapshot() const;
  // A store equal to the one snapshotted. DataLoss naming the damage for anything that is not
  // an intact snapshot (truncated, corrupted, wrong version); never crashes on garbage.
  static absl::StatusOr<std::unique_ptr<WeightStore>> Restore(std::string_view bytes,
                                                              SumTree::Options tree = {});

 private:
  WeightStore(const WeightStoreOptions& options, std::unique_ptr<SumTree> tree);

  // p^alpha, the tree weight of priority p (0 stays 0, also when alpha is 0).
  double TreeWeight(double priority) const;
  // Validates priorities and returns their tree weights.
  absl::StatusOr<std::vector<double>> TreeWeights(absl::Span<const double> priorities) const;
  absl::Status Apply(absl::Span<const uint64_t> slots, absl::Span<const double> priorities,
                     absl::Span<const double> weights) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const uint64_t capacity_;
  const double alpha_;
  const std::optional<double> initial_priority_;

  mutable absl::Mutex mu_;
  const std::unique_ptr<SumTree> tree_ ABSL_PT_GUARDED_BY(mu_);
  std::vector<double> priorities_ ABSL_GUARDED_BY(mu_);                   // per slot
  std::vector<uint64_t> keys_ ABSL_GUARDED_BY(mu_);                       // per slot
  absl::flat_hash_map<uint64_t, uint64_t> slot_of_ ABSL_GUARDED_BY(mu_);  // key -> slot
  uint64_t size_ ABSL_GUARDED_BY(mu_) = 0;  // slots [0, size_) are filled
  uint64_t next_ ABSL_GUARDED_BY(mu_) = 0;  // the slot the next insert takes
  double max_priority_ ABSL_GUARDED_BY(mu_) = 1;
};

}  // namespace urn::weights

#endif  // URN_WEIGHTS_WEIGHT_STORE_H_
