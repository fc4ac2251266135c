// SumTree: non-negative weights on n slots, with weighted draws, prefix search and the
// minimum positive weight, laid out for the memory hierarchy rather than the textbook.
//
// Algorithm. A segment ("sum") tree (as used for prioritized replay, Schaul et al., ICLR 2016,
// appendix B.2.1), but 8-ary: a node is 8 doubles = one 64-byte cache line, so a draw reads
// ceil(log8 n) lines instead of log2 n. Level 0 holds the weights themselves; level 1 holds
// the sums of 8-weight groups. A node of level l >= 2 holds, for its 8 children, the running
// prefixes of their sums, the sums and their minimum positive leaves, one line each. A
// descent reads one line per level: the prefixes, or at levels 0 and 1 the values, which it
// scans in registers. Levels 0 and 1 are the large ones, far from the core, so an update
// writes just one line in each. The minimum below a level-2 entry (64 leaves) is kept exactly
// without reading those leaves: a new weight below it replaces it, and only when the slot
// that held it rises are the 64 leaves rescanned (after the batch's walk, all such blocks
// prefetched together, then the minima on their paths recomputed). Batched draws advance all
// descents of a batch level by level in lockstep and prefetch every next line before it is needed,
// so the cache misses of different draws overlap instead of forming one dependent chain per draw;
// a single draw descends alone, and the targets of up to 16 draws with replacement (plain or
// stratified) stay on the stack (a draw at 2^10 slots took ~80 ns with a heap buffer and the
// lockstep loop, ~45 ns without). The prefetches are PREFETCHT1: with PREFETCHT0 draws at 2^27
// slots were ~1.45x slower on AMD Zen 4 (the same at 2^20). Measured there and dropped: staggered
// groups of 8 to 64 descents, each at a different level, so that the misses of the deep levels
// overlap the work near the root (software pipelining; no faster with PREFETCHT0, 0.9x with
// PREFETCHT1), and moving each next line from L2 to L1 8 descents ahead (0.8x at 2^20). A descent
// step is bound by its own latency (the reorder buffer holds ~8 of them), so the AVX-512 step keeps
// the target's chain in vector registers and the prefix scan's serial part to three additions
// (together ~1.35x at 2^20 on Zen 4). The per-node work is SSE2, or AVX2 or AVX-512 where the CPU
// has them (the widest is chosen at run time; identical results). On a Zen-class EPYC VM without
// AVX-512 the AVX2 kernels gave 1.1-1.35x the SSE2 ones for draws at 2^20 and 2^27 slots
// and 1.15-1.35x for updates (k = 256). Levels are mmap'ed with madvise(MADV_HUGEPAGE) (see
// page_array.h). A batch of k updates walks each item up through the levels that have more than k
// entries, in batch order, with the lines of the items 16 ahead prefetched into L2 (PREFETCHT1; 32
// ahead measured ~5% slower at 2^20, PREFETCHW into L1 5-10% slower), and recomputes the smaller
// levels near the root whole, node by node, reading each child's total from its last prefix. Level
// 2 is walked too unless the batch has 4 or more items per level-2 entry: a level-2 entry
// recomputed whole rescans its 64 leaves for the minimum (at 2^14 slots, k = 256, walking it halved
// the time per update). With AVX-512 (and AVX2, before the rewrite below) the walk loads each line
// before writing it and puts the new entry in place in registers (no store-to-load forwarding
// stall), and only the line's total, one pair sum and three additions in Scan's order, is on the
// chain to the next level: the prefixes are formed beside it from the same pair sums and carries
// (~1.1x the SSE2 walk at 2^20, k = 256). The AVX-512 and AVX2 walks interleave 4 items level by
// level (all 4 finish a level, in batch order, before any starts the next, so a line two of them
// share is written last by the later one from a copy that holds the earlier one's entry); the SSE2
// and AVX-512 walks queue the blocks whose minimum must be rescanned into a buffer sized for the
// batch, without a branch or a call (the AVX2 walk branches on the rare slot that held its block's
// minimum) (together ~1.13x at 2^20, k = 256; groups of 2 / 8 / 16 items 0.91 / 0.94 / 0.8 of 4).
// Measured there and dropped:
// the same AVX-512 walk with four dependent cross-lane permute-and-add steps on that chain (~0.85x
// the SSE2 walk), one pass per level over the batch (~15% slower), prefetching the level-2 and
// level-3 lines too (no faster, resp. ~15% slower); omitting the prefix stores altogether gained
// nothing, so the prefix line stays. On the AVX2 VM, also within its noise (+-10%) and dropped:
// AVX2 walks of 2 items, the level-2 lines prefetched. A batch is validated in one branch-free
// pass (AVX2 or AVX-512 where available) before anything is written.
// On that AVX2 VM (Zen 3) the update was bound by instruction throughput (~3.1 per cycle; lines
// already in L2 made it only ~1.1x faster), so the AVX2 walk (where levels >= 2 are walked) is
// written for fewer instructions, ~285 -> ~157 per update at 2^20, k = 256, all of SetBatch
// counted (valgrind): the members in locals (vector stores may alias anything, so the compiler
// reloaded them after each), one scalar store of the new entry instead of the whole line, the
// totals of a group's 4 leaf lines and 4 level-1 lines by one 4-line reduction each (horizontal
// adds, Scan's order), the total of a level >= 2 node from its prefix scan (P_7, the same bits)
// instead of a second summation, minima only lowered on the way up (m = min(m, w), exact unless
// the slot held its block's minimum and rose: then the block is rescanned as before), the
// validation, the recomputation of the levels above the walk and the block rescans in AVX2
// (together 1.28-1.33x the walk before: 3 alternating A/B rounds, medians of 15); then, at the
// walk's top level (3 or more), only the entry and the minimum put per item, that level's
// prefixes and the level above formed after the walk in one pass in memory order (1.05-1.09x).
// CPUs with AVX-512 take this AVX2 walk too wherever levels >= 2 are walked (the AVX-512 walk,
// WalkLines, is kept for batches large against the tree): on Zen 4 at k = 256 it gave 105.6-109.3
// M/s against 89.3-95.6 at 2^14 slots (1.15x), and 55-67 against 41-57 at 2^20, where this
// host's memory made runs vary (3 alternating A/B rounds, medians of 5). There, beyond L2 the
// update rate falls with the tree's size (k = 256: 93, 90, 79, 64, 51, 39 M/s at 2^17, 2^18,
// 2^19, 2^20, 2^21, 2^23 slots), and these were measured at 2^20 and dropped: the level-2 lines
// prefetched too (0.9x), a prefetch distance of 32 items, PREFETCHNTA for the leaf lines (both
// within the noise), and mappings aligned to 2 MiB so that level 1 gets huge pages too
// (~1.035x, within the noise, for up to 2 MiB more memory per level); later, all levels >= 1 in
// one 2 MiB-aligned huge-page mapping (1.00-1.02x) and the pass at the top level only over the
// nodes the batch reached (0.91-1.0x). There, slots confined to 2^14 of the 2^20 slots gave only
// ~1.2x: the memory beyond L2 is not the whole gap to the 2^18 tree (see the benchmark's notes).
// bench/sum_tree_bench.cc measures this against the binary float tree and the alternatives (binary
// lockstep, one draw at a time, SSE2 only, 4 KiB pages).
//
// Number format and error bound. Weights and sums are IEEE doubles. Every internal entry is
// recomputed from its 8 children in one fixed order on every change, never adjusted by a
// delta, so the tree is a pure function of the leaves: after any sequence of updates every
// node is bit-for-bit equal to a fresh rebuild (no drift, ever; Verify() checks it). Against
// exact real arithmetic an entry at level h is within a relative 7h * 2^-53 of the exact sum
// of its leaves (Higham, "Accuracy and Stability of Numerical Algorithms", 2nd ed., section
// 4.2: n - 1 roundings per sum of n terms, in any order), and the
// interval of targets that selects slot i is within an absolute kBoundaryError * Total() of
// the exact [sum of w_j for j < i, sum for j <= i). Hence every draw probability is within
// 2 * kBoundaryError + 2^-52 (the second term: a target has 53 random bits) of w_i / W. Weights
// keep their full 53-bit relative precision at any magnitude, so a 1e-12 next to a 1e12 is
// stored exactly (it is simply drawn with probability ~1e-24, i.e. in practice never).
//
// Never a zero-weight slot, never out of range. The descent picks the first child whose
// running prefix exceeds the target. The prefixes are formed pairwise (see Scan in the .cc)
// so that they never decrease and a child of weight 0 repeats the prefix before it (c + 0 is
// exactly c), so it cannot be first. When rounding leaves the target at or past the last prefix,
// the descent takes the last child with a positive entry instead. An entry is positive exactly
// when some leaf below it is (a double sum of non-negative terms is never below its largest
// term), and slots past n stay 0. So every draw lands on a slot < n whose weight is > 0, by
// construction; when all weights are 0 draws fail with FailedPrecondition.
//
// Complexity (n slots, depth D = max(1, ceil(log8 n)) levels, at most 11 for n = 2^31):
//   Set / FindPrefix: O(D); SetBatch of k: O(k D); draws of k: O(k D), without replacement
//   O(k D) too (at most 2k draws in lockstep, then one at a time, plus the restore); Total /
//   MinPositive: O(1); Assign: O(n).
// Memory: 8 bytes per slot for the weights, 1 at level 1, 3/7 above: about 9.4 bytes per slot
// (1.18 GiB at 2^27 slots).
//
// Input: weights finite, >= 0 and <= kMaxWeight (so that no sum can overflow); slots < size().
// Invalid input is rejected whole with InvalidArgument naming the index and value; nothing
// changes then.
//
// Randomness: draw j of a batch uses urn::random::KeyedStream(seed, Stream::kSumTree, batch)
// .Uniform(j), so a batch is a pure function of (weights, seed, batch number).
//
// Platform: x86-64 (SSE2 is baseline there; AVX2 and AVX-512 are used when the CPU has them).
//
// Thread safety: const methods may run concurrently with each other; everything else needs
// exclusive access (SampleWithoutReplacement modifies the tree temporarily, so it is not const).
#ifndef URN_WEIGHTS_SUM_TREE_H_
#define URN_WEIGHTS_SUM_TREE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "weights/page_array.h"

namespace urn::weights {

class SumTree {
 public:
  static constexpr int kFanout = 8;
  static constexpr uint64_t kMaxSlots = uint64_t{1} << 31;
  // 2^31 weights of at most 2^990 sum to < 2^1021: no sum can overflow.
  static constexpr double kMaxWeight = 0x1p990;
  // Bound on the error of a selection interval's endpoints, relative to Total(), for any
  // n <= kMaxSlots: (7h + 8) ulps at each level h < D <= 11 (entry error, prefix additions,
  // target subtraction) = 473 ulps, plus < 90 for scaling the target by the rounded total;
  // below 2^10 ulps of 2^-53.
  static constexpr double kBoundaryError = 0x1p-43;

  // Instruction sets of the batched draws and updates, narrowest first. Every one performs the
  // same additions in the same order, so draws and trees are bit-identical on any x86-64 CPU.
  enum class Simd { kSse2, kAvx2, kAvx512 };

  struct Options {
    // Back the levels with transparent huge pages (madvise). Off only to measure the cost.
    bool huge_pages = true;
    // Advance the descents of a batch in lockstep with prefetching. Off only to measure.
    bool lockstep = true;
    // The widest instruction set to use where the CPU has it (same results). Lower only to
    // measure or to test.
    Simd max_simd = Simd::kAvx512;
  };

  // A tree of `slots` zero weights. InvalidArgument unless 1 <= slots <= kMaxSlots.
  static absl::StatusOr<std::unique_ptr<SumTree>> Create(uint64_t slots, Options options);
  static absl::StatusOr<std::unique_ptr<SumTree>> Create(uint64_t slots) {
    return Create(slots, Options());
  }

  SumTree(const SumTree&) = delete;
  SumTree& operator=(const SumTree&) = delete;

  uint64_t size() const { return size_; }
  // The instruction set in use: Options::max_simd or the widest the CPU has, whichever is less.
  Simd simd() const { return simd_; }
  // Sum of all weights (as the tree computes it; see the error bound above).
  double Total() const { return total_; }
  // Smallest positive weight, or +infinity when every weight is 0. Exact.
  double MinPositive() const { return min_positive_; }
  // Number of slots whose weight is > 0.
  uint64_t PositiveCount() const { return positive_count_; }
  // The weight of `slot`. REQUIRES: slot < size().
  double Get(uint64_t slot) const { return leaves_[slot]; }

  // Sets one weight, or a batch (later entries win over earlier ones for the same slot).
  // All-or-nothing: on error nothing changes.
  absl::Status Set(uint64_t slot, double weight);
  absl::Status SetBatch(absl::Span<const uint64_t> slots, absl::Span<const double> weights);
  // Replaces all weights (weights.size() == size()) and rebuilds: O(n).
  absl::Status Assign(absl::Span<const double> weights);

  // The slot whose selection interval contains `mass`, i.e. (up to the error bound) the i with
  // sum_{j<i} w_j <= mass < sum_{j<=i} w_j. Mass outside [0, Total()) is clamped to the
  // first / last positive slot. FailedPrecondition when every weight is 0.
  absl::StatusOr<uint64_t> FindPrefix(double mass) const;

  // out.size() independent draws, P(slot i) = w_i / W.
  absl::Status SampleWithReplacement(uint64_t seed, uint64_t batch, absl::Span<uint64_t> out) const;
  // Stratified: draw j is uniform inside the j-th of out.size() equal-mass segments of
  // [0, W) (Schaul et al., appendix B.2.1). Each slot is drawn w_i / W * out.size() times in
  // expectation, with lower variance than independent draws.
  absl::Status SampleStratified(uint64_t seed, uint64_t batch, absl::Span<uint64_t> out) const;
  // out.size() distinct slots, by successive sampling: each next slot is drawn with
  // probability proportional to its weight among the slots not drawn yet. Draws with
  // replacement and skips repeats while that is cheap; otherwise zeroes each drawn slot. The
  // tree is bit-for-bit as before afterwards. FailedPrecondition when fewer than out.size()
  // slots have positive weight.
  absl::Status SampleWithoutReplacement(uint64_t seed, uint64_t batch, absl::Span<uint64_t> out);

  // Checks that every internal entry equals (bit for bit) the value a fresh rebuild from the
  // leaves would give. Internal on failure, naming the level and entry. O(n).
  absl::Status Verify() const;
  // True when both trees hold bit-identical leaves and internal nodes.
  bool IdenticalTo(const SumTree& other) const;

  ~SumTree();

 private:
  // One node of level 2 and up, three cache lines: the running prefixes of the sums of its 8
  // subtrees (all a descent reads), the sums, and the subtrees' minimum positive leaves.
  // Level 1 is only sums (sums1_): it is large and far from the core, so an update writes one
  // line there; descents scan it like a leaf node.
  struct alignas(64) InnerNode {
    double prefix[kFanout];
    double sum[kFanout];
    double min[kFanout];
  };

  SumTree(uint64_t slots, Options options);

  // The sum (as its parent stores it) and the minimum positive leaf of a node.
  double NodeTotal(int level, uint64_t node) const;
  double NodeMinimum(int level, uint64_t node) const;
  // Recomputes all 8 entries of node `index` of level `level` >= 1 from their children.
  void RecomputeNode(int level, uint64_t index);
  // Recomputes every node of the levels >= first_level, and the root.
  void RecomputeAbove(int first_level);
  void PrefetchNode(int level, uint64_t index);
  // The minimum positive leaf of level-1 node `node` (its 64 leaves).
  double BlockMin(uint64_t node) const;
  // Writes validated weights and recomputes everything above them.
  void Apply(absl::Span<const uint64_t> slots, absl::Span<const double> weights);
  // How Apply handles a batch of k: the highest level walked per item (the levels above are
  // recomputed whole), and whether the level-2 / level-3 lines are prefetched.
  struct UpdatePlan {
    int top = 0;
    bool prefetch2 = false;
    bool prefetch3 = false;
  };
  UpdatePlan PlanUpdate(size_t k) const;
  void PrefetchUpdate(const UpdatePlan& plan, uint64_t slot);
  // Apply's walk, SSE2, AVX2 or AVX-512 (same results): writes the leaves and the levels up to
  // plan.top; returns the change in the number of positive weights.
  int64_t ApplyNarrow(const UpdatePlan& plan, absl::Span<const uint64_t> slots,
                      absl::Span<const double> weights);
  int64_t ApplyWide(const UpdatePlan& plan, absl::Span<const uint64_t> slots,
                    absl::Span<const double> weights);
  int64_t ApplyAvx2(const UpdatePlan& plan, absl::Span<const uint64_t> slots,
                    absl::Span<const double> weights);
  template <typename Line>
  int64_t ApplyLines(const UpdatePlan& plan, absl::Span<const uint64_t> slots,
                     absl::Span<const double> weights);
  // One item of the narrow walk: `slot` from weight `old` to `w`, and the levels above up to
  // `top`.
  void WalkItemNarrow(int top, uint64_t slot, double w, double old);
  // G items of the walk with whole lines in registers (AVX2 or AVX-512), interleaved; returns
  // the change in the number of positive weights.
  template <typename Line, size_t G>
  int64_t WalkLines(int top, const uint64_t* slot, const double* weight);
  // The minima during the walk: level-2 entry e2 for new weight w replacing old, and level-l
  // (>= 3) entry e when the minimum below it `changed`. Both return whether theirs changed.
  bool UpdateMin2(uint64_t e2, double w, double old);
  bool UpdateMin(int l, uint64_t e, bool changed);
  // After the walk: rescans the blocks the walk queued in rescan_, fixes the minima above
  // them, and recomputes the levels above top whole. With top_prefixes_stale (the AVX2 walk
  // with top >= 3), level top has its sums and minima but not its prefixes: they are formed,
  // and level top + 1 is filled from them, in one pass in memory order.
  void FinishUpdate(int top, bool top_prefixes_stale);
  void RecomputeRoot();
  // {total, minimum positive weight} as the root node gives them.
  std::pair<double, double> RootValues() const;
  // Descends for targets[0..count), writing slots to out. Targets are consumed.
  void Descend(double* targets, uint64_t* out, size_t count) const;
  void DescendLockstep(double* targets, uint64_t* out, size_t count) const;
  // Advances descents [0, m) by one level, from `level` to the one below, prefetching the
  // lines they read there: node[j] becomes its child, t[j] the target within it.
  void StepNarrow(int level, uint64_t* node, double* t, size_t m) const;
  void StepWide(int level, uint64_t* node, double* t, size_t m) const;
  void StepAvx2(int level, uint64_t* node, double* t, size_t m) const;
  template <typename Kernels>
  void Step(int level, uint64_t* node, double* t, size_t m) const;
  // A line of 8 weights (level 0) or sums (level 1), as the descents read it.
  struct alignas(64) ValueLine {
    double value[kFanout];
  };
  // Step for one level whose nodes are `lines` (InnerNode or ValueLine): node[j] becomes its
  // child and the child's line in `below` is prefetched (none for std::nullptr_t: the leaves,
  // where the kernels may leave the targets unmoved). kRoot: every node[j] is 0, the root.
  template <typename Kernels, bool kRoot, typename Line, typename Below>
  static void StepLevel(const Line* lines, const Below* below, uint64_t* node, double* t, size_t m);
  uint64_t DescendOne(double target) const;

  uint64_t size_;
  Options options_;
  Simd simd_ = Simd::kSse2;
  int depth_;                                // number of levels, leaves included
  std::vector<uint64_t> level_nodes_;        // nodes per level, [0] = leaf nodes
  PageArray<double> leaves_;                 // level_nodes_[0] * kFanout weights
  PageArray<double> sums1_;                  // level 1: level_nodes_[1] * kFanout sums
  std::vector<PageArray<InnerNode>> inner_;  // inner_[l - 1] is level l >= 2; inner_[0] empty
  double total_ = 0;
  double min_positive_;
  uint64_t positive_count_ = 0;
  // Apply's scratch: the level-2 entries whose minimum it rescans are rescan_[0, rescans_).
  std::vector<uint64_t> rescan_;
  size_t rescans_ = 0;
};

}  // namespace urn::weights

#endif  // URN_WEIGHTS_SUM_TREE_H_
