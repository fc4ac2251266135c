// WeightStore: the index of a prioritized replay buffer, or of any weighted population whose
// weights change. It has `capacity` slots, all addressable from creation with priority 0 (never
// drawn) until set. Slot i is drawn with probability
//
//     P(i) = p_i^alpha / sum_j p_j^alpha
//
// with importance weights (n P(i))^-beta / max_j (n P(j))^-beta, as in Schaul, Quan, Antonoglou
// and Silver, "Prioritized Experience Replay", ICLR 2016 (sections 3.3 and 3.4; the maximum runs
// over every slot of positive priority, tracked exactly by the tree's minimum). An importance
// weight is computed as (w_i / w_min)^-beta of the tree weights w = p^alpha, or, when that ratio
// overflows a double (priorities 1e-290 and 1e290, say), as exp(-beta (ln w_i - ln w_min)), so
// that it is right for any two weights. It is in [0, 1], and 0 only where the exact value is
// below the smallest double, 2^-1074.
//
// Semantics.
//  - Slots can be used by number (one slot per dataset row, say): UpdateSlots sets any slot.
//  - Or filled by key: Insert puts each (string) key at the next slot of a ring over all slots;
//    the item that held that slot is evicted (FIFO once the ring has wrapped). An inserted item
//    without a priority gets `initial_priority`, by default the largest priority seen so far
//    (starting at 1), so that new items are drawn soon. UpdateKeys sets stored keys' priorities;
//    a key that is not stored (evicted by the ring, or never inserted) is skipped and reported,
//    as Reverb does, so that a learner's late update never lands on the item that took an
//    evicted item's slot (which an update by slot would do).
//  - Draws: with replacement, stratified (draw j uniform in the j-th of k equal-mass segments,
//    as in the paper's appendix B.2.1) or without replacement (k distinct slots by successive
//    sampling). A draw is a pure function of the store's contents and (seed, batch).
//
// Durability support (see weight_store_codec.h for the byte formats). Every mutation can report
// the physical Change it made: the slots, their new priorities and, for inserts, their new keys
// and the ring position after it. ApplyChange() replays such a change; replaying is idempotent,
// so a "fuzzy" snapshot (chunks copied at different moments after a log position s, see
// ExportChunk) plus every change logged after s restores the store exactly (ARIES-style redo).
//
// Errors. Every batch is validated whole before anything changes (all or nothing):
// InvalidArgument for a priority that is negative, NaN, infinite, too large (p^alpha above
// SumTree::kMaxWeight) or positive but so small that p^alpha is 0 (it could never be drawn),
// naming its index and value; for a slot outside [0, capacity); for an empty, too long or
// repeated key. AlreadyExists for inserting a stored key. Draws fail with FailedPrecondition when
// no slot has positive priority (or, without replacement, fewer than k do).
//
// Complexity (n = capacity, D = ceil(log8 n) <= 11): insert / update of k items O(k D); draw of
// k O(k D) (see sum_tree.h), plus amortized O(1) per inserted key for the index copies;
// ExportChunk of m slots O(m); Rebuild O(n). Memory: about 26 bytes per slot (tree 9.4,
// priority 8, key pointer 8) plus, per stored key, its bytes and ~kKeyOverheadBytes.
//
// Thread safety and locking. All methods may be called concurrently. One reader/writer lock
// (mu_) guards the state. Draws with replacement (plain or stratified), reads and ExportChunk
// hold it shared, so they run in parallel with each other. Inserts, updates and draws without
// replacement (which zero and restore drawn slots) hold it exclusively, but only for the
// O(k D) application: validation and p^alpha are computed before the lock is taken. So a draw
// waits at most for one batch being applied (tens of ns per item), never for a rebuild or a
// whole snapshot: snapshots copy one chunk per lock acquisition. Nor for the key index (a hash
// table) growing: before an insert, whoever changes the index (holding index_mu_, which orders
// those changes) makes it a fresh, larger copy outside mu_ when the insert could make it grow or
// clean up its deleted entries in place, and swaps it in under mu_ in O(1). The table is kept
// at most 3/4 full, and copied afresh after inserts of 4 times its size, which drops the deleted
// entries that evictions leave (rare at that load) long before they could fill it. Measured
// (bench/weight_store_bench.cc, BM_WeightStoreDrawWaitDuringInserts: 2^20 slots filled and
// wrapped in inserts of 16,384): the longest draw 110-156 ms before, 8.7-9.5 ms after (one
// insert's application); inserts of 256 3.11-3.31 -> 2.87-3.13 M/s. A batch is applied
// atomically: a draw sees all of it or none of it. Plan* hold the lock shared and Commit
// exclusively (for the O(k D) application only).
#ifndef URN_WEIGHTS_WEIGHT_STORE_H_
#define URN_WEIGHTS_WEIGHT_STORE_H_

#include <atomic>
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
  double alpha = 1.0;
  // Priority of items inserted without one; unset: the largest priority seen so far, >= 1.
  std::optional<double> initial_priority;
  // Layout knobs of the tree (huge pages, lockstep draws); the defaults are the fast ones.
  SumTree::Options tree;
};

class WeightStore {
 public:
  static constexpr size_t kMaxKeyBytes = 1024;
  static constexpr uint64_t kMaxDrawsPerBatch = uint64_t{1} << 24;

  // What a mutation did, physically; replayable with ApplyChange().
  struct Change {
    std::vector<uint64_t> slots;
    std::vector<double> priorities;  // one per slot
    std::vector<std::string> keys;   // empty, or (an insert) the key each slot now holds
    uint64_t next_slot = 0;          // the ring position after an insert
  };

  // InvalidArgument for a capacity outside [1, 2^31], an alpha that is negative or not finite,
  // or an invalid initial priority.
  static absl::StatusOr<std::unique_ptr<WeightStore>> Create(const WeightStoreOptions& options);

  WeightStore(const WeightStore&) = delete;
  WeightStore& operator=(const WeightStore&) = delete;

  // Inserts `keys` at the next ring slots, evicting the items there, and returns the slots.
  // `priorities` is empty (every item gets the initial priority) or one per key. At most
  // `capacity` keys per call. When `change` is given it receives what was done.
  absl::StatusOr<std::vector<uint64_t>> Insert(absl::Span<const std::string> keys,
                                               absl::Span<const double> priorities = {},
                                               Change* change = nullptr);

  // Sets priorities by slot (any slot < capacity) or by stored key. Later entries win.
  absl::Status UpdateSlots(absl::Span<const uint64_t> slots, absl::Span<const double> priorities,
                           Change* change = nullptr);
  // Keys that are not stored are skipped: returns their indexes in `keys`, ascending (the change
  // holds the other entries only).
  absl::StatusOr<std::vector<size_t>> UpdateKeys(absl::Span<const std::string> keys,
                                                 absl::Span<const double> priorities,
                                                 Change* change = nullptr);

  // Replays a change made by this store (or by one restored to the same state). InvalidArgument
  // when it cannot be one (bad slot, priority or sizes); nothing changes then.
  absl::Status ApplyChange(const Change& change);

  // A mutation in two steps, for a caller that must log a change before anyone can see it
  // (storage/durable_weight_store.h): Plan* validates it and computes the Change it would make
  // (the same errors as Insert / UpdateSlots / UpdateKeys) without making it; Commit makes it.
  // The caller serializes its mutations, so that none comes between a plan and its Commit (draws
  // may); Commit refuses a plan made before another mutation, or committed already, with
  // FailedPrecondition, changing nothing.
  struct Plan {
    Change change;
    std::vector<double> weights;  // the tree weights of change.priorities
    std::vector<std::unique_ptr<const std::string>> owned_keys;  // an insert's keys, to be held
    std::vector<size_t> skipped;  // an update by key: the indexes of keys not stored, ascending
    uint64_t version = 0;         // the number of mutations the store had made when planned
  };
  absl::StatusOr<Plan> PlanInsert(absl::Span<const std::string> keys,
                                  absl::Span<const double> priorities) const;
  absl::StatusOr<Plan> PlanUpdateSlots(absl::Span<const uint64_t> slots,
                                       absl::Span<const double> priorities) const;
  absl::StatusOr<Plan> PlanUpdateKeys(absl::Span<const std::string> keys,
                                      absl::Span<const double> priorities) const;
  absl::Status Commit(Plan& plan);  // takes plan.owned_keys

  struct SampleRequest {
    uint64_t batch_size = 1;
    uint64_t seed = 0;
    uint64_t batch = 0;       // draw number; (seed, batch) fixes the result for given contents
    double beta = 0.4;        // importance exponent, in [0, 1]
    bool replacement = true;  // false: batch_size distinct slots
    bool stratified = false;  // with replacement only: one draw per equal-mass segment
  };
  struct Draw {
    uint64_t slot;
    std::string key;  // "" for a slot without a key
    double priority;  // p_i
    // P(i), and the importance weight from it: also without replacement, where P(i) is the
    // probability of slot i as a single draw, not of its inclusion in the batch.
    double probability;        // P(i)
    double importance_weight;  // (n P(i))^-beta / max_j (n P(j))^-beta, in [0, 1] (above)
  };
  absl::StatusOr<std::vector<Draw>> Sample(const SampleRequest& request);

  uint64_t capacity() const { return capacity_; }
  double alpha() const { return alpha_; }
  const std::optional<double>& initial_priority() const { return initial_priority_; }
  // Number of slots holding a key.
  uint64_t size() const;
  // Memory of the stored keys: their bytes plus kKeyOverheadBytes each (the string object, 32,
  // and the index at 3/8 to 3/4 full, 25 bytes an entry). Lock-free.
  static constexpr int64_t kKeyOverheadBytes = 96;
  int64_t KeyMemoryBytes() const { return key_memory_.load(std::memory_order_relaxed); }
  // By how much KeyMemoryBytes() would change if `keys` were inserted now: their bytes and
  // overhead less those of the keys held by the ring slots they would take (negative when those
  // hold more). An insert into a full ring of keys of one length changes nothing. O(keys).
  int64_t InsertKeyGrowth(absl::Span<const std::string> keys) const;
  // Sum of p^alpha over all slots, as the tree computes it.
  double total() const;
  // Number of slots of positive priority: the slots a draw can return.
  uint64_t positive_slots() const;
  // The priority / slot of a stored key, or NotFound.
  absl::StatusOr<double> PriorityOf(std::string_view key) const;
  absl::StatusOr<uint64_t> SlotOf(std::string_view key) const;
  // Priorities of slots [first, first + count). InvalidArgument past the capacity.
  absl::StatusOr<std::vector<double>> Priorities(uint64_t first, uint64_t count) const;

  // The ring position and the largest priority seen: with the slots, the whole state.
  struct Position {
    uint64_t next_slot = 0;
    double max_priority = 1;
  };
  Position position() const;

  // Slots [first, first + count) as they are now: priorities and keys, copied under one shared
  // lock acquisition. REQUIRES: first + count <= capacity.
  struct Chunk {
    uint64_t first = 0;
    std::vector<double> priorities;
    std::vector<std::pair<uint64_t, std::string>> keys;  // (slot, key), slots ascending
  };
  Chunk ExportChunk(uint64_t first, uint64_t count) const;

  // Restoring: on a store fresh from Create(), ImportChunk() each chunk of a snapshot and
  // SetPosition(), then Rebuild() (O(n)) before anything else; then ApplyChange() the logged
  // changes, then CheckConsistent(). Import does not touch the tree, so it is fast and draws
  // are wrong until Rebuild(). InvalidArgument for a chunk that cannot belong to this store.
  absl::Status ImportChunk(const Chunk& chunk);
  absl::Status SetPosition(const Position& position);
  absl::Status Rebuild();
  // Internal naming the first problem unless every stored key maps to its slot and back.
  absl::Status CheckConsistent() const;

 private:
  WeightStore(const WeightStoreOptions& options, std::unique_ptr<SumTree> tree);

  // p^alpha, the tree weight of priority p (0 stays 0, also when alpha is 0).
  double TreeWeight(double priority) const;
  // Validates priorities and returns their tree weights.
  absl::StatusOr<std::vector<double>> TreeWeights(absl::Span<const double> priorities) const;
  // The checks of a mutation that need no lock, and a plan holding the priorities (and keys, or
  // slots) and their weights; a plan with the priorities and weights only.
  absl::StatusOr<Plan> ValidateInsert(absl::Span<const std::string> keys,
                                      absl::Span<const double> priorities) const;
  absl::StatusOr<Plan> ValidateUpdateSlots(absl::Span<const uint64_t> slots,
                                           absl::Span<const double> priorities) const;
  absl::StatusOr<Plan> ValidateUpdateKeys(absl::Span<const std::string> keys,
                                          absl::Span<const double> priorities) const;
  absl::StatusOr<Plan> PlanWithPriorities(absl::Span<const double> priorities) const;
  // The checks and choices that read the state: an insert's slots, ring position and default
  // priorities (AlreadyExists for a stored key); the slots of updated keys (the others are
  // dropped from the plan and listed in plan.skipped).
  absl::Status PlaceInsert(Plan& plan) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  void PlaceUpdateKeys(absl::Span<const std::string> keys, Plan& plan) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // Prefetches, for the Link of slots[i], what later Links in `slots` read of the keys they evict.
  void PrefetchEvicted(absl::Span<const uint64_t> slots, size_t i) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // Makes a validated change: links the keys (an insert's, taken from owned_keys, evicting what
  // the slots held) and moves the ring, and writes the priorities and weights.
  void CommitLocked(const Change& change, absl::Span<const double> weights,
                    absl::Span<std::unique_ptr<const std::string>> owned_keys)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Writes validated priorities (and weights) to the slots and the tree.
  void Apply(absl::Span<const uint64_t> slots, absl::Span<const double> priorities,
             absl::Span<const double> weights) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Makes `slot` hold `key` (nullptr: no key), unlinking whatever either held before.
  void Link(uint64_t slot, std::unique_ptr<const std::string> key)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Before an insert of `adding` keys: replaces the key index by a larger, clean copy (made
  // outside mu_) unless it has room for them without growing or cleaning up in place.
  void PrepareIndexFor(size_t adding) ABSL_EXCLUSIVE_LOCKS_REQUIRED(index_mu_)
      ABSL_LOCKS_EXCLUDED(mu_);

  const uint64_t capacity_;
  const double alpha_;
  const std::optional<double> initial_priority_;

  // Held (before mu_) by every change of the key index: slot_of_ is changed only with both
  // held, so either is enough to read it.
  absl::Mutex index_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  size_t index_inserts_ ABSL_GUARDED_BY(index_mu_) = 0;  // keys inserted since the last copy
  mutable absl::Mutex mu_;
  const std::unique_ptr<SumTree> tree_ ABSL_PT_GUARDED_BY(mu_);
  std::vector<double> priorities_ ABSL_GUARDED_BY(mu_);                        // per slot
  std::vector<std::unique_ptr<const std::string>> keys_ ABSL_GUARDED_BY(mu_);  // per slot
  // key -> slot; the views point into keys_' strings.
  absl::flat_hash_map<std::string_view, uint64_t> slot_of_ ABSL_GUARDED_BY(mu_);
  uint64_t next_ ABSL_GUARDED_BY(mu_) = 0;  // the slot the next insert takes
  double max_priority_ ABSL_GUARDED_BY(mu_) = 1;
  uint64_t version_ ABSL_GUARDED_BY(mu_) = 0;  // mutations made (CommitLocked calls)
  // KeyMemoryBytes(): changed under mu_ (Link), read without it.
  std::atomic<int64_t> key_memory_{0};
};

}  // namespace urn::weights

#endif  // URN_WEIGHTS_WEIGHT_STORE_H_
