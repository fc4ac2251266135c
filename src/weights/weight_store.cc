#include "weights/weight_store.h"

#include <xxhash.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace urn::weights {
namespace {

static_assert(std::endian::native == std::endian::little,
              "the snapshot format is little-endian; add byte swapping for this host");

constexpr char kMagic[8] = {'u', 'r', 'n', 'w', 's', 't', 'o', 'r'};
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderBytes = 64;  // magic .. size, see Snapshot()
constexpr size_t kItemBytes = 16;    // key, priority
constexpr size_t kChecksumBytes = 8;
constexpr uint64_t kMaxDrawsPerBatch = uint64_t{1} << 24;

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

template <typename T>
void Put(std::string& out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  out.append(bytes, sizeof(T));
}

template <typename T>
T Get(std::string_view bytes, size_t offset) {
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof(T));
  return value;
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
      keys_(options.capacity, 0) {}

double WeightStore::TreeWeight(double priority) const {
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
  }
  return weights;
}

uint64_t WeightStore::size() const {
  absl::ReaderMutexLock lock(&mu_);
  return size_;
}

absl::StatusOr<double> WeightStore::PriorityOf(uint64_t key) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = slot_of_.find(key);
  if (it == slot_of_.end()) return absl::NotFoundError(absl::StrFormat("key %d", key));
  return priorities_[it->second];
}

absl::StatusOr<uint64_t> WeightStore::SlotOf(uint64_t key) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = slot_of_.find(key);
  if (it == slot_of_.end()) return absl::NotFoundError(absl::StrFormat("key %d", key));
  return it->second;
}

absl::StatusOr<std::vector<uint64_t>> WeightStore::Insert(absl::Span<const uint64_t> keys,
                                                          absl::Span<const double> priorities) {
  if (!priorities.empty() && priorities.size() != keys.size()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%d keys but %d priorities in one insert", keys.size(), priorities.size()));
  }
  if (keys.size() > capacity_) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "cannot insert %d items at once into a store of capacity %d", keys.size(), capacity_));
  }
  absl::flat_hash_set<uint64_t> distinct;
  distinct.reserve(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    if (!distinct.insert(keys[i]).second) {
      return absl::InvalidArgumentError(
          absl::StrFormat("key %d at index %d repeats an earlier key of the batch", keys[i], i));
    }
  }
  absl::StatusOr<std::vector<double>> weights = TreeWeights(priorities);
  if (!weights.ok()) return weights.status();
  std::vector<double> given(priorities.begin(), priorities.end());

  absl::MutexLock lock(&mu_);
  for (size_t i = 0; i < keys.size(); ++i) {
    if (auto it = slot_of_.find(keys[i]); it != slot_of_.end()) {
      return absl::AlreadyExistsError(absl::StrFormat(
          "key %d at index %d is already stored in slot %d", keys[i], i, it->second));
    }
  }
  if (given.empty()) {
    const double p = initial_priority_.value_or(max_priority_);
    given.assign(keys.size(), p);
    weights->assign(keys.size(), TreeWeight(p));
  }
  std::vector<uint64_t> slots(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    const uint64_t s = next_;
    next_ = next_ + 1 == capacity_ ? 0 : next_ + 1;
    if (s < size_) {
      slot_of_.erase(keys_[s]);  // FIFO eviction of the oldest item
    } else {
      ++size_;
    }
    keys_[s] = keys[i];
    slot_of_[keys[i]] = s;
    slots[i] = s;
  }
  if (absl::Status s = Apply(slots, given, *weights); !s.ok()) return s;
  return slots;
}

absl::Status WeightStore::UpdateSlots(absl::Span<const uint64_t> slots,
                                      absl::Span<const double> priorities) {
  if (slots.size() != priorities.size()) {
    return absl::InvalidArgumentError(absl::StrFormat("%d slots but %d priorities in one update",
                                                      slots.size(), priorities.size()));
  }
  absl::StatusOr<std::vector<double>> weights = TreeWeights(priorities);
  if (!weights.ok()) return weights.status();
  absl::MutexLock lock(&mu_);
  for (size_t i = 0; i < slots.size(); ++i) {
    if (slots[i] >= size_) {
      return absl::InvalidArgumentError(
          absl::StrFormat("slot %d at index %d holds no item (%d of %d slots are filled)", slots[i],
                          i, size_, capacity_));
    }
  }
  return Apply(slots, priorities, *weights);
}

absl::Status WeightStore::UpdateKeys(absl::Span<const uint64_t> keys,
                                     absl::Span<const double> priorities) {
  if (keys.size() != priorities.size()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%d keys but %d priorities in one update", keys.size(), priorities.size()));
  }
  absl::StatusOr<std::vector<double>> weights = TreeWeights(priorities);
  if (!weights.ok()) return weights.status();
  std::vector<uint64_t> slots(keys.size());
  absl::MutexLock lock(&mu_);
  for (size_t i = 0; i < keys.size(); ++i) {
    auto it = slot_of_.find(keys[i]);
    if (it == slot_of_.end()) {
      return absl::NotFoundError(absl::StrFormat("key %d at index %d is not stored", keys[i], i));
    }
    slots[i] = it->second;
  }
  return Apply(slots, priorities, *weights);
}

absl::Status WeightStore::Apply(absl::Span<const uint64_t> slots,
                                absl::Span<const double> priorities,
                                absl::Span<const double> weights) {
  // Everything was validated by the caller, so this cannot fail half way.
  if (absl::Status s = tree_->SetBatch(slots, weights); !s.ok()) return s;
  for (size_t i = 0; i < slots.size(); ++i) {
    priorities_[slots[i]] = priorities[i];
    max_priority_ = std::max(max_priority_, priorities[i]);
  }
  return absl::OkStatus();
}

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
  // Reads the drawn items; the caller holds mu_ (shared is enough).
  const auto describe = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    const double total = tree_->Total();
    const double min_weight = tree_->MinPositive();
    for (size_t j = 0; j < slots.size(); ++j) {
      const double w = tree_->Get(slots[j]);
      draws[j] = {slots[j], keys_[slots[j]], priorities_[slots[j]], w / total,
                  std::pow(w / min_weight, -request.beta)};
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

// Format, little-endian: magic[8] "urnwstor", u32 version, u32 flags (bit 0: initial priority
// set), u64 capacity, f64 alpha, f64 initial priority, f64 max priority seen, u64 next slot,
// u64 size; then size x (u64 key, f64 priority) for slots 0 .. size-1; then the XXH3-64 of all
// preceding bytes.
std::string WeightStore::Snapshot() const {
  std::string out;
  absl::ReaderMutexLock lock(&mu_);
  out.reserve(kHeaderBytes + size_ * kItemBytes + kChecksumBytes);
  out.append(kMagic, sizeof kMagic);
  Put<uint32_t>(out, kVersion);
  Put<uint32_t>(out, initial_priority_.has_value() ? 1 : 0);
  Put<uint64_t>(out, capacity_);
  Put<double>(out, alpha_);
  Put<double>(out, initial_priority_.value_or(0));
  Put<double>(out, max_priority_);
  Put<uint64_t>(out, next_);
  Put<uint64_t>(out, size_);
  for (uint64_t s = 0; s < size_; ++s) {
    Put<uint64_t>(out, keys_[s]);
    Put<double>(out, priorities_[s]);
  }
  Put<uint64_t>(out, XXH3_64bits(out.data(), out.size()));
  return out;
}

absl::StatusOr<std::unique_ptr<WeightStore>> WeightStore::Restore(std::string_view bytes,
                                                                  SumTree::Options tree) {
  const auto damaged = [](const std::string& what) {
    return absl::DataLossError(absl::StrCat("weight store snapshot: ", what));
  };
  if (bytes.size() < kHeaderBytes + kChecksumBytes) {
    return damaged(absl::StrFormat("truncated: %d bytes, a header needs %d", bytes.size(),
                                   kHeaderBytes + kChecksumBytes));
  }
  if (std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0) return damaged("bad magic");
  const uint32_t version = Get<uint32_t>(bytes, 8);
  if (version != kVersion) return damaged(absl::StrFormat("unknown version %d", version));
  const uint32_t flags = Get<uint32_t>(bytes, 12);
  const uint64_t capacity = Get<uint64_t>(bytes, 16);
  const double alpha = Get<double>(bytes, 24);
  const double initial = Get<double>(bytes, 32);
  const double max_priority = Get<double>(bytes, 40);
  const uint64_t next = Get<uint64_t>(bytes, 48);
  const uint64_t size = Get<uint64_t>(bytes, 56);
  if (capacity < 1 || capacity > SumTree::kMaxSlots || size > capacity) {
    return damaged(absl::StrFormat("bad capacity %d or size %d", capacity, size));
  }
  const size_t expected = kHeaderBytes + size * kItemBytes + kChecksumBytes;
  if (bytes.size() != expected) {
    return damaged(absl::StrFormat("%d bytes where %d items need %d (truncated or padded)",
                                   bytes.size(), size, expected));
  }
  const size_t body = expected - kChecksumBytes;
  if (XXH3_64bits(bytes.data(), body) != Get<uint64_t>(bytes, body)) {
    return damaged("checksum mismatch");
  }
  // The checksum matches, so what follows only catches snapshots written by a broken writer.
  if ((flags & ~1u) != 0) return damaged(absl::StrFormat("unknown flags %#x", flags));
  if (next >= capacity || (size < capacity && next != size)) {
    return damaged(absl::StrFormat("next slot %d inconsistent with size %d", next, size));
  }
  if (!CheckPriority(0, max_priority).ok()) return damaged("bad maximum priority");
  WeightStoreOptions options;
  options.capacity = capacity;
  options.alpha = alpha;
  if (flags & 1) options.initial_priority = initial;
  options.tree = tree;
  absl::StatusOr<std::unique_ptr<WeightStore>> store = Create(options);
  if (!store.ok()) return damaged(std::string(store.status().message()));
  WeightStore& w = **store;
  std::vector<double> weights(capacity, 0.0);
  absl::MutexLock lock(&w.mu_);
  for (uint64_t s = 0; s < size; ++s) {
    const uint64_t key = Get<uint64_t>(bytes, kHeaderBytes + s * kItemBytes);
    const double p = Get<double>(bytes, kHeaderBytes + s * kItemBytes + 8);
    absl::StatusOr<std::vector<double>> weight = w.TreeWeights(absl::MakeConstSpan(&p, 1));
    if (!weight.ok()) {
      return damaged(absl::StrFormat("slot %d: %s", s, std::string(weight.status().message())));
    }
    if (!w.slot_of_.emplace(key, s).second) {
      return damaged(absl::StrFormat("key %d is stored twice", key));
    }
    w.keys_[s] = key;
    w.priorities_[s] = p;
    weights[s] = (*weight)[0];
  }
  w.size_ = size;
  w.next_ = next;
  w.max_priority_ = max_priority;
  if (absl::Status s = w.tree_->Assign(weights); !s.ok()) return damaged(std::string(s.message()));
  return store;
}

}  // namespace urn::weights
