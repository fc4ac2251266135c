// Sum tree draws and updates: urn's 8-ary lockstep tree (src/weights/sum_tree.h) against the
// textbook binary float tree of the seed essay "Efficient Sampling Algorithms", which we wrote
// here from its description (BM_Baseline*), in the same run. Arguments are /slots/batch;
// items_per_second counts draws or updates.
//
//   ./build/bench/urn_bench --benchmark_filter='^BM_(Baseline)?SumTree(Sample|Update)/'
//       --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//
// (The same filter also shows, last, updates at 2^14 slots and single draws at 2^10.)
//
// Alternatives measured (the layout kept is the first): BM_SumTreeSampleOneByOne (same tree,
// descents one after the other), BM_SumTreeSampleSmallPages (no madvise(MADV_HUGEPAGE)),
// BM_SumTreeSampleSse2 (SSE2 kernels instead of AVX-512), BM_SumTree{Sample,Update}Avx2 (AVX2),
// BM_BinaryLockstepSample (the binary float tree with lockstep descents and prefetching),
// BM_SumTreeUpdateSse2 (the SSE2 update walk, ~0.92x the AVX-512 one). Update variants measured at
// 2^20 slots, k = 256, interleaved in one run (items/s relative to the kept one): AVX-512 walk with
// a permute-and-add ScanWide on the chain from level to level 0.78, one pass per level 0.85,
// prefetch distance 32 items 0.95, level-2 and level-3 lines prefetched too 0.85, old whole-node
// RecomputeAbove 0.95, 64-leaf rescans inline instead of deferred and batched 0.98. Draws: the
// prefix before the chosen child as a plain load from the stored line instead of a permute, 0.7
// (2^20) / 0.9 (2^27); descent prefetches with PREFETCHT0 instead of PREFETCHT1 1.0 (2^20) / 0.69
// (2^27), with PREFETCHNTA 0.74 (2^27); staggered groups of 32 / 64 descents (each group at a
// different level) 0.85 / 0.9 (2^27); update prefetches with PREFETCHW (for writing, into L1)
// instead of PREFETCHT1 0.9-0.95, 8 / 24 / 32 items ahead instead of 16 0.91 / 1.01 / 0.95;
// prefetching the batch's slot and weight arrays ahead of the validation pass 0.97-1.0.
//
// Figures (medians of 5 repetitions, items/s, two runs of the five benchmarks below on a shared
// 2-core AMD EPYC Zen 4 VM with another build running; baseline in the same run):
//   draws 2^20:   38.6 / 37.7 M/s vs 5.0 / 5.2 M/s   7.7x / 7.3x   (before this change ~6.7x)
//   draws 2^27:   15.8 / 19.5 M/s vs 2.37 / 2.21 M/s 6.7x / 8.8x   (before ~6.1-6.8x)
//   updates 2^20: 39.6 / 35.0 M/s vs 12.5 / 14.1 M/s 3.2x / 2.5x   (before 2.3-3.2x)
// The baseline's update rate alone swung from 8 to 20 M/s between runs on that machine.
// After the 4-item interleaved walk (one run, medians of 5): updates 2^20 48.8 M/s vs 19.7 M/s
// (2.5x; in other runs the baseline alone gave 14 to 28 M/s), draws 2^20 40.0 vs 6.0 M/s
// (6.7x), draws 2^27 22.8 vs 2.45 M/s (9.3x).
// After the update prefetches moved to L2 (five runs of the command above, 2026-11-22):
// updates 2^20 46.1-49.8 M/s vs 13.7-18.2 M/s, 2.73x-3.55x (median 3.07x; before, that day,
// 2.67-2.85x); draws 2^20 6.5-9.3x, 2^27 7.3-11.2x.
// The same binary on a quieter day (five runs of the command above, 2026-11-22 evening): ours
// 47.0-51.7 M/s, the baseline 17.2 / 18.4 / 21.5 / 29.8 / 22.3 M/s, so updates 2.91 / 2.74 /
// 2.40 / 1.58 / 2.15x: the baseline's walk (20 dependent levels, all in L2/L3) gains the most
// when the machine is quiet. Draws 2^20 5.6-7.5x, 2^27 8.4-9.0x. Measured that evening and not
// kept (updates, alternating binaries): the walk's arrays in locals and bit-pattern minimum
// compares (13% fewer instructions) 1.00-1.02; a group of 8 items 0.97; PREFETCHT0 of the next
// group's lines 1.0; walking one level more per item (top 4) 0.93. Without any line store the
// walk gained 10-18%, without the prefix stores 8%: no single cost dominates.
// On another host, a 2-core AMD EPYC VM exposing AVX2 but not AVX-512 (2026-11-23), with the AVX2
// kernels (three runs of the command above, medians of 5): draws 2^20 22.3 / 27.3 / 20.9 M/s vs
// 3.86 / 4.01 / 4.10 M/s (5.8x / 6.8x / 5.1x), draws 2^27 11.3 / 9.0 / 10.3 M/s vs 1.74 / 1.60 /
// 1.63 M/s (6.5x / 5.6x / 6.3x), updates 2^20 29.9 / 26.0 / 22.3 M/s vs 8.8 / 8.7 / 9.8 M/s
// (3.4x / 3.0x / 2.3x). Before them (SSE2 kernels, same host): draws 2^20 4.5x / 5.2x, 2^27
// 5.4x / 5.9x, updates 2.4x / 2.2x. Same binary, AVX2 against SSE2 in one run
// (BM_SumTree*Avx2 / *Sse2): draws 1.1-1.35x, updates 1.15-1.35x.
// Back on an AVX-512 Zen 4 VM (2026-11-23), after the AVX-512 draw step moved the target's chain
// off the general registers (see sum_tree.h; A/B against the step before, 6 alternating rounds:
// draws 2^20 30.4 -> 39.5 M/s, 2^27 16.7 -> 17.5 M/s), six runs of the command above: draws
// 2^20 30.7-49.4 M/s vs 3.9-6.0 M/s (5.6x-8.9x), draws 2^27 13.8-25.7 M/s vs 1.6-2.3 M/s
// (5.98x-12.6x), updates 2^20 33.3-51.7 M/s vs 9.8-13.6 M/s (3.02x-5.26x). Before it, five runs
// the same day: draws 2^20 4.8x-9.3x, 2^27 6.3x-9.0x, updates 2.6x-3.9x. Measured the next
// day and dropped (5 alternating rounds): the leaf step without the target update it does not
// need (the compiler then drops the maximum and subtraction, ~9 of ~250 instructions per draw):
// draws 2^20 0.83-1.02x of the kept step, 2^27 0.81-1.11x.
// Measured on 2026-11-23 (Zen 4 VM; alternating binaries, 2-3 rounds of medians of 3) and not
// kept. Updates 2^20: the walk in two stages, levels 0-1 of a group of 4 beside levels 2-3 of
// the group before (software pipelining) 0.93-0.97x; PREFETCHT0 of the next group's level-2/3
// sum and prefix lines 0.88-1.04x; skipping the minima in RecomputeAbove when no minimum at the
// walk's top level changed 0.92-0.95x (one did in ~60% of batches); levels of 512 KiB and more
// mapped 2 MiB aligned in whole huge pages 0.94-1.05x (draws 2^27 0.95-1.09x); the walk
// compiled for its top level (no level loop at run time) and without the per-item prefetch
// bounds checks 0.94-1.03x, although valgrind counts ~245 instructions per item in the AVX2
// walk (the AVX-512 one cannot run there); -O2 or loop alignment flags no gain. Inner levels
// without their prefix lines, scanned from the sums as levels 0-1 are: updates 1.05-1.2x but
// draws 2^20 0.73x. Where the update time goes, the same day: without prefetching 0.39-0.42x;
// slots confined to the first 2^17 / 2^14 slots (their lines hot in L2) only 1.09x / 1.2x;
// without the level-3 step (an upper bound, not a correct tree) 1.15-1.24x; without the minima
// 1.02-1.16x; without the level-2/3 prefixes 1.09-1.16x. No one cost dominates. That day ours
// gave 47-55 M/s and the baseline alone 13.8-27.7 M/s: updates 1.9x-3.4x, at least 3x in 2 of
// the 4 runs of the command above (draws 2^20 7.3x-13.6x, 2^27 9.5x-11.5x).
// 2026-11-24 (Zen 4 VM, L3 32 MiB), five runs of the command above: updates 2^20 39.3 / 47.1 /
// 49.8 / 50.7 / 35.4 M/s vs 12.6 / 17.9 / 12.4 / 17.3 / 9.4 M/s (3.11x / 2.63x / 4.03x / 2.92x /
// 3.76x), draws 2^20 5.5x-11.5x, 2^27 8.9x-13.1x. Upper bounds measured that day (not correct
// trees; alternating binaries, 3 rounds): the walk without any minimum work 42.0-56.6 M/s against
// 46.7-49.6 M/s (within the noise), and, without minima, walking to level 2 only and recomputing
// level 3 whole (256 nodes, 2048 children) 32.8-37.5 M/s: recomputing a level from its children
// costs more than the walk's steps there even where the batch's paths share most nodes.
// Also measured on 2026-11-24 (a standalone sketch, not kept): 64-bit fixed point, the layout
// the issue allows besides doubles. Leaves stay doubles; each node above holds 8 integer
// prefixes of its children's rounded weights, so an update adds the exact integer delta to the
// prefixes right of its entry (one masked AVX-512 add per level, nothing read from the
// children), and the levels with at most k entries are recomputed once per batch (without that,
// the store-to-load chain through the root line held the sketch to ~35 M/s). With a 64-leaf
// block minimum and no validation, positive count or rescaling of the fixed-point unit, it gave
// 52-63 M/s against ours 36-51 M/s in the same rounds (3 alternating rounds, medians of 3), and
// 89-100 M/s with all its lines hot in L2. So even that lower bound on its cost gains ~1.2x, and
// a random leaf line and its level-1 line read and written per update cap any layout near
// 60-70 M/s at 2^20 here (the leaves alone are 8 MiB): below the ~80 M/s that 3x over the
// baseline's quiet-host 27 M/s asks. It would also round every weight to a multiple of a unit
// set by the largest (43 bits at 2^20 slots, 36 at 2^27) instead of keeping 53.
// 2026-11-25 (the AVX2 EPYC VM), not kept: levels >= 2 as three separate arrays (all prefix
// lines together, then the sums, then the minima), so that descents read a denser array of
// prefix lines. Five alternating rounds against the kept layout (medians of 3): draws 2^27
// 0.75-1.57x, 2^20 0.83-1.24x, updates 0.75-1.24x (lower in 4 of 5 rounds): no gain beyond
// this host's noise, and updates then touch three pages per node instead of one.
// That day, three runs of the command above: draws 2^20 6.43x / 5.68x / 5.90x, draws 2^27
// 4.74x / 6.79x / 6.07x, updates 2^20 2.91x / 3.00x / 3.42x.
// 2026-11-25 (the AVX2 Zen 3 VM, no perf counters; valgrind counts instructions): the update was
// bound by instruction throughput there (~3.1 per cycle), so the AVX2 walk was rewritten for
// fewer (see sum_tree.h), ~285 -> ~157 per update. Before, four runs of the command above:
// updates 2^20 2.59x / 2.17x / 2.95x / 2.98x. After, three runs: updates 37.8 / 43.2 / 34.9 M/s
// vs 8.9 / 8.9 / 9.2 M/s (4.24x / 4.87x / 3.79x); draws (unchanged code) 2^20 6.71x / 7.75x /
// 6.18x, 2^27 9.1 / 11.4 / 12.5 M/s vs 1.84 / 1.87 / 1.81 M/s (4.95x / 6.10x / 6.91x). Our draws
// at 2^27 swing between ~8 and ~14 M/s from process to process on that VM (and within one, tree
// rebuilt: 59-94 ns a draw); 4 KiB pages instead of huge pages: 5.9 against 12.5 M/s. Measured that
// day and not kept (A/B, medians of 15): level-2 lines prefetched with the leaf and level-1 ones
// (all three 0.91x; the sum line, or the sum and minimum lines, 1.01-1.03x, within the noise);
// groups of 8 items instead of 4 0.93-1.03x.
// 2026-11-25, later (same VM): the draw step reads each level's array addresses once, the root
// has its own loop, and the AVX2 and SSE2 leaf steps do not move the target (A/B in one process,
// medians of 15: 1.15x at 2^20, 0.95-1.03x at 2^27). Valgrind counted ~327 instructions per draw
// at 2^20 before (296 in the steps), ~2.4 per cycle. Cycles per descent by level at 2^27 (rdtsc
// around each pass, one run, 72.6 ns a draw): levels 8..3 5-17 each, level 2 22, level 1 57,
// level 0 28 (11-36 across runs): the pass that reads level 1's lines (128 MiB) and prefetches
// the leaves' (1 GiB) costs the most. Without those leaf prefetches it takes ~20 cycles and the
// leaf pass 80-100 (without the level-1 prefetches, level 1's pass takes 111-118): the prefetch
// instructions wait for the memory system, so the leaf lines' fetch (~13-17 ns a line) lands in
// the pass that issues them. Measured and not kept: the prefetches in a second loop after
// each level's selects 0.73-0.98x (2^27) and 0.76x (2^20), so the prefetch's lead matters; two
// groups of 128 descents staggered by 2 or 3 levels 0.89-1.21x (2^27, neutral over 6 runs),
// and with the two groups' passes fused into one loop (each descent's level chosen at run time),
// staggered by 3, 5 or 6 levels, 0.81-0.92x (2^27);
// t -= P_(k-1) as a load from the prefix line instead of the masked maximum 0.95x. Standalone
// sketches of the 2^27 memory floor (256 lockstep descents, one load per level, no selects): 30 ns
// a descent for levels 2..0 (~10 ns a line, which is also what 256 independent prefetched line
// loads over 1 GiB cost), so selects and memory add up rather than overlap; each level-1 line
// stored beside its 8 leaf lines (one 576-byte block) 0.86-0.92x; inner prefix lines packed
// apart from the sum and minimum lines 1.00-1.03x. Three runs of the command above after the
// change: draws 2^20 9.76x / 5.14x / 7.38x, 2^27 5.68x / 8.44x / 4.78x, updates 3.15x / 4.02x /
// 2.16x (the baseline's updates 13.7 / 8.6 / 16.7 M/s); three more after CI: draws 2^20 7.72x /
// 7.03x / 6.84x, 2^27 7.16x / 6.33x / 6.50x, updates 3.09x / 4.66x / 4.08x.
// 2026-11-25, Zen 4 VM with AVX-512 (updates 2^20, k = 256; one binary with a switch, or old
// against new, 3 alternating rounds, medians of 3-5). Where the time goes: slots confined to the
// first 2^18 / 2^16 / 2^14 slots of the 2^20 tree 76 / 80 / 81-82 M/s against 67-68 with all
// (a 2^18 tree: 88-90), so the memory beyond L2 costs ~1.2x; without FinishUpdate's pass over the
// top level (a wrong tree, an upper bound) 77-81 against 66-67 M/s; a loop doing only the
// update's memory accesses (read-modify-write of the leaf's and the level-1 line, prefetched 16
// ahead; a standalone sketch) 2.4 ns an update, and 6.1 ns with the level-2 and level-3 lines
// too, so the misses themselves are not the limit. Dropped: levels >= 1 packed into one 2 MiB
// aligned mapping, all of it on huge pages (smaps showed it), 1.00-1.02x (~1.44 MiB of inner
// levels then sit on one TLB entry); the top level's pass only over the nodes the batch reached
// (~63% at k = 256; flags set by the walk, a bitmap or bytes) 0.91-1.0x; level 3 walked per item
// too, the pass then at level 4 (top = the first level with at most k / 2, k / 4 or k / 8 nodes)
// 0.91-0.95x.
// 2026-11-26, a 2-core AMD EPYC VM of CPU family 26 (Zen 5: AVX-512 with full 512-bit units, L2 1
// MiB a core, L3 32 MiB), seven runs of the command above: draws 2^20 76.6-80.6 M/s vs 6.7-8.6
// M/s (9.0x-11.4x), draws 2^27 37.4-41.7 M/s vs 3.0-3.5 M/s (11.4x-13.4x), updates 2^20
// 73.6-92.2 M/s vs 19.6 / 24.5 / 30.5 / 46.4 / 44.2 / 46.8 / 40.0 M/s (3.76x / 3.09x / 2.46x /
// 1.62x / 1.97x / 1.97x / 2.20x). The baseline's update rate more than doubled over the session
// (the host's other load, presumably) while ours moved far less, so at the baseline's 40-47 M/s
// 3x asks 120-140 M/s at 2^20: about what this layout gives with the whole tree in L2 (2^14
// slots: 133-153 M/s, the baseline 97-101).
// Measured that day (one binary with a switch, 2-3 alternating rounds of medians of 3-5) and all
// within the rounds' spread (77-93 M/s for the kept walk): the level-2 sum line, or sum and minimum
// lines, prefetched with the leaf and level-1 lines; those two prefetched with PREFETCHT0; 24 or 32
// items ahead; the AVX-512 WalkLines instead of the AVX2 walk. 8 items ahead: 0.80-0.92x.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "random/counter_rng.h"
#include "weights/page_array.h"
#include "weights/sum_tree.h"

namespace urn::weights {
namespace {

using random::KeyedStream;
using random::Stream;

// The essay's tree: floats in an implicit binary heap, node i has children 2i and 2i+1, the
// leaves are nodes n..2n-1 (n a power of two here); one root-to-leaf descent per draw, and an
// update walks to the root recomputing each parent from its two children.
class BaselineSumTree {
 public:
  explicit BaselineSumTree(uint64_t n) : n_(n), w_(2 * n, false) {}
  void Set(uint64_t slot, float weight) {
    uint64_t j = n_ + slot;
    w_[j] = weight;
    while (j > 1) {
      j /= 2;
      w_[j] = w_[2 * j] + w_[2 * j + 1];
    }
  }
  void Build() {
    for (uint64_t j = n_ - 1; j >= 1; --j) w_[j] = w_[2 * j] + w_[2 * j + 1];
  }
  float& leaf(uint64_t slot) { return w_[n_ + slot]; }
  uint64_t Sample(float u) const {
    float v = u * w_[1];
    uint64_t j = 1;
    while (j < n_) {
      j *= 2;
      if (w_[j] < v) {
        v -= w_[j];
        j += 1;
      }
    }
    return j - n_;
  }
  // The same tree with the descents of a batch in lockstep and the next node prefetched.
  void SampleLockstep(const float* u, uint64_t* out, size_t m) const {
    std::vector<float> v(m);
    for (size_t i = 0; i < m; ++i) {
      v[i] = u[i] * w_[1];
      out[i] = 1;
    }
    for (uint64_t level = 1; level < n_; level *= 2) {
      for (size_t i = 0; i < m; ++i) {
        uint64_t j = out[i] * 2;
        if (w_[j] < v[i]) {
          v[i] -= w_[j];
          j += 1;
        }
        out[i] = j;
        __builtin_prefetch(&w_[2 * j]);
      }
    }
    for (size_t i = 0; i < m; ++i) out[i] -= n_;
  }

 private:
  uint64_t n_;
  PageArray<float> w_;
};

float Weight(uint64_t i) { return static_cast<float>(KeyedStream(1, Stream::kSumTree).Uniform(i)); }

// Trees are expensive to build at 2^27 slots, so each kind keeps one, rebuilt when the size or
// the options change.
BaselineSumTree& Baseline(uint64_t n) {
  static uint64_t built = 0;
  static std::unique_ptr<BaselineSumTree> tree;
  if (built != n) {
    tree.reset();
    tree = std::make_unique<BaselineSumTree>(n);
    for (uint64_t i = 0; i < n; ++i) tree->leaf(i) = Weight(i);
    tree->Build();
    built = n;
  }
  return *tree;
}

SumTree& Ours(uint64_t n, SumTree::Options options) {
  static uint64_t built = 0;
  static SumTree::Options built_options;
  static std::unique_ptr<SumTree> tree;
  if (built != n || built_options.huge_pages != options.huge_pages ||
      built_options.lockstep != options.lockstep || built_options.max_simd != options.max_simd) {
    tree.reset();
    tree = *SumTree::Create(n, options);
    constexpr uint64_t kStep = 1 << 16;
    std::vector<uint64_t> slots(kStep);
    std::vector<double> weights(kStep);
    for (uint64_t first = 0; first < n; first += kStep) {
      const uint64_t m = std::min(kStep, n - first);
      slots.resize(m);
      weights.resize(m);
      for (uint64_t i = 0; i < m; ++i) {
        slots[i] = first + i;
        weights[i] = Weight(first + i);
      }
      if (!tree->SetBatch(slots, weights).ok()) std::abort();
    }
    built = n;
    built_options = options;
  }
  return *tree;
}

void SampleOurs(benchmark::State& state, SumTree::Options options) {
  SumTree& tree = Ours(state.range(0), options);
  std::vector<uint64_t> out(state.range(1));
  uint64_t batch = 0;
  for (auto _ : state) {
    if (!tree.SampleWithReplacement(7, batch++, absl::MakeSpan(out)).ok()) std::abort();
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(1));
}

void BM_SumTreeSample(benchmark::State& state) { SampleOurs(state, {}); }
void BM_SumTreeSampleOneByOne(benchmark::State& state) {
  SampleOurs(state, {.huge_pages = true, .lockstep = false, .max_simd = SumTree::Simd::kSse2});
}
void BM_SumTreeSampleSmallPages(benchmark::State& state) {
  SampleOurs(state, {.huge_pages = false, .lockstep = true, .max_simd = SumTree::Simd::kAvx512});
}
void BM_SumTreeSampleSse2(benchmark::State& state) {
  SampleOurs(state, {.huge_pages = true, .lockstep = true, .max_simd = SumTree::Simd::kSse2});
}
void BM_SumTreeSampleAvx2(benchmark::State& state) {
  SampleOurs(state, {.huge_pages = true, .lockstep = true, .max_simd = SumTree::Simd::kAvx2});
}

// 2^20 random (slot, weight) updates, drawn once, so that update benchmarks time the tree and
// not the random number generator. The pool is as large as the 2^20 tree, so cycling through
// it does not make the tree's lines any hotter than fresh random slots would.
struct UpdatePool {
  static constexpr size_t kSize = size_t{1} << 20;
  std::vector<uint64_t> slots;
  std::vector<double> weights;
};

const UpdatePool& Updates(uint64_t n) {
  static uint64_t built = 0;
  static UpdatePool pool;
  if (built != n) {
    const KeyedStream rng(3, Stream::kSumTree);
    pool.slots.resize(UpdatePool::kSize);
    pool.weights.resize(UpdatePool::kSize);
    for (size_t i = 0; i < UpdatePool::kSize; ++i) {
      pool.slots[i] = rng.Bounded(2 * i, n);
      pool.weights[i] = rng.Uniform(2 * i + 1);
    }
    built = n;
  }
  return pool;
}

void UpdateOurs(benchmark::State& state, SumTree::Options options) {
  const uint64_t n = state.range(0);
  SumTree& tree = Ours(n, options);
  const UpdatePool& pool = Updates(n);
  const size_t m = state.range(1);
  size_t at = 0;
  for (auto _ : state) {
    if (at + m > UpdatePool::kSize) at = 0;
    const absl::Span<const uint64_t> slots(pool.slots.data() + at, m);
    const absl::Span<const double> weights(pool.weights.data() + at, m);
    if (!tree.SetBatch(slots, weights).ok()) std::abort();
    at += m;
  }
  state.SetItemsProcessed(state.iterations() * m);
}

void BM_SumTreeUpdate(benchmark::State& state) { UpdateOurs(state, {}); }
void BM_SumTreeUpdateSse2(benchmark::State& state) {
  UpdateOurs(state, {.huge_pages = true, .lockstep = true, .max_simd = SumTree::Simd::kSse2});
}
void BM_SumTreeUpdateAvx2(benchmark::State& state) {
  UpdateOurs(state, {.huge_pages = true, .lockstep = true, .max_simd = SumTree::Simd::kAvx2});
}

void BM_BaselineSumTreeSample(benchmark::State& state) {
  const BaselineSumTree& tree = Baseline(state.range(0));
  std::vector<uint64_t> out(state.range(1));
  uint64_t batch = 0;
  for (auto _ : state) {
    const KeyedStream rng(7, Stream::kSumTree, batch++);
    for (size_t j = 0; j < out.size(); ++j) {
      out[j] = tree.Sample(static_cast<float>(1.0 - rng.Uniform(j)));
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(1));
}

void BM_BinaryLockstepSample(benchmark::State& state) {
  const BaselineSumTree& tree = Baseline(state.range(0));
  std::vector<uint64_t> out(state.range(1));
  std::vector<float> u(state.range(1));
  uint64_t batch = 0;
  for (auto _ : state) {
    const KeyedStream rng(7, Stream::kSumTree, batch++);
    for (size_t j = 0; j < out.size(); ++j) u[j] = static_cast<float>(1.0 - rng.Uniform(j));
    tree.SampleLockstep(u.data(), out.data(), out.size());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(1));
}

void BM_BaselineSumTreeUpdate(benchmark::State& state) {
  const uint64_t n = state.range(0);
  BaselineSumTree& tree = Baseline(n);
  const UpdatePool& pool = Updates(n);
  const size_t m = state.range(1);
  size_t at = 0;
  for (auto _ : state) {
    if (at + m > UpdatePool::kSize) at = 0;
    for (size_t i = at; i < at + m; ++i) {
      tree.Set(pool.slots[i], static_cast<float>(pool.weights[i]));
    }
    at += m;
  }
  state.SetItemsProcessed(state.iterations() * m);
}

// Registered size by size, so that each kind of tree is built once per size.
BENCHMARK(BM_BaselineSumTreeSample)->Args({1 << 20, 256});
BENCHMARK(BM_BinaryLockstepSample)->Args({1 << 20, 256});
BENCHMARK(BM_BaselineSumTreeUpdate)->Args({1 << 20, 256});
BENCHMARK(BM_SumTreeSample)->Args({1 << 20, 256});
BENCHMARK(BM_SumTreeUpdate)->Args({1 << 20, 256});
BENCHMARK(BM_SumTreeUpdateSse2)->Args({1 << 20, 256});
BENCHMARK(BM_SumTreeUpdateAvx2)->Args({1 << 20, 256});
BENCHMARK(BM_SumTreeSampleOneByOne)->Args({1 << 20, 256});
BENCHMARK(BM_SumTreeSampleSmallPages)->Args({1 << 20, 256});
BENCHMARK(BM_SumTreeSampleSse2)->Args({1 << 20, 256});
BENCHMARK(BM_SumTreeSampleAvx2)->Args({1 << 20, 256});
BENCHMARK(BM_BaselineSumTreeSample)->Args({1 << 27, 256});
BENCHMARK(BM_BinaryLockstepSample)->Args({1 << 27, 256});
BENCHMARK(BM_SumTreeSample)->Args({1 << 27, 256});
BENCHMARK(BM_SumTreeSampleOneByOne)->Args({1 << 27, 256});
BENCHMARK(BM_SumTreeSampleSmallPages)->Args({1 << 27, 256});
BENCHMARK(BM_SumTreeSampleSse2)->Args({1 << 27, 256});
BENCHMARK(BM_SumTreeSampleAvx2)->Args({1 << 27, 256});
// A small tree against the batch: level 2 walked rather than recomputed whole (see PlanUpdate).
BENCHMARK(BM_BaselineSumTreeUpdate)->Args({1 << 14, 256});
BENCHMARK(BM_SumTreeUpdate)->Args({1 << 14, 256});
// Single draws: no batch to overlap, so the fixed cost per call shows.
BENCHMARK(BM_BaselineSumTreeSample)->Args({1 << 10, 1});
BENCHMARK(BM_SumTreeSample)->Args({1 << 10, 1});

}  // namespace
}  // namespace urn::weights
