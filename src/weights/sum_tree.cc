#include "weights/sum_tree.h"

#if !defined(__x86_64__)
#error "SumTree's kernels are written for x86-64 (SSE2, optionally AVX2 or AVX-512)"
#endif

#include <emmintrin.h>
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <tuple>

#include "absl/container/flat_hash_set.h"
#include "absl/container/inlined_vector.h"
#include "absl/strings/str_format.h"
#include "base/prefetch.h"
#include "random/counter_rng.h"

namespace urn::weights {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr size_t kChunk = 256;      // descents advanced in lockstep (their state stays in L1)
constexpr size_t kLockstepMin = 2;  // a single descent goes alone (no misses to overlap)
constexpr size_t kAhead = 16;       // prefetch distance of update loops, in items
constexpr size_t kGroup = 4;        // items of the AVX2 / AVX-512 update walk interleaved by level
constexpr uint64_t kCachedBytes = 512 << 10;  // levels smaller than this stay in L2
// Levels of a tree of SumTree::kMaxSlots = 2^31 slots (2^28 leaf nodes, 2^25, ..., 2, 1).
constexpr int kMaxDepth = 11;

// The targets of a batch of draws with replacement (plain or stratified): on the stack for small
// batches (no allocation per call).
using Targets = absl::InlinedVector<double, 16>;

// Running prefixes P_0..P_7 of 8 children, in four SSE2 registers. They are formed pairwise,
// P_{2i} = P_{2i-1} + c_{2i} and P_{2i+1} = P_{2i-1} + (c_{2i} + c_{2i+1}), which keeps the two
// properties the descent's proof needs: they never decrease, and a zero child repeats the
// prefix before it (c + 0 == c exactly). P_7 is the node's sum, the one summation order that
// updates and rebuilds share.
struct Prefixes {
  __m128d p01, p23, p45, p67;
};

inline Prefixes Scan(__m128d c01, __m128d c23, __m128d c45, __m128d c67) {
  const __m128d zero = _mm_setzero_pd();
  Prefixes p;
  // (a, b) -> (a, a + b) in each pair, then carry the running total from pair to pair.
  p.p01 = _mm_add_pd(c01, _mm_unpacklo_pd(zero, c01));
  p.p23 = _mm_add_pd(_mm_add_pd(c23, _mm_unpacklo_pd(zero, c23)), _mm_unpackhi_pd(p.p01, p.p01));
  p.p45 = _mm_add_pd(_mm_add_pd(c45, _mm_unpacklo_pd(zero, c45)), _mm_unpackhi_pd(p.p23, p.p23));
  p.p67 = _mm_add_pd(_mm_add_pd(c67, _mm_unpacklo_pd(zero, c67)), _mm_unpackhi_pd(p.p45, p.p45));
  return p;
}

inline Prefixes Scan(const double* c) {
  return Scan(_mm_load_pd(c), _mm_load_pd(c + 2), _mm_load_pd(c + 4), _mm_load_pd(c + 6));
}

// sum[j] = x, then prefix = the prefixes of sum. The line is read back as scalars: a vector
// load that overlaps the fresh scalar store would stall on store-to-load forwarding.
inline void SetAndScan(double* sum, double* prefix, int j, double x) {
  sum[j] = x;
  const Prefixes p = Scan(_mm_unpacklo_pd(_mm_load_sd(sum), _mm_load_sd(sum + 1)),
                          _mm_unpacklo_pd(_mm_load_sd(sum + 2), _mm_load_sd(sum + 3)),
                          _mm_unpacklo_pd(_mm_load_sd(sum + 4), _mm_load_sd(sum + 5)),
                          _mm_unpacklo_pd(_mm_load_sd(sum + 6), _mm_load_sd(sum + 7)));
  _mm_store_pd(prefix, p.p01);
  _mm_store_pd(prefix + 2, p.p23);
  _mm_store_pd(prefix + 4, p.p45);
  _mm_store_pd(prefix + 6, p.p67);
}

// Scan of a line that was just written with a scalar store (see SetAndScan).
inline Prefixes ScanAfterStore(const double* c) {
  return Scan(_mm_unpacklo_pd(_mm_load_sd(c), _mm_load_sd(c + 1)),
              _mm_unpacklo_pd(_mm_load_sd(c + 2), _mm_load_sd(c + 3)),
              _mm_unpacklo_pd(_mm_load_sd(c + 4), _mm_load_sd(c + 5)),
              _mm_unpacklo_pd(_mm_load_sd(c + 6), _mm_load_sd(c + 7)));
}

// NodeMin of a line that was just written with a scalar store.
inline double MinAfterStore(const double* m) {
  double r = m[0];
  for (int j = 1; j < SumTree::kFanout; ++j) r = m[j] < r ? m[j] : r;
  return r;
}

inline Prefixes Load(const double* prefix) {
  return {_mm_load_pd(prefix), _mm_load_pd(prefix + 2), _mm_load_pd(prefix + 4),
          _mm_load_pd(prefix + 6)};
}

inline void Store(const Prefixes& p, double* out) {
  _mm_store_pd(out, p.p01);
  _mm_store_pd(out + 2, p.p23);
  _mm_store_pd(out + 4, p.p45);
  _mm_store_pd(out + 6, p.p67);
}

inline double LastPrefix(const Prefixes& p) { return _mm_cvtsd_f64(_mm_unpackhi_pd(p.p67, p.p67)); }

inline double NodeMin(const double* m) {
  const __m128d a = _mm_min_pd(_mm_load_pd(m), _mm_load_pd(m + 2));
  const __m128d b = _mm_min_pd(_mm_load_pd(m + 4), _mm_load_pd(m + 6));
  const __m128d r = _mm_min_pd(a, b);
  return _mm_cvtsd_f64(_mm_min_sd(r, _mm_unpackhi_pd(r, r)));
}

// The smallest positive value of w[0..8), +inf if none.
inline double PositiveMin(const double* w) {
  const __m128d inf = _mm_set1_pd(kInf), zero = _mm_setzero_pd();
  const auto positive = [&](const double* p) {
    const __m128d x = _mm_load_pd(p);
    const __m128d keep = _mm_cmpgt_pd(x, zero);
    return _mm_or_pd(_mm_and_pd(keep, x), _mm_andnot_pd(keep, inf));
  };
  const __m128d r = _mm_min_pd(_mm_min_pd(positive(w), positive(w + 2)),
                               _mm_min_pd(positive(w + 4), positive(w + 6)));
  return _mm_cvtsd_f64(_mm_min_sd(r, _mm_unpackhi_pd(r, r)));
}

// The larger of the two lanes of x.
inline double MaxLane(__m128d x) { return _mm_cvtsd_f64(_mm_max_sd(x, _mm_unpackhi_pd(x, x))); }

// Chooses the child for target *t given the node's prefixes, and moves *t into the child's
// coordinates: k = the number of prefixes <= *t, so child k is the first whose prefix exceeds
// the target, and it has c[k] > 0 (a zero child does not raise the prefix). Past the last
// prefix (rounding) we take the last positive child and make the target +inf, so that every
// level below does the same. Without kMoveTarget (at the leaves, below which no target is
// needed) *t is left as it was. REQUIRES: some c[j] > 0 and *t >= 0.
template <bool kMoveTarget = true>
inline int Select(const Prefixes& p, const double* c, double* t) {
  const __m128d target = _mm_set1_pd(*t);
  const __m128d le01 = _mm_cmple_pd(p.p01, target), le23 = _mm_cmple_pd(p.p23, target);
  const __m128d le45 = _mm_cmple_pd(p.p45, target), le67 = _mm_cmple_pd(p.p67, target);
  const unsigned mask = _mm_movemask_pd(le01) | _mm_movemask_pd(le23) << 2 |
                        _mm_movemask_pd(le45) << 4 | _mm_movemask_pd(le67) << 6;
  const int k = __builtin_ctz(~mask);  // prefixes are monotone: mask is 0b0..01..1
  if (k == SumTree::kFanout) [[unlikely]] {
    int last = SumTree::kFanout - 1;
    while (c[last] == 0) --last;
    if (kMoveTarget) *t = kInf;
    return last;
  }
  if (!kMoveTarget) return k;
  // The largest prefix <= target (0 if none): where child k starts.
  *t -= MaxLane(_mm_max_pd(_mm_max_pd(_mm_and_pd(le01, p.p01), _mm_and_pd(le23, p.p23)),
                           _mm_max_pd(_mm_and_pd(le45, p.p45), _mm_and_pd(le67, p.p67))));
  return k;
}

// The same Scan and Select with AVX-512 (one register per node), for CPUs that have it. They
// perform the same additions in the same order, so draws are bit-for-bit the same on any CPU.
#define URN_AVX512 __attribute__((target("avx512f")))
#define URN_AVX2 __attribute__((target("avx2")))

// The largest of the four lanes of x (AVX2, or AVX-512 into which it inlines).
URN_AVX2 inline double MaxLane(__m256d x) {
  return MaxLane(_mm_max_pd(_mm256_castpd256_pd128(x), _mm256_extractf128_pd(x, 1)));
}

// The smallest of the four lanes of x.
URN_AVX2 inline double MinLane(__m256d x) {
  const __m128d half = _mm_min_pd(_mm256_castpd256_pd128(x), _mm256_extractf128_pd(x, 1));
  return _mm_cvtsd_f64(_mm_min_sd(half, _mm_unpackhi_pd(half, half)));
}

// Scan with AVX-512, one register per line: returns P_7 (the line's total) in both lanes, after
// one pair sum and three additions, and stores the prefixes to *prefix unless it is null. The
// additions are Scan's: pair sums c_2i + c_2i+1, then P_3 = P_1 + (c2 + c3),
// P_5 = P_3 + (c4 + c5), P_7 = P_5 + (c6 + c7), and the other prefixes P_2i = P_2i-1 + c_2i.
// Only those three carries are serial, on 128-bit parts; the prefixes are formed beside them.
// (Four dependent cross-lane permute-and-add steps, as one might write it, were ~0.92x for draws
// at 2^20 and ~0.8x on the update walk's chain.)
URN_AVX512 inline __m128d ScanWide(__m512d c, __m512d* prefix) {
  // Both lanes of 128-bit part i: c_2i + c_2i+1. (Masked intrinsics with full masks: GCC 12
  // warns on the plain ones.)
  const __m512d pairs = _mm512_add_pd(c, _mm512_mask_permute_pd(c, 0xFF, c, 0x55));
  const __m512 f = _mm512_castpd_ps(pairs);  // AVX512F moves 128-bit parts as floats
  const __m128 none = _mm_setzero_ps();
  const __m128d p1 = _mm_castps_pd(_mm512_mask_extractf32x4_ps(none, 0xF, f, 0));
  const __m128d p3 = _mm_add_pd(p1, _mm_castps_pd(_mm512_mask_extractf32x4_ps(none, 0xF, f, 1)));
  const __m128d p5 = _mm_add_pd(p3, _mm_castps_pd(_mm512_mask_extractf32x4_ps(none, 0xF, f, 2)));
  const __m128d p7 = _mm_add_pd(p5, _mm_castps_pd(_mm512_mask_extractf32x4_ps(none, 0xF, f, 3)));
  if (prefix != nullptr) {
    __m512 carry = _mm512_insertf32x4(_mm512_setzero_ps(), _mm_castpd_ps(p1), 1);
    carry = _mm512_insertf32x4(carry, _mm_castpd_ps(p3), 2);
    carry = _mm512_insertf32x4(carry, _mm_castpd_ps(p5), 3);
    const __m512d q = _mm512_mask_mov_pd(pairs, 0x55, c);  // c_2i, P_2i+1 - P_2i-1
    *prefix = _mm512_mask_add_pd(q, 0xFC, q, _mm512_castps_pd(carry));
  }
  return p7;
}

// Select with AVX-512. The prefix before child k, the largest prefix <= target (0 if none), is
// a masked maximum formed in vector registers, off the chain through the general registers that
// yields k (taking it with a permute indexed by k - 1 put that chain in front of the target's:
// draws ~0.8x at 2^20 on Zen 4).
URN_AVX512 inline int SelectWide(__m512d p, const double* c, double* t) {
  const __mmask8 le = _mm512_cmp_pd_mask(p, _mm512_set1_pd(*t), _CMP_LE_OQ);
  const int k = __builtin_ctz(~static_cast<unsigned>(le));
  if (k == SumTree::kFanout) [[unlikely]] {
    int last = SumTree::kFanout - 1;
    while (c[last] == 0) --last;
    *t = kInf;
    return last;
  }
  const __m512d below = _mm512_maskz_mov_pd(le, p);  // the prefixes <= target, 0 elsewhere
  const __m256d zero = _mm256_setzero_pd();
  *t -= MaxLane(_mm256_max_pd(_mm512_mask_extractf64x4_pd(zero, 0xF, below, 0),
                              _mm512_mask_extractf64x4_pd(zero, 0xF, below, 1)));
  return k;
}

// The mask of lane e % 8, the lane of entry e in its line.
URN_AVX512 inline __mmask8 Lane(uint64_t e) { return static_cast<__mmask8>(1u << (e & 7)); }

// The same Scan and Select with AVX2 (two registers per node), for CPUs that have AVX2 but not
// AVX-512: the same additions in the same order as Scan.

struct Halves {
  __m256d lo, hi;  // P_0..P_3, P_4..P_7
};

// x + (0, 0, x_1, x_1): the carry from the first pair of a half into its second pair.
URN_AVX2 inline __m256d CarryPair(__m256d x) {
  const __m256d low_pair_up = _mm256_permute2f128_pd(x, x, 0x08);  // (0, 0, x_0, x_1)
  return _mm256_add_pd(x, _mm256_unpackhi_pd(low_pair_up, low_pair_up));
}

URN_AVX2 inline Halves ScanAvx2(__m256d c_lo, __m256d c_hi) {
  const __m256d zero = _mm256_setzero_pd();
  // (a, b) -> (a, a + b) in each pair, as in Scan.
  Halves p;
  p.lo = CarryPair(_mm256_add_pd(c_lo, _mm256_unpacklo_pd(zero, c_lo)));
  const __m256d pairs_hi = _mm256_add_pd(c_hi, _mm256_unpacklo_pd(zero, c_hi));
  // (P_3, P_3, 0, 0) into the first pair of the upper half, then its carry into the second.
  const __m256d p3 = _mm256_blend_pd(zero, _mm256_permute4x64_pd(p.lo, 0xFF), 0x3);
  p.hi = CarryPair(_mm256_add_pd(pairs_hi, p3));
  return p;
}

template <bool kMoveTarget = true>
URN_AVX2 inline int SelectAvx2(const Halves& p, const double* c, double* t) {
  const __m256d target = _mm256_set1_pd(*t);
  const __m256d le_lo = _mm256_cmp_pd(p.lo, target, _CMP_LE_OQ);
  const __m256d le_hi = _mm256_cmp_pd(p.hi, target, _CMP_LE_OQ);
  const unsigned mask = _mm256_movemask_pd(le_lo) | _mm256_movemask_pd(le_hi) << 4;
  const int k = __builtin_ctz(~mask);
  if (k == SumTree::kFanout) [[unlikely]] {
    int last = SumTree::kFanout - 1;
    while (c[last] == 0) --last;
    if (kMoveTarget) *t = kInf;
    return last;
  }
  if (!kMoveTarget) return k;
  *t -= MaxLane(_mm256_max_pd(_mm256_and_pd(le_lo, p.lo), _mm256_and_pd(le_hi, p.hi)));
  return k;
}

// Select on a stored prefix line (with the sums beside it), or on a line of values (scanned
// first), for SumTree::Step; SSE2, AVX2 and AVX-512.
struct NarrowKernels {
  static int SelectPrefixes(const double* prefix, const double* sum, double* t) {
    return Select(Load(prefix), sum, t);
  }
  template <bool kMoveTarget>
  static int SelectValues(const double* c, double* t) {
    return Select<kMoveTarget>(Scan(c), c, t);
  }
};

struct Avx2Kernels {
  URN_AVX2 static int SelectPrefixes(const double* prefix, const double* sum, double* t) {
    return SelectAvx2({_mm256_load_pd(prefix), _mm256_load_pd(prefix + 4)}, sum, t);
  }
  template <bool kMoveTarget>
  URN_AVX2 static int SelectValues(const double* c, double* t) {
    return SelectAvx2<kMoveTarget>(ScanAvx2(_mm256_load_pd(c), _mm256_load_pd(c + 4)), c, t);
  }
};

struct WideKernels {
  URN_AVX512 static int SelectPrefixes(const double* prefix, const double* sum, double* t) {
    return SelectWide(_mm512_load_pd(prefix), sum, t);
  }
  // Moves the target at the leaves too: not moving it measured 0.83x-1.02x on a Zen 4 VM
  // (bench/sum_tree_bench.cc), where AVX2's gained 1.09x on Zen 3.
  template <bool kMoveTarget>
  URN_AVX512 static int SelectValues(const double* c, double* t) {
    __m512d prefix;
    ScanWide(_mm512_load_pd(c), &prefix);
    return SelectWide(prefix, c, t);
  }
};

// Always inlined, for the reason given in base/prefetch.h.
[[gnu::always_inline]] inline void Prefetch(const void* p) { __builtin_prefetch(p, 0, 3); }

absl::Status ValidateWeight(size_t index, double w) {
  if (!(w >= 0 && w <= SumTree::kMaxWeight)) {  // also rejects NaN
    return absl::InvalidArgumentError(absl::StrFormat(
        "weight at index %d is %g; weights must be finite, >= 0 and <= 2^990", index, w));
  }
  return absl::OkStatus();
}

// Whether some slot is >= size or some weight is outside [0, kMaxWeight] (NaN included).
bool AnyInvalid(absl::Span<const uint64_t> slots, absl::Span<const double> weights, uint64_t size) {
  unsigned bad = 0;  // | on integers, not ||: the pass stays branch-free
  for (size_t i = 0; i < slots.size(); ++i) {
    bad |= unsigned{slots[i] >= size} | unsigned{!(weights[i] >= 0)} |
           unsigned{!(weights[i] <= SumTree::kMaxWeight)};
  }
  return bad != 0;
}

// AnyInvalid with AVX2, four items at a time.
URN_AVX2 bool AnyInvalidAvx2(absl::Span<const uint64_t> slots, absl::Span<const double> weights,
                             uint64_t size) {
  // slot > size - 1 unsigned, as a signed comparison of both with the sign bit flipped.
  const __m256i sign = _mm256_set1_epi64x(std::numeric_limits<int64_t>::min());
  const __m256i last = _mm256_xor_si256(_mm256_set1_epi64x(static_cast<int64_t>(size - 1)), sign);
  const __m256d zero = _mm256_setzero_pd(), max = _mm256_set1_pd(SumTree::kMaxWeight);
  __m256i bad = _mm256_setzero_si256();
  size_t i = 0;
  for (; i + 4 <= slots.size(); i += 4) {
    const __m256i s = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(slots.data() + i));
    const __m256d w = _mm256_loadu_pd(weights.data() + i);
    bad = _mm256_or_si256(bad, _mm256_cmpgt_epi64(_mm256_xor_si256(s, sign), last));
    bad = _mm256_or_si256(
        bad, _mm256_castpd_si256(_mm256_or_pd(_mm256_cmp_pd(w, zero, _CMP_NGE_UQ),  // < 0 or NaN
                                              _mm256_cmp_pd(w, max, _CMP_NLE_UQ))));
  }
  return !_mm256_testz_si256(bad, bad) || AnyInvalid(slots.subspan(i), weights.subspan(i), size);
}

URN_AVX512 bool AnyInvalidWide(absl::Span<const uint64_t> slots, absl::Span<const double> weights,
                               uint64_t size) {
  const __m512i limit = _mm512_set1_epi64(static_cast<int64_t>(size));
  const __m512d zero = _mm512_setzero_pd(), max = _mm512_set1_pd(SumTree::kMaxWeight);
  __mmask8 bad = 0;
  for (size_t i = 0; i < slots.size(); i += 8) {
    const __mmask8 in = slots.size() - i >= 8 ? 0xFF : (1u << (slots.size() - i)) - 1;
    const __m512d w = _mm512_maskz_loadu_pd(in, weights.data() + i);
    bad |= _mm512_mask_cmp_epu64_mask(in, _mm512_maskz_loadu_epi64(in, slots.data() + i), limit,
                                      _MM_CMPINT_NLT) |
           _mm512_mask_cmp_pd_mask(in, w, zero, _CMP_NGE_UQ) |
           _mm512_mask_cmp_pd_mask(in, w, max, _CMP_NLE_UQ);
  }
  return bad != 0;
}

// Nodes [0, count) of a level >= 3 from their 8 children each (InnerNodes of the level below):
// the sums are the children's last prefixes, the minima the least of the children's minima.
template <typename Node>
void RecomputeFromChildren(const Node* below, Node* nodes, uint64_t count) {
  for (uint64_t node = 0; node < count; ++node) {
    const Node* const child = below + node * SumTree::kFanout;
    Node& out = nodes[node];
    for (int j = 0; j < SumTree::kFanout; ++j) {
      out.sum[j] = child[j].prefix[SumTree::kFanout - 1];
      out.min[j] = NodeMin(child[j].min);
    }
    Store(Scan(out.sum), out.prefix);
  }
}

// Row j: all ones in lane j of a line, the blend masks that put an entry in its place in a line
// held in two AVX2 registers.
alignas(64) constexpr int64_t kLaneMask[8][8] = {
    {-1, 0, 0, 0, 0, 0, 0, 0}, {0, -1, 0, 0, 0, 0, 0, 0}, {0, 0, -1, 0, 0, 0, 0, 0},
    {0, 0, 0, -1, 0, 0, 0, 0}, {0, 0, 0, 0, -1, 0, 0, 0}, {0, 0, 0, 0, 0, -1, 0, 0},
    {0, 0, 0, 0, 0, 0, -1, 0}, {0, 0, 0, 0, 0, 0, 0, -1}};

// The line at p (64-byte aligned) in registers, with entry e % 8 replaced by x (in every lane).
URN_AVX2 inline Halves LoadAndPut(const double* p, uint64_t e, __m256d x) {
  const __m256i* const mask = reinterpret_cast<const __m256i*>(kLaneMask[e & 7]);
  return {
      _mm256_blendv_pd(_mm256_load_pd(p), x, _mm256_castsi256_pd(_mm256_load_si256(mask))),
      _mm256_blendv_pd(_mm256_load_pd(p + 4), x, _mm256_castsi256_pd(_mm256_load_si256(mask + 1)))};
}

// The totals of four lines, lane g = line g's P_7, by Scan's additions in Scan's order
// (((c0 + c1) + (c2 + c3)) + (c4 + c5)) + (c6 + c7), four at once: 11 instructions instead of 36.
URN_AVX2 inline __m256d Totals4(const Halves* line) {
  const __m256d lo01 = _mm256_hadd_pd(line[0].lo, line[1].lo);  // a01 b01 a23 b23
  const __m256d lo23 = _mm256_hadd_pd(line[2].lo, line[3].lo);  // c01 d01 c23 d23
  const __m256d hi01 = _mm256_hadd_pd(line[0].hi, line[1].hi);  // a45 b45 a67 b67
  const __m256d hi23 = _mm256_hadd_pd(line[2].hi, line[3].hi);
  const __m256d c01 = _mm256_permute2f128_pd(lo01, lo23, 0x20);  // a01 b01 c01 d01
  const __m256d c23 = _mm256_permute2f128_pd(lo01, lo23, 0x31);
  const __m256d c45 = _mm256_permute2f128_pd(hi01, hi23, 0x20);
  const __m256d c67 = _mm256_permute2f128_pd(hi01, hi23, 0x31);
  return _mm256_add_pd(_mm256_add_pd(_mm256_add_pd(c01, c23), c45), c67);
}

// Stores the prefixes of the sums (lo, hi) into node.prefix; returns them.
template <typename Node>
URN_AVX2 inline Halves StorePrefixes(Node& node, __m256d lo, __m256d hi) {
  const Halves prefix = ScanAvx2(lo, hi);
  _mm256_store_pd(node.prefix, prefix.lo);
  _mm256_store_pd(node.prefix + 4, prefix.hi);
  return prefix;
}

// Forms the prefixes of `node` from its sums; returns them.
template <typename Node>
URN_AVX2 inline Halves ScanNodeAvx2(Node& node) {
  return StorePrefixes(node, _mm256_load_pd(node.sum), _mm256_load_pd(node.sum + 4));
}

// Puts x (the same in every lane) as entry e % 8 of `node` and forms its prefixes; returns the
// node's total in every lane.
template <typename Node>
URN_AVX2 inline __m256d PutAndScan(Node& node, uint64_t e, __m256d x) {
  const Halves sum = LoadAndPut(node.sum, e, x);
  _mm_store_sd(&node.sum[e & 7], _mm256_castpd256_pd128(x));
  return _mm256_permute4x64_pd(StorePrefixes(node, sum.lo, sum.hi).hi, 0xFF);
}

// The least of lanes j and j + 4 of the 8-entry line at m, in lane j.
URN_AVX2 inline __m256d HalfMin(const double* m) {
  return _mm256_min_pd(_mm256_load_pd(m), _mm256_load_pd(m + 4));
}

// The minima of the 8-entry lines m0..m3, lane j = line j's (exact in any order).
URN_AVX2 inline __m256d Minima4(const double* m0, const double* m1, const double* m2,
                                const double* m3) {
  const __m256d a = HalfMin(m0), b = HalfMin(m1), c = HalfMin(m2), d = HalfMin(m3);
  const __m256d ab = _mm256_min_pd(_mm256_unpacklo_pd(a, b), _mm256_unpackhi_pd(a, b));
  const __m256d cd = _mm256_min_pd(_mm256_unpacklo_pd(c, d), _mm256_unpackhi_pd(c, d));
  return _mm256_min_pd(_mm256_permute2f128_pd(ab, cd, 0x20), _mm256_permute2f128_pd(ab, cd, 0x31));
}

// RecomputeFromChildren with AVX2 (the same sums, prefixes and minima, bit for bit): ~2.5x fewer
// instructions, which RecomputeAbove spent ~17 of per update at 2^20 slots, k = 256.
template <typename Node>
URN_AVX2 void RecomputeFromChildrenAvx2(const Node* below, Node* nodes, uint64_t count) {
  constexpr int kLast = SumTree::kFanout - 1;
  for (uint64_t node = 0; node < count; ++node) {
    const Node* const c = below + node * SumTree::kFanout;
    Node& out = nodes[node];
    const __m256d sum_lo = _mm256_setr_pd(c[0].prefix[kLast], c[1].prefix[kLast],
                                          c[2].prefix[kLast], c[3].prefix[kLast]);
    const __m256d sum_hi = _mm256_setr_pd(c[4].prefix[kLast], c[5].prefix[kLast],
                                          c[6].prefix[kLast], c[7].prefix[kLast]);
    _mm256_store_pd(out.sum, sum_lo);
    _mm256_store_pd(out.sum + 4, sum_hi);
    _mm256_store_pd(out.min, Minima4(c[0].min, c[1].min, c[2].min, c[3].min));
    _mm256_store_pd(out.min + 4, Minima4(c[4].min, c[5].min, c[6].min, c[7].min));
    StorePrefixes(out, sum_lo, sum_hi);
  }
}

// The smallest positive one of the 64 weights at w (64-byte aligned), +inf if none.
URN_AVX2 double BlockMinAvx2(const double* w) {
  const __m256d zero = _mm256_setzero_pd(), inf = _mm256_set1_pd(kInf);
  __m256d min = inf;
  for (int i = 0; i < SumTree::kFanout * SumTree::kFanout; i += 4) {
    const __m256d x = _mm256_load_pd(w + i);
    min = _mm256_min_pd(min, _mm256_blendv_pd(inf, x, _mm256_cmp_pd(x, zero, _CMP_GT_OQ)));
  }
  return MinLane(min);
}

// After the AVX2 walk (SumTree::ApplyAvx2) with top >= 3: nodes[0, count) of the top level
// hold their final sums and minima but not their prefixes. Forms the prefixes, and puts each
// node's total (its P_7) and minimum into its entry in `parent` (the level above, if any), whose
// prefixes it then forms too. One pass in memory order, four nodes at a time where it can: their
// totals and minima are four adjacent entries of one parent node, written by one store each.
template <typename Node>
URN_AVX2 void ScanTopAvx2(Node* nodes, uint64_t count, Node* parent, uint64_t parent_count) {
  uint64_t i = 0;
  if (parent != nullptr) {
    for (; i + 4 <= count; i += 4) {
      Node* const n = nodes + i;
      const __m256d hi0 = ScanNodeAvx2(n[0]).hi, hi1 = ScanNodeAvx2(n[1]).hi;  // P_4..P_7
      const __m256d hi2 = ScanNodeAvx2(n[2]).hi, hi3 = ScanNodeAvx2(n[3]).hi;
      const __m256d totals =
          _mm256_permute2f128_pd(_mm256_unpackhi_pd(hi0, hi1), _mm256_unpackhi_pd(hi2, hi3), 0x31);
      Node& up = parent[i / SumTree::kFanout];
      _mm256_store_pd(&up.sum[i % SumTree::kFanout], totals);
      _mm256_store_pd(&up.min[i % SumTree::kFanout],
                      Minima4(n[0].min, n[1].min, n[2].min, n[3].min));
    }
  }
  for (; i < count; ++i) {
    const Halves prefix = ScanNodeAvx2(nodes[i]);
    if (parent != nullptr) {
      Node& up = parent[i / SumTree::kFanout];
      _mm_storeh_pd(&up.sum[i % SumTree::kFanout], _mm256_extractf128_pd(prefix.hi, 1));
      up.min[i % SumTree::kFanout] = NodeMin(nodes[i].min);
    }
  }
  for (uint64_t p = 0; parent != nullptr && p < parent_count; ++p) ScanNodeAvx2(parent[p]);
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
  __builtin_cpu_init();
  simd_ = Simd::kSse2;
  if (options.max_simd >= Simd::kAvx2 && __builtin_cpu_supports("avx2")) simd_ = Simd::kAvx2;
  if (options.max_simd >= Simd::kAvx512 && __builtin_cpu_supports("avx512f")) simd_ = Simd::kAvx512;
  // Leaves are padded to whole level-1 nodes, so that BlockMin never reads past the end.
  const uint64_t leaf_nodes = depth_ >= 2 ? level_nodes_[1] * kFanout : level_nodes_[0];
  leaves_ = PageArray<double>(leaf_nodes * kFanout, options.huge_pages);
  if (depth_ >= 2) {
    sums1_ = PageArray<double>(level_nodes_[1] * kFanout, options.huge_pages);
    inner_.emplace_back();  // level 1 lives in sums1_
  }
  for (int l = 2; l < depth_; ++l) {
    inner_.emplace_back(level_nodes_[l], options.huge_pages);
    for (InnerNode& node : absl::MakeSpan(inner_.back().data(), level_nodes_[l])) {
      std::fill(node.min, node.min + kFanout, kInf);
    }
  }
}

SumTree::~SumTree() = default;

inline double SumTree::NodeTotal(int level, uint64_t node) const {
  if (level == 0) return LastPrefix(Scan(leaves_.data() + node * kFanout));
  if (level == 1) return LastPrefix(Scan(sums1_.data() + node * kFanout));
  return inner_[level - 1][node].prefix[kFanout - 1];
}

double SumTree::BlockMin(uint64_t node) const {
  const double* w = leaves_.data() + node * kFanout * kFanout;
  if (simd_ != Simd::kSse2) return BlockMinAvx2(w);
  double min = kInf;
  for (int i = 0; i < kFanout; ++i) min = std::min(min, PositiveMin(w + i * kFanout));
  return min;
}

inline double SumTree::NodeMinimum(int level, uint64_t node) const {
  if (level == 0) return PositiveMin(leaves_.data() + node * kFanout);
  if (level == 1) return BlockMin(node);
  return NodeMin(inner_[level - 1][node].min);
}

void SumTree::RecomputeNode(int level, uint64_t index) {
  alignas(16) double sum[kFanout], min[kFanout];
  const uint64_t entries = level_nodes_[level - 1];
  for (int j = 0; j < kFanout; ++j) {
    const uint64_t entry = index * kFanout + j;
    sum[j] = entry < entries ? NodeTotal(level - 1, entry) : 0.0;
    if (level >= 2) min[j] = entry < entries ? NodeMinimum(level - 1, entry) : kInf;
  }
  if (level == 1) {
    std::memcpy(sums1_.data() + index * kFanout, sum, sizeof sum);
    return;
  }
  InnerNode& node = inner_[level - 1][index];
  std::memcpy(node.sum, sum, sizeof sum);
  std::memcpy(node.min, min, sizeof min);
  Store(Scan(sum), node.prefix);
}

std::pair<double, double> SumTree::RootValues() const {
  return {NodeTotal(depth_ - 1, 0), NodeMinimum(depth_ - 1, 0)};
}

void SumTree::RecomputeRoot() { std::tie(total_, min_positive_) = RootValues(); }

void SumTree::RecomputeAbove(int first_level) {
  // Near the root the batch's paths merge: recomputing these small levels whole, node by
  // node, is cheaper than finding the distinct entries.
  for (int l = first_level; l < depth_; ++l) {
    uint64_t node = 0;
    if (l >= 3) {
      // The children are InnerNodes, whose totals are their last prefixes: nodes with all 8
      // children take this straight path, a last partial node goes through RecomputeNode.
      const InnerNode* const below = inner_[l - 2].data();
      InnerNode* const nodes = inner_[l - 1].data();
      node = level_nodes_[l - 1] / kFanout;
      if (simd_ == Simd::kSse2) {
        RecomputeFromChildren(below, nodes, node);
      } else {
        RecomputeFromChildrenAvx2(below, nodes, node);
      }
    }
    for (; node < level_nodes_[l]; ++node) RecomputeNode(l, node);
  }
  RecomputeRoot();
}

void SumTree::PrefetchNode(int level, uint64_t index) {
  InnerNode& node = inner_[level - 1][index];
  PrefetchToL2(node.prefix);
  PrefetchToL2(node.sum);
  PrefetchToL2(node.min);
}

SumTree::UpdatePlan SumTree::PlanUpdate(size_t k) const {
  UpdatePlan plan;
  while (plan.top + 1 < depth_ && level_nodes_[plan.top] > k) ++plan.top;
  // Recomputing a level-2 entry whole rescans its 64 leaves for the minimum, so leaving level 2
  // to RecomputeAbove reads every leaf per batch: the walk goes through level 2 too unless the
  // batch has 4 or more items per level-2 entry. Measured at k = 256 (ns per update, walk vs
  // whole): 2^14 slots ~22 vs ~45, 2^13 ~22 vs ~25, 2^12 ~23 vs ~17 (few level-2 lines, each
  // written by many items in turn), 2^10 ~20 vs ~9.
  if (depth_ > 3 && level_nodes_[1] * 4 > k) plan.top = std::max(plan.top, 2);
  plan.prefetch2 = plan.top >= 2 && level_nodes_[2] * sizeof(InnerNode) > kCachedBytes;
  plan.prefetch3 = plan.top >= 3 && level_nodes_[3] * sizeof(InnerNode) > kCachedBytes;
  return plan;
}

[[gnu::always_inline]] inline void SumTree::PrefetchUpdate(const UpdatePlan& plan, uint64_t slot) {
  PrefetchToL2(&leaves_[slot]);
  if (plan.top >= 1) PrefetchToL2(&sums1_[slot >> 3]);
  if (plan.prefetch2) PrefetchNode(2, slot >> 9);
  if (plan.prefetch3) PrefetchNode(3, slot >> 12);
}

// The minimum below a level-2 entry (64 leaves) changes only if the new weight is below it, or
// the slot that held it changed: then the 64 leaves are rescanned after the walk
// (FinishUpdate), all such blocks' lines prefetched together, and the minima above fixed up.
// Until then the stale minimum may travel up; the fix-up recomputes every entry on the block's
// path.
inline bool SumTree::UpdateMin2(uint64_t e2, double w, double old) {
  double& min2 = inner_[1][e2 >> 3].min[e2 & 7];
  const double min_before = min2;
  const bool lower = w > 0 && w < min_before;
  // Queued without a branch or a call (Apply sized rescan_ for one entry per item).
  rescan_[rescans_] = e2;
  rescans_ += static_cast<size_t>(!lower & (old > 0) & (old == min_before) & (w != old));
  if (lower) min2 = w;
  return lower;
}

// Level l >= 3, entry e: takes the minimum of child e if the minimum below changed; returns
// whether this one changed.
inline bool SumTree::UpdateMin(int l, uint64_t e, bool changed) {
  if (!changed) return false;
  const double min = MinAfterStore(inner_[l - 2][e].min);
  double& entry = inner_[l - 1][e >> 3].min[e & 7];
  changed = entry != min;
  entry = min;
  return changed;
}

void SumTree::FinishUpdate(int top, bool top_prefixes_stale) {
  const absl::Span<const uint64_t> rescan(rescan_.data(), rescans_);
  for (const uint64_t e2 : rescan) {
    for (int j = 0; j < kFanout; ++j) Prefetch(&leaves_[(e2 * kFanout + j) * kFanout]);
  }
  for (const uint64_t e2 : rescan) {
    inner_[1][e2 >> 3].min[e2 & 7] = BlockMin(e2);
    for (int l = 3; l <= top; ++l) {
      const uint64_t e = e2 >> (3 * l - 6);
      inner_[l - 1][e >> 3].min[e & 7] = NodeMin(inner_[l - 2][e].min);
    }
  }
  if (top_prefixes_stale) {
    const bool parent = top + 1 < depth_;
    ScanTopAvx2(inner_[top - 1].data(), level_nodes_[top], parent ? inner_[top].data() : nullptr,
                parent ? level_nodes_[top + 1] : 0);
    RecomputeAbove(top + 2);
  } else {
    RecomputeAbove(top + 1);
  }
}

void SumTree::Apply(absl::Span<const uint64_t> slots, absl::Span<const double> weights) {
  // One pass per item up through every level that is larger than the batch (and level 2, see
  // PlanUpdate), in batch order, so that each item's cache misses overlap the work on the items
  // before it. An entry recomputed by an item is recomputed again by any later item below it, so
  // every entry ends up final. The smaller levels above are then recomputed whole
  // (RecomputeAbove).
  if (rescan_.size() < slots.size()) rescan_.resize(slots.size());
  rescans_ = 0;
  const UpdatePlan plan = PlanUpdate(slots.size());
  // Where levels >= 2 are walked, CPUs with AVX-512 take the AVX2 walk too: it is written for
  // fewer instructions than WalkLines, and on Zen 4 it was ~1.15x the AVX-512 WalkLines (see
  // sum_tree.h).
  const bool avx2_walk = simd_ == Simd::kAvx2 || (simd_ == Simd::kAvx512 && plan.top >= 2);
  if (avx2_walk) {
    positive_count_ += ApplyAvx2(plan, slots, weights);
  } else if (simd_ == Simd::kAvx512) {
    positive_count_ += ApplyWide(plan, slots, weights);
  } else {
    positive_count_ += ApplyNarrow(plan, slots, weights);
  }
  FinishUpdate(plan.top, avx2_walk && plan.top >= 3);
}

// The lines of the interleaved update walk (SumTree::WalkLines) in registers: one AVX-512
// register, or two AVX2 ones. Load / Store a line; Put entry e % 8 (lane 0 of v); Total, the
// line's P_7 after Scan's additions (pair sums, then three carries: a short chain); and
// TotalAndPrefixes, which also stores the line's prefixes. Registers go by pointer or reference:
// WalkLines is compiled without AVX, where passing them by value would change the ABI (GCC
// warns, Clang refuses).
struct Avx512Line {
  using Reg = __m512d;
  URN_AVX512 static void Load(Reg* r, const double* p) { *r = _mm512_load_pd(p); }
  URN_AVX512 static void Store(double* p, const Reg& r) { _mm512_store_pd(p, r); }
  URN_AVX512 static void Put(Reg* r, uint64_t e, __m128d v) {
    *r = _mm512_mask_broadcastsd_pd(*r, Lane(e), v);
  }
  URN_AVX512 static __m128d Total(const Reg& r) { return ScanWide(r, nullptr); }
  URN_AVX512 static __m128d TotalAndPrefixes(const Reg& r, double* prefix) {
    __m512d p;
    const __m128d total = ScanWide(r, &p);
    _mm512_store_pd(prefix, p);
    return total;
  }
};

struct Avx2Line {
  using Reg = Halves;
  URN_AVX2 static void Load(Reg* r, const double* p) {
    r->lo = _mm256_load_pd(p);
    r->hi = _mm256_load_pd(p + 4);
  }
  URN_AVX2 static void Store(double* p, const Reg& r) {
    _mm256_store_pd(p, r.lo);
    _mm256_store_pd(p + 4, r.hi);
  }
  URN_AVX2 static void Put(Reg* r, uint64_t e, __m128d v) {
    const __m256i lane = _mm256_set1_epi64x(static_cast<int64_t>(e & 7));
    const __m256d x = _mm256_broadcastsd_pd(v);
    const __m256i lo = _mm256_cmpeq_epi64(lane, _mm256_setr_epi64x(0, 1, 2, 3));
    const __m256i hi = _mm256_cmpeq_epi64(lane, _mm256_setr_epi64x(4, 5, 6, 7));
    r->lo = _mm256_blendv_pd(r->lo, x, _mm256_castsi256_pd(lo));
    r->hi = _mm256_blendv_pd(r->hi, x, _mm256_castsi256_pd(hi));
  }
  URN_AVX2 static __m128d Total(const Reg& r) {
    // Both lanes of each 128-bit part: c_2i + c_2i+1 (== c_2i+1 + c_2i exactly).
    const __m256d lo = _mm256_add_pd(r.lo, _mm256_permute_pd(r.lo, 0x5));
    const __m256d hi = _mm256_add_pd(r.hi, _mm256_permute_pd(r.hi, 0x5));
    const __m128d p3 = _mm_add_pd(_mm256_castpd256_pd128(lo), _mm256_extractf128_pd(lo, 1));
    const __m128d p5 = _mm_add_pd(p3, _mm256_castpd256_pd128(hi));
    return _mm_add_pd(p5, _mm256_extractf128_pd(hi, 1));
  }
  URN_AVX2 static __m128d TotalAndPrefixes(const Reg& r, double* prefix) {
    Store(prefix, ScanAvx2(r.lo, r.hi));
    return Total(r);
  }
};

// WalkItemNarrow with registers of whole lines (Line, above), for G items at once, interleaved
// level by level: every item finishes a level before any starts the next, in batch order, so a
// line two of them share is written last by the later one, from a copy that holds the earlier
// one's entry. Each line is loaded into registers before it is written, the new entry is put in
// place there (no store-to-load forwarding of a scalar store), and the line's total goes up to
// the next level in a register. Same additions, same results as the narrow walk. Inlined into
// ApplyWide and ApplyAvx2, which give it their instruction set.
template <typename Line, size_t G>
[[gnu::always_inline]] inline int64_t SumTree::WalkLines(int top, const uint64_t* slot,
                                                         const double* weight) {
  typename Line::Reg line[G];
  __m128d total[G];
  double w[G], old[G];
  bool min_changed[G];
  int64_t positives = 0;
  for (size_t g = 0; g < G; ++g) {
    w[g] = weight[g] + 0.0;
    old[g] = leaves_[slot[g]];
    positives += static_cast<int64_t>(w[g] > 0) - static_cast<int64_t>(old[g] > 0);
    double* const line0 = leaves_.data() + (slot[g] & ~uint64_t{7});
    Line::Load(&line[g], line0);
    Line::Put(&line[g], slot[g], _mm_set_sd(w[g]));
    Line::Store(line0, line[g]);
  }
  if (top < 1) return positives;
  for (size_t g = 0; g < G; ++g) {
    const uint64_t e1 = slot[g] >> 3;
    double* const line1 = sums1_.data() + (e1 & ~uint64_t{7});
    const __m128d sum = Line::Total(line[g]);
    Line::Load(&line[g], line1);
    Line::Put(&line[g], e1, sum);
    Line::Store(line1, line[g]);
  }
  if (top < 2) return positives;
  for (size_t g = 0; g < G; ++g) {
    min_changed[g] = UpdateMin2(slot[g] >> 6, w[g], old[g]);
    total[g] = Line::Total(line[g]);
  }
  for (int l = 2; l <= top; ++l) {
    for (size_t g = 0; g < G; ++g) {
      const uint64_t e = slot[g] >> (3 * l);
      if (l >= 3) min_changed[g] = UpdateMin(l, e, min_changed[g]);
      InnerNode& node = inner_[l - 1][e >> 3];
      Line::Load(&line[g], node.sum);
      Line::Put(&line[g], e, total[g]);
      Line::Store(node.sum, line[g]);
      total[g] = Line::TotalAndPrefixes(line[g], node.prefix);
    }
  }
  return positives;
}

int64_t SumTree::ApplyNarrow(const UpdatePlan& plan, absl::Span<const uint64_t> slots,
                             absl::Span<const double> weights) {
  const size_t k = slots.size();
  int64_t positives = 0;
  for (size_t i = 0; i < k; ++i) {
    if (i + kAhead < k) PrefetchUpdate(plan, slots[i + kAhead]);
    const uint64_t slot = slots[i];
    const double w = weights[i] + 0.0;  // -0 becomes +0, so equal weights are equal bits
    const double old = leaves_[slot];
    positives += static_cast<int64_t>(w > 0) - static_cast<int64_t>(old > 0);
    WalkItemNarrow(plan.top, slot, w, old);
  }
  return positives;
}

template <typename Line>
[[gnu::always_inline]] inline int64_t SumTree::ApplyLines(const UpdatePlan& plan,
                                                          absl::Span<const uint64_t> slots,
                                                          absl::Span<const double> weights) {
  const size_t k = slots.size();
  int64_t positives = 0;
  size_t i = 0;
  for (; i + kGroup <= k; i += kGroup) {
    for (size_t g = 0; g < kGroup; ++g) {
      if (i + g + kAhead < k) PrefetchUpdate(plan, slots[i + g + kAhead]);
    }
    positives += WalkLines<Line, kGroup>(plan.top, slots.data() + i, weights.data() + i);
  }
  for (; i < k; ++i) {
    if (i + kAhead < k) PrefetchUpdate(plan, slots[i + kAhead]);
    positives += WalkLines<Line, 1>(plan.top, slots.data() + i, weights.data() + i);
  }
  return positives;
}

URN_AVX512 int64_t SumTree::ApplyWide(const UpdatePlan& plan, absl::Span<const uint64_t> slots,
                                      absl::Span<const double> weights) {
  return ApplyLines<Avx512Line>(plan, slots, weights);
}

// The AVX2 walk, written for few instructions (it is bound by their throughput; see sum_tree.h:
// ~121 per update at 2^20 slots, k = 256, against ~245 in WalkLines). Groups of 4 items go level by
// level as in WalkLines, in batch order, so a line two of them share is written last by the later
// one from a copy holding the earlier one's entry. Apart from that:
// - The member arrays live in locals: the line stores (vector intrinsics may alias anything)
//   made the compiler reload every member after each one.
// - Only the new entry is stored (one scalar store after the item's line was loaded, so no
//   store-to-load forwarding within an item), not the whole line. A later item of the group that
//   shares the line loads it after that narrow store, which cannot be forwarded to the wide load
//   and waits for it: rare at 2^20 slots, and only a delay.
// - The totals of the 4 leaf lines, then of the 4 level-1 lines, come from one Totals4 each; at
//   levels >= 2 the total is the prefix scan's P_7 (the same bits), not a second summation.
// - Minima: the walk only lowers them, m = min(m, w) at every level (w of 0 counts as +inf),
//   which is exact whenever the minimum does not rise; when the slot held its block's minimum
//   and the new weight is above it, the block is queued for FinishUpdate's rescan, which then
//   recomputes the minima on its path.
// - The number of positive weights is counted per group for the new ones.
// - At the top level (when it is 3 or more) the walk only puts the entry and lowers the minimum;
//   FinishUpdate then forms that level's prefixes and the level above from it in one pass in
//   memory order (ScanTopAvx2), instead of a prefix scan per item there and a gather of every
//   child's total and minimum for the level above: 1.05-1.09x (A/B), the walk's last level was
//   ~20% of the update's time at 2^20 slots, k = 256.
// A batch that does not walk level 2 (top < 2: large against the tree) takes the generic walk.
URN_AVX2 int64_t SumTree::ApplyAvx2(const UpdatePlan& plan, absl::Span<const uint64_t> slots,
                                    absl::Span<const double> weights) {
  const int top = plan.top;
  if (top < 2) return ApplyLines<Avx2Line>(plan, slots, weights);
  const size_t k = slots.size();
  const bool prefetch23 = plan.prefetch2 || plan.prefetch3;
  double* const leaves = leaves_.data();
  double* const sums1 = sums1_.data();
  InnerNode* level[kMaxDepth];
  for (int l = 2; l <= top; ++l) level[l] = inner_[l - 1].data();
  uint64_t* const rescan = rescan_.data();
  size_t rescans = rescans_;
  const __m256d zero = _mm256_setzero_pd(), inf = _mm256_set1_pd(kInf);
  int64_t positives = 0;
  size_t i = 0;
  for (; i + kGroup <= k; i += kGroup) {
    const uint64_t* const s = slots.data() + i;
    if (i + kGroup + kAhead <= k && !prefetch23) {
      for (size_t g = 0; g < kGroup; ++g) {
        PrefetchToL2(leaves + s[g + kAhead]);
        PrefetchToL2(sums1 + (s[g + kAhead] >> 3));
      }
    } else {
      for (size_t g = 0; g < kGroup && i + g + kAhead < k; ++g) PrefetchUpdate(plan, s[g + kAhead]);
    }
    // The new weights (-0 made +0, so that equal weights have equal bits), and as minimum
    // candidates (0 -> +inf).
    alignas(32) double w[kGroup], cand[kGroup], total[kGroup];
    const __m256d wv = _mm256_add_pd(_mm256_loadu_pd(weights.data() + i), zero);
    const __m256d positive = _mm256_cmp_pd(wv, zero, _CMP_GT_OQ);
    positives += __builtin_popcount(static_cast<unsigned>(_mm256_movemask_pd(positive)));
    _mm256_store_pd(w, wv);
    _mm256_store_pd(cand, _mm256_blendv_pd(inf, wv, positive));
    double old[kGroup];
    Halves line[kGroup];
    for (size_t g = 0; g < kGroup; ++g) {
      double* const leaf = leaves + s[g];
      old[g] = *leaf;
      positives -= old[g] > 0;
      line[g] = LoadAndPut(leaves + (s[g] & ~uint64_t{7}), s[g], _mm256_broadcast_sd(&w[g]));
      *leaf = w[g];
    }
    _mm256_store_pd(total, Totals4(line));
    for (size_t g = 0; g < kGroup; ++g) {
      const uint64_t e1 = s[g] >> 3;
      line[g] = LoadAndPut(sums1 + (e1 & ~uint64_t{7}), e1, _mm256_broadcast_sd(&total[g]));
      sums1[e1] = total[g];
    }
    _mm256_store_pd(total, Totals4(line));
    __m256d up[kGroup];  // the total of each item's node at the level below, in every lane
    for (size_t g = 0; g < kGroup; ++g) {
      const uint64_t e2 = s[g] >> 6;
      InnerNode& node = level[2][e2 >> 3];
      double& min = node.min[e2 & 7];
      const double before = min;
      if (old[g] == before) [[unlikely]] {  // the slot held its block's minimum (> 0)
        if (w[g] != old[g] && !(cand[g] < before)) rescan[rescans++] = e2;
      }
      min = std::min(before, cand[g]);
      up[g] = PutAndScan(node, e2, _mm256_broadcast_sd(&total[g]));
    }
    for (int l = 3; l < top; ++l) {
      for (size_t g = 0; g < kGroup; ++g) {
        const uint64_t e = s[g] >> (3 * l);
        InnerNode& node = level[l][e >> 3];
        node.min[e & 7] = std::min(node.min[e & 7], cand[g]);
        up[g] = PutAndScan(node, e, up[g]);
      }
    }
    if (top >= 3) {
      // The top level: the entry and the minimum only; ScanTopAvx2 forms its prefixes.
      for (size_t g = 0; g < kGroup; ++g) {
        const uint64_t e = s[g] >> (3 * top);
        InnerNode& node = level[top][e >> 3];
        node.min[e & 7] = std::min(node.min[e & 7], cand[g]);
        _mm_store_sd(&node.sum[e & 7], _mm256_castpd256_pd128(up[g]));
      }
    }
  }
  rescans_ = rescans;
  for (; i < k; ++i) {
    if (i + kAhead < k) PrefetchUpdate(plan, slots[i + kAhead]);
    positives += WalkLines<Avx2Line, 1>(top, slots.data() + i, weights.data() + i);
  }
  return positives;
}

inline void SumTree::WalkItemNarrow(int top, uint64_t slot, double w, double old) {
  leaves_[slot] = w;
  if (top < 1) return;
  const uint64_t e1 = slot >> 3;
  sums1_[e1] = LastPrefix(ScanAfterStore(leaves_.data() + e1 * kFanout));
  if (top < 2) return;
  const uint64_t e2 = slot >> 6;
  bool min_changed = UpdateMin2(e2, w, old);
  InnerNode& node2 = inner_[1][e2 >> 3];
  SetAndScan(node2.sum, node2.prefix, static_cast<int>(e2 & 7),
             LastPrefix(ScanAfterStore(sums1_.data() + e2 * kFanout)));
  for (int l = 3; l <= top; ++l) {
    const uint64_t e = slot >> (3 * l);
    min_changed = UpdateMin(l, e, min_changed);
    InnerNode& node = inner_[l - 1][e >> 3];
    SetAndScan(node.sum, node.prefix, static_cast<int>(e & 7),
               inner_[l - 2][e].prefix[kFanout - 1]);
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
  // Start fetching the lines the first updates write while the batch is validated.
  for (size_t i = 0; i < std::min(slots.size(), kAhead); ++i) {
    if (slots[i] < size_) PrefetchUpdate({.top = depth_ > 1 ? 1 : 0}, slots[i]);
  }
  // One branch-free pass to accept the batch; the error, if any, is found by a second one.
  const bool bad = simd_ == Simd::kAvx512 ? AnyInvalidWide(slots, weights, size_)
                   : simd_ == Simd::kAvx2 ? AnyInvalidAvx2(slots, weights, size_)
                                          : AnyInvalid(slots, weights, size_);
  for (size_t i = 0; bad && i < slots.size(); ++i) {
    if (slots[i] >= size_) {
      return absl::InvalidArgumentError(
          absl::StrFormat("slot at index %d is %d, outside [0, %d)", i, slots[i], size_));
    }
    if (absl::Status s = ValidateWeight(i, weights[i]); !s.ok()) return s;
  }
  Apply(slots, weights);
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
    for (uint64_t node = 0; node < level_nodes_[l]; ++node) RecomputeNode(l, node);
  }
  RecomputeRoot();
  return absl::OkStatus();
}

uint64_t SumTree::DescendOne(double target) const {
  uint64_t node = 0;
  for (int l = depth_ - 1; l >= 0; --l) {
    if (l == 0) {
      const double* leaves = leaves_.data() + node * kFanout;
      node = node * kFanout + Select(Scan(leaves), leaves, &target);
    } else if (l == 1) {
      const double* sums = sums1_.data() + node * kFanout;
      node = node * kFanout + Select(Scan(sums), sums, &target);
    } else {
      const InnerNode& inner = inner_[l - 1][node];
      node = node * kFanout + Select(Load(inner.prefix), inner.sum, &target);
    }
  }
  return node;
}

void SumTree::DescendLockstep(double* targets, uint64_t* out, size_t count) const {
  for (size_t base = 0; base < count; base += kChunk) {
    const size_t m = std::min(kChunk, count - base);
    std::fill(out + base, out + base + m, 0);
    for (int l = depth_ - 1; l >= 0; --l) {
      switch (simd_) {
        case Simd::kAvx512:
          StepWide(l, out + base, targets + base, m);
          break;
        case Simd::kAvx2:
          StepAvx2(l, out + base, targets + base, m);
          break;
        case Simd::kSse2:
          StepNarrow(l, out + base, targets + base, m);
          break;
      }
    }
  }
}

// Inlined into Step (measured against the loop it replaced with the AVX2 kernels, A/B in one
// process at 2^20: 1.15x, of which ~1.03x from the root's own loop and ~1.09x from not moving
// the targets at the leaves; at 2^27, where the draws wait on memory, 0.95x-1.03x).
template <typename Kernels, bool kRoot, typename Line, typename Below>
[[gnu::always_inline]] inline void SumTree::StepLevel(const Line* lines, const Below* below,
                                                      uint64_t* node, double* t, size_t m) {
  for (size_t j = 0; j < m; ++j) {
    const uint64_t n = kRoot ? 0 : node[j];
    int k;
    if constexpr (std::is_same_v<Line, InnerNode>) {
      k = Kernels::SelectPrefixes(lines[n].prefix, lines[n].sum, &t[j]);
    } else {
      k = Kernels::template SelectValues<!std::is_same_v<Below, std::nullptr_t>>(lines[n].value,
                                                                                 &t[j]);
    }
    node[j] = n * kFanout + k;
    if constexpr (std::is_same_v<Below, InnerNode>) {
      PrefetchToL2(below[node[j]].prefix);
    } else if constexpr (!std::is_same_v<Below, std::nullptr_t>) {
      PrefetchToL2(below[node[j]].value);
    }
  }
}

// The one body of StepNarrow, StepAvx2 and StepWide, inlined into each with its kernels (plain
// inline functions, so that the AVX-512 ones are inlined only into the AVX-512 caller). The
// arrays' addresses are read once per level: inside the loop, the stores to node[] and t[]
// would make the compiler reload them for every descent.
template <typename Kernels>
[[gnu::always_inline]] inline void SumTree::Step(int level, uint64_t* node, double* t,
                                                 size_t m) const {
  const auto* const sums1 = reinterpret_cast<const ValueLine*>(sums1_.data());
  const auto* const leaves = reinterpret_cast<const ValueLine*>(leaves_.data());
  if (level >= 3 && level == depth_ - 1) {
    StepLevel<Kernels, true>(inner_[level - 1].data(), inner_[level - 2].data(), node, t, m);
  } else if (level >= 3) {
    StepLevel<Kernels, false>(inner_[level - 1].data(), inner_[level - 2].data(), node, t, m);
  } else if (level == 2) {
    StepLevel<Kernels, false>(inner_[1].data(), sums1, node, t, m);
  } else if (level == 1) {
    StepLevel<Kernels, false>(sums1, leaves, node, t, m);
  } else {
    StepLevel<Kernels, false>(leaves, static_cast<const std::nullptr_t*>(nullptr), node, t, m);
  }
}

void SumTree::StepNarrow(int level, uint64_t* node, double* t, size_t m) const {
  Step<NarrowKernels>(level, node, t, m);
}

URN_AVX2 void SumTree::StepAvx2(int level, uint64_t* node, double* t, size_t m) const {
  Step<Avx2Kernels>(level, node, t, m);
}

URN_AVX512 void SumTree::StepWide(int level, uint64_t* node, double* t, size_t m) const {
  Step<WideKernels>(level, node, t, m);
}

void SumTree::Descend(double* targets, uint64_t* out, size_t count) const {
  if (options_.lockstep && count >= kLockstepMin) {
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
  Targets targets(out.size());
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
  Targets targets(out.size());
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
    Apply(absl::MakeConstSpan(zeroed).subspan(old), zeros);
  };

  // Phase 1: rounds of independent draws (in lockstep, see Descend), keeping first occurrences. A
  // draw that repeats a taken slot is rejected, so each kept slot is distributed as successive
  // sampling requires. Between rounds the taken slots are zeroed, which only removes rejections.
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
  Apply(zeroed, saved);
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
  for (uint64_t e = 0; depth_ >= 2 && e < sums1_.size(); ++e) {
    const double sum = e < level_nodes_[0] ? NodeTotal(0, e) : 0.0;
    if (!bits_equal(sums1_[e], sum)) {
      return absl::InternalError(
          absl::StrFormat("level 1 entry %d holds %a, a rebuild gives %a", e, sums1_[e], sum));
    }
  }
  for (int l = 2; l < depth_; ++l) {
    for (uint64_t e = 0; e < level_nodes_[l] * kFanout; ++e) {
      double sum = 0, min = kInf;
      if (e < level_nodes_[l - 1]) {
        sum = NodeTotal(l - 1, e);
        min = NodeMinimum(l - 1, e);
      }
      const InnerNode& node = inner_[l - 1][e / kFanout];
      if (!bits_equal(node.sum[e % kFanout], sum) || !bits_equal(node.min[e % kFanout], min)) {
        return absl::InternalError(
            absl::StrFormat("level %d entry %d holds (%a, %a), a rebuild gives (%a, %a)", l, e,
                            node.sum[e % kFanout], node.min[e % kFanout], sum, min));
      }
      if (e % kFanout == kFanout - 1) {
        alignas(16) double prefix[kFanout];
        Store(Scan(node.sum), prefix);
        if (std::memcmp(prefix, node.prefix, sizeof prefix) != 0) {
          return absl::InternalError(
              absl::StrFormat("level %d node %d: prefixes differ from its sums", l, e / kFanout));
        }
      }
    }
  }
  const auto [total, min] = RootValues();
  if (!bits_equal(total_, total) || !bits_equal(min_positive_, min)) {
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
  if (depth_ >= 2 &&
      std::memcmp(sums1_.data(), other.sums1_.data(), sums1_.size() * sizeof(double)) != 0) {
    return false;
  }
  for (size_t l = 1; l < inner_.size(); ++l) {
    if (std::memcmp(inner_[l].data(), other.inner_[l].data(),
                    inner_[l].size() * sizeof(InnerNode)) != 0) {
      return false;
    }
  }
  return true;
}

}  // namespace urn::weights
