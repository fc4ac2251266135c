#include "weights/weight_store.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/prefetch.h"

namespace urn::weights {
namespace {

absl::Status CheckPriority(size_t index, double p) {
  if (!(p >= 0) || !std::isfinite(p)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "priority at index %d is %g; priorities must be finite and >= 0", index, p));
  }
  return absl::OkStatus();
}

absl::Status CheckAlpha(double alpha) {
  if (!(alpha >= 0) || !std::isfinite(alpha)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("alpha is %g; it must be finite and >= 0", alpha));
  }
  return absl::OkStatus();
}

absl::Status CheckKey(size_t index, std::string_view key) {
  if (key.empty()) {
    return absl::InvalidArgumentError(absl::StrFormat("key at index %d is empty", index));
  }
  if (key.size() > WeightStore::kMaxKeyBytes) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "key at index %d has %d bytes; at most %d", index, key.size(), WeightStore::kMaxKeyBytes));
  }
  return absl::OkStatus();
}

// A key for messages: printable, and cut short.
std::string Quote(std::string_view key) {
  std::string out = "\"";
  out.append(key.substr(0, 64));
  out.append(key.size() > 64 ? "...\"" : "\"");
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return out;
}

// How far ahead of the key it works on an insert prefetches a key's bucket in the key index.
constexpr size_t kBucketsAhead = 4;

// The keys as the store holds them, one heap string each (their addresses stay put).
std::vector<std::unique_ptr<const std::string>> OwnedCopies(absl::Span<const std::string> keys) {
  std::vector<std::unique_ptr<const std::string>> owned;
  owned.reserve(keys.size());
  for (const std::string& key : keys) owned.push_back(std::make_unique<const std::string>(key));
  return owned;
}

}  // namespace

absl::StatusOr<std::unique_ptr<WeightStore>> WeightStore::Create(
    const WeightStoreOptions& options) {
  if (absl::Status s = CheckAlpha(options.alpha); !s.ok()) return s;
  absl::StatusOr<std::unique_ptr<SumTree>> tree = SumTree::Create(options.capacity, options.tree);
  if (!tree.ok()) return tree.status();
  auto store = std::unique_ptr<WeightStore>(new WeightStore(options, *std::move(tree)));
  if (options.initial_priority.has_value()) {
    absl::StatusOr<std::vector<double>> w =
        store->TreeWeights(absl::MakeConstSpan(&*options.initial_priority, 1));
    if (!w.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("initial priority: ", std::string(w.status().message())));
    }
  }
  return store;
}

WeightStore::WeightStore(const WeightStoreOptions& options, std::unique_ptr<SumTree> tree)
    : capacity_(options.capacity),
      alpha_(options.alpha),
      initial_priority_(options.initial_priority),
      tree_(std::move(tree)),
      priorities_(options.capacity, 0.0),
      keys_(options.capacity) {}

double WeightStore::TreeWeight(double priority) const {
  // p^1 is p exactly, which pow returns too, ~10 ns later (a third of an update by slot at
  // 2^20 slots: bench/weight_store_bench.cc). -0 becomes +0, as below.
  if (alpha_ == 1) return priority + 0.0;
  return priority == 0 ? 0.0 : std::pow(priority, alpha_);
}

absl::StatusOr<std::vector<double>> WeightStore::TreeWeights(
    absl::Span<const double> priorities) const {
  std::vector<double> weights(priorities.size());
  for (size_t i = 0; i < priorities.size(); ++i) {
    if (absl::Status s = CheckPriority(i, priorities[i]); !s.ok()) return s;
    weights[i] = TreeWeight(priorities[i]);
    if (!(weights[i] <= SumTree::kMaxWeight)) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "priority at index %d is %g; priority^alpha must be <= 2^990", i, priorities[i]));
    }
    if (weights[i] == 0 && priorities[i] > 0) {  // it would never be drawn
      return absl::InvalidArgumentError(
          absl::StrFormat("priority at index %d is %g; priority^alpha (alpha %g) is below the "
                          "smallest double, so the item could never be drawn",
                          i, priorities[i], alpha_));
    }
  }
  return weights;
}

uint64_t WeightStore::size() const {
  absl::ReaderMutexLock lock(&mu_);
  return slot_of_.size();
}

int64_t WeightStore::InsertKeyGrowth(absl::Span<const std::string> keys) const {
  absl::ReaderMutexLock lock(&mu_);
  int64_t growth = 0;
  uint64_t slot = next_;
  for (const std::string& key : keys) {
    growth += static_cast<int64_t>(key.size()) + kKeyOverheadBytes;
    if (const auto& old = keys_[slot]; old != nullptr) {
      growth -= static_cast<int64_t>(old->size()) + kKeyOverheadBytes;
    }
    slot = slot + 1 == capacity_ ? 0 : slot + 1;
  }
  return growth;
}

uint64_t WeightStore::positive_slots() const {
  absl::ReaderMutexLock lock(&mu_);
  return tree_->PositiveCount();
}

double WeightStore::total() const {
  absl::ReaderMutexLock lock(&mu_);
  return tree_->Total();
}

absl::StatusOr<double> WeightStore::PriorityOf(std::string_view key) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = slot_of_.find(key);
  if (it == slot_of_.end()) return absl::NotFoundError(absl::StrCat("key ", Quote(key)));
  return priorities_[it->second];
}

absl::StatusOr<uint64_t> WeightStore::SlotOf(std::string_view key) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = slot_of_.find(key);
  if (it == slot_of_.end()) return absl::NotFoundError(absl::StrCat("key ", Quote(key)));
  return it->second;
}

absl::StatusOr<std::vector<double>> WeightStore::Priorities(uint64_t first, uint64_t count) const {
  if (first > capacity_ || count > capacity_ - first) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "slots [%d, %d + %d) reach past the capacity %d", first, first, count, capacity_));
  }
  absl::ReaderMutexLock lock(&mu_);
  return std::vector<double>(priorities_.begin() + first, priorities_.begin() + first + count);
}

void WeightStore::Link(uint64_t slot, std::unique_ptr<const std::string> key) {
  // Invariant: an entry (view, s) of slot_of_ views *keys_[s].
  const auto cost = [](const std::string& k) {
    return static_cast<int64_t>(k.size()) + kKeyOverheadBytes;
  };
  if (const auto& old = keys_[slot]; old != nullptr) {
    if (auto it = slot_of_.find(*old); it != slot_of_.end() && it->second == slot) {
      slot_of_.erase(it);
    }
    key_memory_.fetch_sub(cost(*old), std::memory_order_relaxed);
  }
  keys_[slot].reset();
  if (key == nullptr) return;
  if (auto [it, placed] = slot_of_.try_emplace(std::string_view(*key), slot); !placed) {
    // Only while replaying onto a fuzzy snapshot can a key still sit in another slot. Its entry
    // views that slot's string, so the entry is made anew.
    const uint64_t stale = it->second;
    slot_of_.erase(it);
    key_memory_.fetch_sub(cost(*keys_[stale]), std::memory_order_relaxed);
    keys_[stale].reset();
    slot_of_.emplace(std::string_view(*key), slot);
  }
  key_memory_.fetch_add(cost(*key), std::memory_order_relaxed);
  keys_[slot] = std::move(key);
}

void WeightStore::PrepareIndexFor(size_t adding) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  // slot_of_ is read here without mu_: it changes only under index_mu_, which this thread holds
  // (draws and Plan* only read it, under mu_ shared).
  const size_t size = slot_of_.size();
  const size_t room = slot_of_.capacity() / 4 * 3;
  if (size + adding <= room && index_inserts_ + adding <= 4 * slot_of_.capacity()) {
    index_inserts_ += adding;
    return;
  }
  absl::flat_hash_map<std::string_view, uint64_t> fresh;
  fresh.reserve(2 * (size + adding));
  for (const auto& [key, slot] : slot_of_) fresh.emplace(key, slot);
  {
    absl::MutexLock lock(&mu_);
    slot_of_.swap(fresh);
  }
  index_inserts_ = adding;
  // The old table is freed here, outside mu_.
}

absl::StatusOr<WeightStore::Plan> WeightStore::ValidateInsert(
    absl::Span<const std::string> keys, absl::Span<const double> priorities) const {
  if (!priorities.empty() && priorities.size() != keys.size()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%d keys but %d priorities in one insert", keys.size(), priorities.size()));
  }
  if (keys.size() > capacity_) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "cannot insert %d items at once into a store of capacity %d", keys.size(), capacity_));
  }
  absl::flat_hash_set<std::string_view> distinct;
  distinct.reserve(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    if (absl::Status s = CheckKey(i, keys[i]); !s.ok()) return s;
    if (!distinct.insert(keys[i]).second) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "key %s at index %d repeats an earlier key of the batch", Quote(keys[i]), i));
    }
  }
  absl::StatusOr<Plan> plan = PlanWithPriorities(priorities);
  if (!plan.ok()) return plan;
  plan->owned_keys = OwnedCopies(keys);  // made before any lock is taken
  return plan;
}

absl::Status WeightStore::PlaceInsert(Plan& plan) const {
  const size_t k = plan.owned_keys.size();
  for (size_t i = 0; i < k; ++i) {
    if (i + kBucketsAhead < k)
      slot_of_.prefetch(std::string_view(*plan.owned_keys[i + kBucketsAhead]));
    const std::string& key = *plan.owned_keys[i];
    if (auto it = slot_of_.find(key); it != slot_of_.end()) {
      return absl::AlreadyExistsError(absl::StrFormat(
          "key %s at index %d is already stored in slot %d", Quote(key), i, it->second));
    }
  }
  if (plan.change.priorities.empty()) {
    const double p = initial_priority_.value_or(max_priority_);
    plan.change.priorities.assign(k, p);
    plan.weights.assign(k, TreeWeight(p));
  }
  plan.change.slots.resize(k);
  uint64_t next = next_;
  for (uint64_t& slot : plan.change.slots) {
    slot = next;
    next = next + 1 == capacity_ ? 0 : next + 1;
  }
  plan.change.next_slot = next;
  return absl::OkStatus();
}

absl::StatusOr<WeightStore::Plan> WeightStore::PlanWithPriorities(
    absl::Span<const double> priorities) const {
  absl::StatusOr<std::vector<double>> weights = TreeWeights(priorities);
  if (!weights.ok()) return weights.status();
  Plan plan;
  plan.change.priorities.reserve(priorities.size());
  // -0 is stored as +0: it reads back as 0, and a chunk of zeros keeps its compact encoding.
  for (const double p : priorities) plan.change.priorities.push_back(p + 0.0);
  plan.weights = *std::move(weights);
  return plan;
}

absl::StatusOr<WeightStore::Plan> WeightStore::ValidateUpdateSlots(
    absl::Span<const uint64_t> slots, absl::Span<const double> priorities) const {
  if (slots.size() != priorities.size()) {
    return absl::InvalidArgumentError(absl::StrFormat("%d slots but %d priorities in one update",
                                                      slots.size(), priorities.size()));
  }
  for (size_t i = 0; i < slots.size(); ++i) {
    if (slots[i] >= capacity_) {
      return absl::InvalidArgumentError(
          absl::StrFormat("slot at index %d is %d, outside [0, %d)", i, slots[i], capacity_));
    }
  }
  absl::StatusOr<Plan> plan = PlanWithPriorities(priorities);
  if (plan.ok()) plan->change.slots.assign(slots.begin(), slots.end());
  return plan;
}

absl::StatusOr<WeightStore::Plan> WeightStore::ValidateUpdateKeys(
    absl::Span<const std::string> keys, absl::Span<const double> priorities) const {
  if (keys.size() != priorities.size()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%d keys but %d priorities in one update", keys.size(), priorities.size()));
  }
  return PlanWithPriorities(priorities);
}

void WeightStore::PlaceUpdateKeys(absl::Span<const std::string> keys, Plan& plan) const {
  // The entries of stored keys move to the front, in order; the others are listed as skipped.
  Change& change = plan.change;
  change.slots.resize(keys.size());
  size_t kept = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    auto it = slot_of_.find(keys[i]);
    if (it == slot_of_.end()) {
      plan.skipped.push_back(i);
      continue;
    }
    change.slots[kept] = it->second;
    change.priorities[kept] = change.priorities[i];
    plan.weights[kept] = plan.weights[i];
    ++kept;
  }
  change.slots.resize(kept);
  change.priorities.resize(kept);
  plan.weights.resize(kept);
  change.next_slot = next_;
}

void WeightStore::PrefetchEvicted(absl::Span<const uint64_t> slots, size_t i) const {
  // Each stage reads what the one before brought in: the string object, then its characters,
  // then (hashing them) the key's bucket.
  const size_t k = slots.size();
  if (i + 3 * kBucketsAhead < k) {
    if (const std::string* old = keys_[slots[i + 3 * kBucketsAhead]].get()) PrefetchToL2(old);
  }
  if (i + 2 * kBucketsAhead < k) {
    if (const std::string* old = keys_[slots[i + 2 * kBucketsAhead]].get()) {
      PrefetchToL2(old->data());
    }
  }
  if (i + kBucketsAhead < k) {
    if (const std::string* old = keys_[slots[i + kBucketsAhead]].get()) {
      slot_of_.prefetch(std::string_view(*old));
    }
  }
}

void WeightStore::CommitLocked(const Change& change, absl::Span<const double> weights,
                               absl::Span<std::unique_ptr<const std::string>> owned_keys) {
  if (!owned_keys.empty()) {
    const absl::Span<const uint64_t> slots = change.slots;
    for (size_t i = 0; i < slots.size(); ++i) {
      PrefetchEvicted(slots, i);
      Link(slots[i], std::move(owned_keys[i]));  // evicts the item that held the slot
    }
    next_ = change.next_slot;
  }
  Apply(change.slots, change.priorities, weights);
  ++version_;
}

absl::StatusOr<std::vector<uint64_t>> WeightStore::Insert(absl::Span<const std::string> keys,
                                                          absl::Span<const double> priorities,
                                                          Change* change) {
  absl::StatusOr<Plan> plan = ValidateInsert(keys, priorities);
  if (!plan.ok()) return plan.status();
  absl::MutexLock index_lock(&index_mu_);
  PrepareIndexFor(keys.size());
  absl::MutexLock lock(&mu_);
  if (absl::Status s = PlaceInsert(*plan); !s.ok()) return s;
  CommitLocked(plan->change, plan->weights, absl::MakeSpan(plan->owned_keys));
  if (change != nullptr) {
    *change = plan->change;
    change->keys.assign(keys.begin(), keys.end());
  }
  return std::move(plan->change.slots);
}

absl::Status WeightStore::UpdateSlots(absl::Span<const uint64_t> slots,
                                      absl::Span<const double> priorities, Change* change) {
  absl::StatusOr<Plan> plan = ValidateUpdateSlots(slots, priorities);
  if (!plan.ok()) return plan.status();
  absl::MutexLock lock(&mu_);
  plan->change.next_slot = next_;
  CommitLocked(plan->change, plan->weights, {});
  if (change != nullptr) *change = std::move(plan->change);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<size_t>> WeightStore::UpdateKeys(absl::Span<const std::string> keys,
                                                            absl::Span<const double> priorities,
                                                            Change* change) {
  absl::StatusOr<Plan> plan = ValidateUpdateKeys(keys, priorities);
  if (!plan.ok()) return plan.status();
  absl::MutexLock lock(&mu_);
  PlaceUpdateKeys(keys, *plan);
  CommitLocked(plan->change, plan->weights, {});
  if (change != nullptr) *change = std::move(plan->change);
  return std::move(plan->skipped);
}

absl::StatusOr<WeightStore::Plan> WeightStore::PlanInsert(
    absl::Span<const std::string> keys, absl::Span<const double> priorities) const {
  absl::StatusOr<Plan> plan = ValidateInsert(keys, priorities);
  if (!plan.ok()) return plan.status();
  absl::ReaderMutexLock lock(&mu_);
  if (absl::Status s = PlaceInsert(*plan); !s.ok()) return s;
  plan->change.keys.assign(keys.begin(), keys.end());  // for the log
  plan->version = version_;
  return plan;
}

absl::StatusOr<WeightStore::Plan> WeightStore::PlanUpdateSlots(
    absl::Span<const uint64_t> slots, absl::Span<const double> priorities) const {
  absl::StatusOr<Plan> plan = ValidateUpdateSlots(slots, priorities);
  if (!plan.ok()) return plan.status();
  absl::ReaderMutexLock lock(&mu_);
  plan->change.next_slot = next_;
  plan->version = version_;
  return plan;
}

absl::StatusOr<WeightStore::Plan> WeightStore::PlanUpdateKeys(
    absl::Span<const std::string> keys, absl::Span<const double> priorities) const {
  absl::StatusOr<Plan> plan = ValidateUpdateKeys(keys, priorities);
  if (!plan.ok()) return plan.status();
  absl::ReaderMutexLock lock(&mu_);
  PlaceUpdateKeys(keys, *plan);
  plan->version = version_;
  return plan;
}

absl::Status WeightStore::Commit(Plan& plan) {
  absl::MutexLock index_lock(&index_mu_);
  if (!plan.owned_keys.empty()) PrepareIndexFor(plan.owned_keys.size());
  absl::MutexLock lock(&mu_);
  if (plan.version != version_) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "a plan made at mutation %d cannot be committed after mutation %d: the store changed "
        "since, or the plan was committed already",
        plan.version, version_));
  }
  CommitLocked(plan.change, plan.weights, absl::MakeSpan(plan.owned_keys));
  return absl::OkStatus();
}

absl::Status WeightStore::ApplyChange(const Change& change) {
  const size_t k = change.slots.size();
  if (change.priorities.size() != k || (!change.keys.empty() && change.keys.size() != k)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("a change of %d slots has %d priorities and %d keys", k,
                        change.priorities.size(), change.keys.size()));
  }
  if (change.next_slot >= capacity_) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "a change's ring position %d is outside [0, %d)", change.next_slot, capacity_));
  }
  for (size_t i = 0; i < k; ++i) {
    if (change.slots[i] >= capacity_) {
      return absl::InvalidArgumentError(absl::StrFormat("slot at index %d is %d, outside [0, %d)",
                                                        i, change.slots[i], capacity_));
    }
    if (!change.keys.empty()) {
      if (absl::Status s = CheckKey(i, change.keys[i]); !s.ok()) return s;
    }
  }
  absl::StatusOr<std::vector<double>> weights = TreeWeights(change.priorities);
  if (!weights.ok()) return weights.status();
  std::vector<std::unique_ptr<const std::string>> owned_keys = OwnedCopies(change.keys);
  absl::MutexLock index_lock(&index_mu_);
  if (!owned_keys.empty()) PrepareIndexFor(owned_keys.size());
  absl::MutexLock lock(&mu_);
  CommitLocked(change, *weights, absl::MakeSpan(owned_keys));
  return absl::OkStatus();
}

void WeightStore::Apply(absl::Span<const uint64_t> slots, absl::Span<const double> priorities,
                        absl::Span<const double> weights) {
  // Everything was validated by the caller, so the tree cannot refuse the batch.
  const absl::Status s = tree_->SetBatch(slots, weights);
  (void)s;
  for (size_t i = 0; i < slots.size(); ++i) {
    priorities_[slots[i]] = priorities[i];
    max_priority_ = std::max(max_priority_, priorities[i]);
  }
}

WeightStore::Position WeightStore::position() const {
  absl::ReaderMutexLock lock(&mu_);
  return {next_, max_priority_};
}

WeightStore::Chunk WeightStore::ExportChunk(uint64_t first, uint64_t count) const {
  Chunk chunk;
  chunk.first = first;
  absl::ReaderMutexLock lock(&mu_);
  chunk.priorities.assign(priorities_.begin() + first, priorities_.begin() + first + count);
  for (uint64_t s = first; s < first + count; ++s) {
    if (keys_[s] != nullptr) chunk.keys.emplace_back(s, *keys_[s]);
  }
  return chunk;
}

absl::Status WeightStore::ImportChunk(const Chunk& chunk) {
  if (chunk.first > capacity_ || chunk.priorities.size() > capacity_ - chunk.first) {
    return absl::InvalidArgumentError(
        absl::StrFormat("a chunk of slots [%d, %d + %d) reaches past the capacity %d", chunk.first,
                        chunk.first, chunk.priorities.size(), capacity_));
  }
  const uint64_t end = chunk.first + chunk.priorities.size();
  for (size_t i = 0; i < chunk.priorities.size(); ++i) {
    if (absl::Status s = CheckPriority(chunk.first + i, chunk.priorities[i]); !s.ok()) return s;
  }
  for (size_t i = 0; i < chunk.keys.size(); ++i) {
    const auto& [slot, key] = chunk.keys[i];
    if (slot < chunk.first || slot >= end || (i > 0 && slot <= chunk.keys[i - 1].first)) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "a chunk of slots [%d, %d) names slot %d out of order or range", chunk.first, end, slot));
    }
    if (absl::Status s = CheckKey(i, key); !s.ok()) return s;
  }
  absl::MutexLock index_lock(&index_mu_);
  if (!chunk.keys.empty()) PrepareIndexFor(chunk.keys.size());
  absl::MutexLock lock(&mu_);
  std::copy(chunk.priorities.begin(), chunk.priorities.end(), priorities_.begin() + chunk.first);
  for (double p : chunk.priorities) max_priority_ = std::max(max_priority_, p);
  for (const auto& [slot, key] : chunk.keys) Link(slot, std::make_unique<const std::string>(key));
  return absl::OkStatus();
}

absl::Status WeightStore::SetPosition(const Position& position) {
  if (position.next_slot >= capacity_ || !CheckPriority(0, position.max_priority).ok()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("bad position: next slot %d of %d, maximum priority %g", position.next_slot,
                        capacity_, position.max_priority));
  }
  absl::MutexLock lock(&mu_);
  next_ = position.next_slot;
  max_priority_ = std::max(max_priority_, position.max_priority);
  return absl::OkStatus();
}

absl::Status WeightStore::Rebuild() {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<std::vector<double>> weights = TreeWeights(priorities_);
  if (!weights.ok()) return weights.status();
  return tree_->Assign(*weights);
}

absl::Status WeightStore::CheckConsistent() const {
  absl::ReaderMutexLock lock(&mu_);
  uint64_t keyed = 0;
  for (uint64_t s = 0; s < capacity_; ++s) {
    if (keys_[s] == nullptr) continue;
    ++keyed;
    auto it = slot_of_.find(*keys_[s]);
    if (it == slot_of_.end() || it->second != s) {
      return absl::InternalError(
          absl::StrFormat("slot %d holds key %s, which maps elsewhere", s, Quote(*keys_[s])));
    }
  }
  if (keyed != slot_of_.size()) {
    return absl::InternalError(
        absl::StrFormat("%d keyed slots but %d keys", keyed, slot_of_.size()));
  }
  return absl::OkStatus();
}

namespace {

// (w / min_weight)^-beta for tree weights w >= min_weight > 0, in log space when the ratio
// overflows (it is >= 1, so it cannot underflow).
double ImportanceWeight(double w, double min_weight, double beta) {
  const double ratio = w / min_weight;
  if (std::isfinite(ratio)) return std::pow(ratio, -beta);
  return std::exp(-beta * (std::log(w) - std::log(min_weight)));
}

}  // namespace

absl::StatusOr<std::vector<WeightStore::Draw>> WeightStore::Sample(const SampleRequest& request) {
  if (!(request.beta >= 0 && request.beta <= 1)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("beta is %g; it must be in [0, 1]", request.beta));
  }
  if (request.stratified && !request.replacement) {
    return absl::InvalidArgumentError("stratified draws are with replacement");
  }
  if (request.batch_size > kMaxDrawsPerBatch) {
    return absl::InvalidArgumentError(absl::StrFormat("batch size %d is above the limit of %d",
                                                      request.batch_size, kMaxDrawsPerBatch));
  }
  std::vector<uint64_t> slots(request.batch_size);
  std::vector<Draw> draws(request.batch_size);
  // Reads the drawn items; the caller holds mu_ (shared is enough). The per-slot arrays are
  // read at random, each a cache miss (and often a TLB miss) when the store is cold, so only
  // those that can differ are read: with alpha 1 a priority is its tree weight (p^1 = p
  // exactly), and a store that holds no key has none to read. (A cold batch of 256 at 2^20
  // slots: 77-82 us with both arrays read, bench/weight_store_bench.cc.)
  const auto describe = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    const double total = tree_->Total();
    const double min_weight = tree_->MinPositive();
    const bool read_priorities = alpha_ != 1;
    const bool read_keys = !slot_of_.empty();
    for (const uint64_t s : slots) {  // every drawn slot's lines are requested first
      if (read_priorities) PrefetchToL2(&priorities_[s]);
      if (read_keys) PrefetchToL2(&keys_[s]);
    }
    for (size_t j = 0; j < slots.size(); ++j) {
      const uint64_t s = slots[j];
      const double w = tree_->Get(s);
      draws[j].slot = s;
      if (read_keys && keys_[s] != nullptr) draws[j].key = *keys_[s];
      draws[j].priority = read_priorities ? priorities_[s] : w;
      draws[j].probability = w / total;
      draws[j].importance_weight = ImportanceWeight(w, min_weight, request.beta);
    }
  };
  if (request.replacement) {
    absl::ReaderMutexLock lock(&mu_);
    absl::Status s =
        request.stratified
            ? tree_->SampleStratified(request.seed, request.batch, absl::MakeSpan(slots))
            : tree_->SampleWithReplacement(request.seed, request.batch, absl::MakeSpan(slots));
    if (!s.ok()) return s;
    describe();
  } else {
    absl::MutexLock lock(&mu_);
    absl::Status s =
        tree_->SampleWithoutReplacement(request.seed, request.batch, absl::MakeSpan(slots));
    if (!s.ok()) return s;
    describe();
  }
  return draws;
}

}  // namespace urn::weights
