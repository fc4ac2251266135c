// PrefetchToL2: asks for the cache line holding `p` to be brought into L2 (PREFETCHT1 on
// x86-64), for the random reads of the hot paths: alias-table draws, sum-tree descents and
// updates, and WeightStore draws. Each requests a batch of such lines before it reads them, so
// that their misses overlap instead of coming one after another.
//
// Why L2 and not L1: measured on AMD Zen 4 (2026-11), prefetches into L1 (PREFETCHT0, or
// PREFETCHW for lines about to be written) ran out of L1 miss buffers, and the core stalled on
// the prefetch instruction itself:
//   BM_AliasSample/10000000     80-86 M draws/s into L1, 163-178 M/s into L2;
//   BM_SumTreeSample/2^27       1.45x slower into L1 (the same at 2^20);
//   BM_SumTreeUpdate/2^20       38-48 M/s with PREFETCHW, 49-51 M/s into L2;
//   BM_WeightStoreSample/2^20   25.4 us a batch unprefetched, 13.2 us into L2.
// PREFETCHT2 measured the same as T1. It is only a hint: results never depend on it.
//
// Always inlined: with GCC 12, where the inliner declined a call to it, the call was dropped,
// prefetch and all (seen in the AVX2 sum-tree update walk, and in every update walk of a build
// without -fPIC: the objects had no PREFETCHT1 left there, and the walk ran 2.5x slower). Inlined,
// the prefetch instruction stays.
#ifndef URN_BASE_PREFETCH_H_
#define URN_BASE_PREFETCH_H_

namespace urn {

[[gnu::always_inline]] inline void PrefetchToL2(const void* p) {
  __builtin_prefetch(p, /*rw=*/0, /*locality=*/2);
}

}  // namespace urn

#endif  // URN_BASE_PREFETCH_H_
