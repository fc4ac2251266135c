// Indexing of small combinatorial outcomes (orders, ordered tuples, subsets) as cell numbers,
// for chi-square tests of samplers against their exact distribution.
#ifndef URN_TESTS_SUPPORT_ORDERS_H_
#define URN_TESTS_SUPPORT_ORDERS_H_

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <vector>

namespace urn::testing {

// The rank in [0, m!) of a sequence of m distinct values among all orderings of those values
// (its Lehmer code).
inline int OrderRank(const std::vector<uint64_t>& values) {
  int rank = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    int smaller_after = 0;
    for (size_t j = i + 1; j < values.size(); ++j) smaller_after += values[j] < values[i];
    rank = rank * static_cast<int>(values.size() - i) + smaller_after;
  }
  return rank;
}

// The values as digits base n: the cell of an ordered tuple drawn from [0, n), in [0, n^k).
inline uint64_t TupleCell(const std::vector<uint64_t>& values, uint64_t n) {
  uint64_t cell = 0;
  for (uint64_t v : values) cell = cell * n + v;
  return cell;
}

// The subset as a bit mask (values < 64).
inline uint64_t SubsetMask(const std::vector<uint64_t>& values) {
  uint64_t mask = 0;
  for (uint64_t v : values) mask |= uint64_t{1} << v;
  return mask;
}

// 0, 1, ..., n-1: the identity, what a sorted permutation of [0, n) must equal.
inline std::vector<uint64_t> Iota(uint64_t n) {
  std::vector<uint64_t> v(n);
  std::iota(v.begin(), v.end(), uint64_t{0});
  return v;
}

}  // namespace urn::testing

#endif  // URN_TESTS_SUPPORT_ORDERS_H_
