#include "weights/sum_tree.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_format.h"
#include "random/counter_rng.h"

namespace urn::weights {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr size_t kChunk = 256;  // descents advanced in lockstep (their state stays in L1)
constexpr size_t kAhead = 8;    // prefetch distance of update loops, in items

// The one summation order of 8 children, used by updates and rebuilds alike; written so that
// the compiler can pair lanes (c0+c4, c1+c5, ...) in SIMD registers.
inline double NodeSum(const double* c) {
  const double s0 = c[0] + c[4], s1 = c[1] + c[5], s2 = c[2] + c[6], s3 = c[3] + c[7];
  return (s0 + s2) + (s1 + s3);
}

inline double NodeMin(const double* m) {
  double r = m[0];
  for (int j = 1; j < SumTree::kFanout; ++j) r = m[j] < r ? m[j] : r;
  return r;
}

inline double PositiveMin(const double* w) {
  double r = kInf;
  for (int j = 0; j < SumTree::kFanout; ++j) {
    const double x = w[j] > 0 ? w[j] : kInf;
    r = x < r ? x : r;
  }
  return r;
}

// Chooses the child of a node with entries c[0..8) for target *t and moves *t into the child's
// coordinates. The chosen child always has c[k] > 0 (see the header: a zero entry does not
// raise the running prefix; past the last prefix we take the last positive entry and make the
// target +inf, so that every level below does the same). REQUIRES: some c[j] > 0, *t >= 0.
inline int PickChild(const double* c, double* t) {
  double prefix = 0, before = 0;
  int k = 0;
  for (int j = 0; j < SumTree::kFanout; ++j) {
    prefix += c[j];
    const bool passed = prefix <= *t;
    k += passed;
    before = passed ? prefix : before;
  }
  if (k == SumTree::kFanout) [[unlikely]] {
    k = SumTree::kFanout - 1;
    while (c[k] == 0) --k;
    *t = kInf;
    return k;
  }
  *t -= before;
  return k;
}

inline void Prefetch(const void* p) { __builtin_prefetch(p, 0, 3); }
inline void PrefetchForWrite(const void* p) { __builtin_prefetch(p, 1, 3); }

absl::Status ValidateWeight(size_t index, double w) {
  if (!(w >= 0 && w <= SumTree::kMaxWeight)) {  // also rejects NaN
    return absl::InvalidArgumentError(absl::StrFormat(
        "weight at index %d is %g; weights must be finite, >= 0 and <= 2^990", index, w));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<SumTree>> SumTree::Create(uint64_t slots, Options options) {
  if (slots < 1 || slots > kMaxSlots) {
    return absl::InvalidArgumentError(
        absl::StrFormat("a sum tree has between 1 and 2^31 slots, not %d", slots));
  }
  return std::unique_ptr<SumTree>(new SumTree(slots, options));
}

SumTree::SumTree(uint64_t slots, Options options)
    : size_(slots), options_(options), min_positive_(kInf) {
  level_nodes_.push_back((slots + kFanout - 1) / kFanout);
  while (level_nodes_.back() > 1) {
    level_nodes_.push_back((level_nodes_.back() + kFanout - 1) / kFanout);
  }
  depth_ = static_cast<int>(level_nodes_.size());
  leaves_ = PageArray<double>(level_nodes_[0] * kFanout, options.huge_pages);
  for (int l = 1; l < depth_; ++l) {
    inner_.emplace_back(level_nodes_[l], options.huge_pages);
    for (InnerNode& node : absl::MakeSpan(inner_.back().data(), level_nodes_[l])) {
      std::fill(node.min, node.min + kFanout, kInf);
    }
  }
}

SumTree::~SumTree() = default;

void SumTree::RecomputeEntry(int level, uint64_t entry) {
  const double* child = NodeSums(level - 1, entry);
  const double min = level == 1 ? PositiveMin(child) : NodeMin(inner_[level - 2][entry].min);
  InnerNode& node = inner_[level - 1][entry / kFanout];
  node.sum[entry % kFanout] = NodeSum(child);
  node.min[entry % kFanout] = min;
}

void SumTree::RecomputeRoot() {
  total_ = NodeSum(NodeSums(depth_ - 1, 0));
  min_positive_ = depth_ == 1 ? PositiveMin(leaves_.data()) : NodeMin(inner_[depth_ - 2][0].min);
}

void SumTree::RecomputeAbove(absl::Span<const uint64_t> slots) {
  const size_t k = slots.size();
  for (int l = 1; l < depth_; ++l) {
    const int shift = 3 * l;
    const uint64_t entries = level_nodes_[l - 1];
    if (entries <= k) {
      // Near the root the batch's paths merge: recomputing the whole (small) level is cheaper
      // than finding the distinct entries.
      for (uint64_t e = 0; e < entries; ++e) RecomputeEntry(l, e);
      continue;
    }
    uint64_t previous = ~uint64_t{0};
    for (size_t i = 0; i < k; ++i) {
      if (i + kAhead < k) {
        const uint64_t ahead = slots[i + kAhead] >> shift;
        Prefetch(NodeSums(l - 1, ahead));
        if (l >= 2) Prefetch(inner_[l - 2][ahead].min);
        PrefetchForWrite(&inner_[l - 1][ahead / kFanout]);
      }
      const uint64_t e = slots[i] >> shift;
      if (e == previous) continue;
      previous = e;
      RecomputeEntry(l, e);
    }
  }
  RecomputeRoot();
}

void SumTree::WriteLeaves(absl::Span<const uint64_t> slots, absl::Span<const double> weights) {
  const size_t k = slots.size();
  for (size_t i = 0; i < k; ++i) {
    if (i + kAhead < k) PrefetchForWrite(&leaves_[slots[i + kAhead]]);
    double& leaf = leaves_[slots[i]];
    const double w = weights[i] + 0.0;  // -0 becomes +0, so equal weights are equal bits
    positive_count_ += static_cast<int64_t>(w > 0) - static_cast<int64_t>(leaf > 0);
    leaf = w;
  }
}

absl::Status SumTree::Set(uint64_t slot, double weight) {
  return SetBatch(absl::MakeConstSpan(&slot, 1), absl::MakeConstSpan(&weight, 1));
}

absl::Status SumTree::SetBatch(absl::Span<const uint64_t> slots, absl::Span<const double> weights) {
  if (slots.size() != weights.size()) {
    return absl::InvalidArgumentError(absl::StrFormat("%d slots but %d weights in one update batch",
                                                      slots.size(), weights.size()));
  }
  for (size_t i = 0; i < slots.size(); ++i) {
    if (slots[i] >= size_) {
      return absl::InvalidArgumentError(
          absl::StrFormat("slot at index %d is %d, outside [0, %d)", i, slots[i], size_));
    }
    if (absl::Status s = ValidateWeight(i, weights[i]); !s.ok()) return s;
  }
  WriteLeaves(slots, weights);
  RecomputeAbove(slots);
  return absl::OkStatus();
}

absl::Status SumTree::Assign(absl::Span<const double> weights) {
  if (weights.size() != size_) {
    return absl::InvalidArgumentError(
        absl::StrFormat("Assign needs %d weights, got %d", size_, weights.size()));
  }
  for (size_t i = 0; i < weights.size(); ++i) {
    if (absl::Status s = ValidateWeight(i, weights[i]); !s.ok()) return s;
  }
  positive_count_ = 0;
  for (size_t i = 0; i < weights.size(); ++i) {
    leaves_[i] = weights[i] + 0.0;
    positive_count_ += leaves_[i] > 0;
  }
  for (int l = 1; l < depth_; ++l) {
    for (uint64_t e = 0; e < level_nodes_[l - 1]; ++e) RecomputeEntry(l, e);
  }
  RecomputeRoot();
  return absl::OkStatus();
}

uint64_t SumTree::DescendOne(double target) const {
  uint64_t node = 0;
  for (int l = depth_ - 1; l >= 0; --l) {
    node = node * kFanout + PickChild(NodeSums(l, node), &target);
  }
  return node;
}

void SumTree::DescendLockstep(double* targets, uint64_t* out, size_t count) const {
  for (size_t base = 0; base < count; base += kChunk) {
    const size_t m = std::min(kChunk, count - base);
    uint64_t* node = out + base;
    double* t = targets + base;
    std::fill(node, node + m, 0);
    for (int l = depth_ - 1; l >= 1; --l) {
      const InnerNode* level = inner_[l - 1].data();
      for (size_t j = 0; j < m; ++j) {
        node[j] = node[j] * kFanout + PickChild(level[node[j]].sum, &t[j]);
        Prefetch(NodeSums(l - 1, node[j]));
      }
    }
    const double* leaves = leaves_.data();
    for (size_t j = 0; j < m; ++j) {
      node[j] = node[j] * kFanout + PickChild(leaves + node[j] * kFanout, &t[j]);
    }
  }
}

void SumTree::Descend(double* targets, uint64_t* out, size_t count) const {
  if (options_.lockstep) {
    DescendLockstep(targets, out, count);
  } else {
    for (size_t j = 0; j < count; ++j) out[j] = DescendOne(targets[j]);
  }
}

absl::StatusOr<uint64_t> SumTree::FindPrefix(double mass) const {
  if (std::isnan(mass)) return absl::InvalidArgumentError("FindPrefix of NaN");
  if (!(total_ > 0)) return absl::FailedPreconditionError("every weight is 0");
  return DescendOne(std::max(mass, 0.0));
}

absl::Status SumTree::SampleWithReplacement(uint64_t seed, uint64_t batch,
                                            absl::Span<uint64_t> out) const {
  if (out.empty()) return absl::OkStatus();
  if (!(total_ > 0)) return absl::FailedPreconditionError("cannot draw: every weight is 0");
  const random::KeyedStream rng(seed, random::Stream::kSumTree, batch);
  std::vector<double> targets(out.size());
  for (size_t j = 0; j < out.size(); ++j) targets[j] = (1.0 - rng.Uniform(j)) * total_;
  Descend(targets.data(), out.data(), out.size());
  return absl::OkStatus();
}

absl::Status SumTree::SampleStratified(uint64_t seed, uint64_t batch,
                                       absl::Span<uint64_t> out) const {
  if (out.empty()) return absl::OkStatus();
  if (!(total_ > 0)) return absl::FailedPreconditionError("cannot draw: every weight is 0");
  const random::KeyedStream rng(seed, random::Stream::kSumTree, batch);
  const double segment = total_ / static_cast<double>(out.size());
  std::vector<double> targets(out.size());
  for (size_t j = 0; j < out.size(); ++j) {
    targets[j] = (static_cast<double>(j) + (1.0 - rng.Uniform(j))) * segment;
  }
  Descend(targets.data(), out.data(), out.size());
  return absl::OkStatus();
}

absl::Status SumTree::SampleWithoutReplacement(uint64_t seed, uint64_t batch,
                                               absl::Span<uint64_t> out) {
  const size_t k = out.size();
  if (k == 0) return absl::OkStatus();
  if (k > positive_count_) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "cannot draw %d distinct slots: only %d have positive weight", k, positive_count_));
  }
  const random::KeyedStream rng(seed, random::Stream::kSumTree, batch);
  uint64_t key = 0;
  size_t have = 0;
  absl::flat_hash_set<uint64_t> taken;
  taken.reserve(k);
  std::vector<uint64_t> zeroed;  // slots set to 0 for now, with their weights in `saved`
  std::vector<double> saved;
  const auto zero_from = [&](size_t first) {
    const size_t old = zeroed.size();
    for (size_t i = first; i < have; ++i) {
      zeroed.push_back(out[i]);
      saved.push_back(leaves_[out[i]]);
    }
    const std::vector<double> zeros(have - first, 0.0);
    const auto slots = absl::MakeConstSpan(zeroed).subspan(old);
    WriteLeaves(slots, zeros);
    RecomputeAbove(slots);
  };

  // Phase 1: rounds of independent draws in lockstep, keeping first occurrences. A draw that
  // repeats a taken slot is rejected, so each kept slot is distributed as successive sampling
  // requires. Between rounds the taken slots are zeroed, which only removes rejections.
  std::vector<double> targets;
  std::vector<uint64_t> drawn;
  while (have < k) {
    const size_t m = k - have;
    targets.resize(m);
    drawn.resize(m);
    for (size_t j = 0; j < m; ++j) targets[j] = (1.0 - rng.Uniform(key++)) * total_;
    Descend(targets.data(), drawn.data(), m);
    const size_t before = have;
    for (uint64_t s : drawn) {
      if (taken.insert(s).second) out[have++] = s;
    }
    if (have == k) break;
    zero_from(before);
    if (2 * (have - before) < m) break;  // mass is concentrated: rejections would dominate
  }
  // Phase 2: one draw at a time, zeroing each; no rejections, O(D) per slot.
  while (have < k) {
    out[have] = DescendOne((1.0 - rng.Uniform(key++)) * total_);
    ++have;
    zero_from(have - 1);
  }

  // Restore. Internal entries are pure functions of the leaves, so the tree is bit-identical.
  WriteLeaves(zeroed, saved);
  RecomputeAbove(zeroed);
  return absl::OkStatus();
}

absl::Status SumTree::Verify() const {
  const auto bits_equal = [](double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; };
  for (uint64_t i = size_; i < leaves_.size(); ++i) {
    if (leaves_[i] != 0) return absl::InternalError(absl::StrFormat("padding leaf %d != 0", i));
  }
  uint64_t positives = 0;
  for (uint64_t i = 0; i < size_; ++i) positives += leaves_[i] > 0;
  if (positives != positive_count_) {
    return absl::InternalError(absl::StrFormat("positive count %d, but %d leaves are positive",
                                               positive_count_, positives));
  }
  for (int l = 1; l < depth_; ++l) {
    for (uint64_t e = 0; e < level_nodes_[l] * kFanout; ++e) {
      double sum = 0, min = kInf;
      if (e < level_nodes_[l - 1]) {
        const double* child = NodeSums(l - 1, e);
        sum = NodeSum(child);
        min = l == 1 ? PositiveMin(child) : NodeMin(inner_[l - 2][e].min);
      }
      const InnerNode& node = inner_[l - 1][e / kFanout];
      if (!bits_equal(node.sum[e % kFanout], sum) || !bits_equal(node.min[e % kFanout], min)) {
        return absl::InternalError(
            absl::StrFormat("level %d entry %d holds (%a, %a), a rebuild gives (%a, %a)", l, e,
                            node.sum[e % kFanout], node.min[e % kFanout], sum, min));
      }
    }
  }
  const double* root = NodeSums(depth_ - 1, 0);
  const double min = depth_ == 1 ? PositiveMin(leaves_.data()) : NodeMin(inner_[depth_ - 2][0].min);
  if (!bits_equal(total_, NodeSum(root)) || !bits_equal(min_positive_, min)) {
    return absl::InternalError("total or minimum differs from a rebuild");
  }
  return absl::OkStatus();
}

bool SumTree::IdenticalTo(const SumTree& other) const {
  if (size_ != other.size_ || depth_ != other.depth_ || positive_count_ != other.positive_count_ ||
      std::memcmp(&total_, &other.total_, sizeof total_) != 0 ||
      std::memcmp(&min_positive_, &other.min_positive_, sizeof min_positive_) != 0) {
    return false;
  }
  if (std::memcmp(leaves_.data(), other.leaves_.data(), leaves_.size() * sizeof(double)) != 0) {
    return false;
  }
  for (size_t l = 0; l < inner_.size(); ++l) {
    if (std::memcmp(inner_[l].data(), other.inner_[l].data(),
                    inner_[l].size() * sizeof(InnerNode)) != 0) {
      return false;
    }
  }
  return true;
}

}  // namespace urn::weights
