// Weighted sampling without replacement: k rows drawn one after another, each draw picking a
// remaining row with probability proportional to its weight.
//
// Algorithm: exponential keys (Efraimidis & Spirakis, "Weighted random sampling with a
// reservoir", IPL 97(5), 2006, algorithm A-ES in the -ln(u)/w form). Row i gets
// E_i = -ln(u_i), u_i = U(seed, kWeighted, i) (or of the caller's row key), and the sample is
// the k rows with the smallest E_i / w_i; in ascending key order they are the successive
// weighted draws. Keys are compared exactly over the whole double range (exponential_key.h):
// weights from subnormal to 1.8e308 may be mixed. Exact key ties (probability ~2^-53) go to
// the lower row index.
//
// One pass keeping the k+1 smallest keys and a running threshold T (the (k+1)-th smallest key
// so far). Most rows are rejected by a vectorized test that needs no logarithm
// (exponential_key_filter.h); only candidates (~(k+1) ln(n/k) of them in random order) compute
// their exact key and go to a buffer of 2(k+1) entries that a selection cuts back when full.
// Rows are split into chunks scanned by `threads` threads; the smallest keys of a union are the
// smallest of the chunks' smallest keys, so the result does not depend on the thread count.
// With one seed the sample of k is the first k rows of the sample of k' > k.
//
// Horvitz–Thompson weights. The inclusion probability of successive weighted draws has no
// closed form, so ht_weights are the rank-conditioning weights of bottom-k sketches with
// exponential ranks (Cohen & Kaplan, "Summarizing data using bottom-k sketches", PODC 2007):
// with tau the (k+1)-th smallest key, pi_i = 1 - exp(-w_i tau) and the weight is 1 / pi_i.
// pi_i is row i's inclusion probability conditioned on the keys of all other rows, so
// sum(y_i / pi_i) over the sample is an unbiased estimate of the total of y. When at most k
// rows have positive weight every one is taken and its weight is 1. (A row whose u is exactly 1,
// probability 2^-53, has key 0 and may get weight +inf when w_i tau underflows.)
//
// Time O(n + k log(n/k)) expected (the second term costs a logarithm each); ~0.5 ns per row
// on AVX-512 with two threads. Memory O(k) per thread. Input: weights finite and >= 0 (zero-weight
// rows are never selected; a negative, NaN or infinite weight is InvalidArgument naming the lowest
// such row). Thread safety: the functions are reentrant; inputs are only read.
#ifndef URN_SAMPLERS_WEIGHTED_WITHOUT_REPLACEMENT_H_
#define URN_SAMPLERS_WEIGHTED_WITHOUT_REPLACEMENT_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "samplers/sample.h"

namespace urn::samplers {

enum class SampleOrder {
  kSelection,  // the order of successive draws (ascending key); a prefix is a smaller sample
  kInput,      // ascending row index
};

struct WeightedOptions {
  uint64_t seed = 0;
  // Threads scanning the rows (the caller's thread is one of them). Any value gives the same
  // result; populations below 64Ki rows per thread use fewer threads.
  int threads = 1;
  SampleOrder order = SampleOrder::kSelection;
  // Fill Sample::ht_weights (see above).
  bool ht_weights = false;
  // WeightedSampleWithoutReplacement: when fewer than k rows have positive weight (all taken,
  // HT weight 1), rows of weight 0 follow in input order up to k, so that the sample is the
  // first k rows of WeightedShuffle (as tsv-sample's -n -w). Off: zero-weight rows are never
  // selected.
  bool zero_weight_rows_follow = false;
};

// A row and its exponential key (exponential_key.h); ordered by (key, row).
struct KeyedRow {
  uint64_t key;
  uint64_t row;
  friend bool operator<(const KeyedRow& a, const KeyedRow& b) {
    return a.key != b.key ? a.key < b.key : a.row < b.row;
  }
  friend bool operator==(const KeyedRow& a, const KeyedRow& b) = default;
};

// The `count` rows of positive weight with the smallest exponential keys (fewer if fewer have
// positive weight), ascending by (key, row). The building block of the samplers below and of
// merging shards: the smallest keys of a union are the smallest of the parts' smallest keys.
// If `row_keys` is not empty it must have one entry per weight, and row i draws
// U(seed, kWeighted, row_keys[i]) instead of U(seed, kWeighted, i).
absl::StatusOr<std::vector<KeyedRow>> SmallestExponentialKeys(std::span<const double> weights,
                                                              std::span<const uint64_t> row_keys,
                                                              uint64_t count, uint64_t seed,
                                                              int threads);

// Weights computed block by block instead of read from an array (e.g. a query's weight
// expression), so that a scan never materializes one weight per row.
class WeightSource {
 public:
  static constexpr size_t kBlockRows = 1024;

  virtual ~WeightSource() = default;

  // One scanning thread's reader. Read(begin, n, out) writes the weights of rows
  // [begin, begin + n) to out, 0 < n <= kBlockRows; one reader reads ascending, disjoint
  // blocks. A non-OK status stops the scan and is returned by it.
  class Reader {
   public:
    virtual ~Reader() = default;
    virtual absl::Status Read(uint64_t begin, size_t n, double* out) = 0;
  };

  // Called once per scanning thread, possibly concurrently.
  virtual std::unique_ptr<Reader> NewReader() const = 0;
};

// A row, its key and its weight.
struct WeightedKeyedRow {
  KeyedRow keyed;
  double weight;
  friend bool operator<(const WeightedKeyedRow& a, const WeightedKeyedRow& b) {
    return a.keyed < b.keyed;
  }
};

// SmallestExponentialKeys over rows [0, n) whose weights `source` computes (row i draws
// U(seed, kWeighted, i)), with the weight of each kept row. Same result as the array form on
// the same weights. When several readers fail, the status of the lowest rows is returned.
absl::StatusOr<std::vector<WeightedKeyedRow>> SmallestExponentialKeys(uint64_t n,
                                                                      const WeightSource& source,
                                                                      uint64_t count, uint64_t seed,
                                                                      int threads);

// A weighted sample of min(k, #rows with positive weight) rows without replacement (with
// options.zero_weight_rows_follow, min(k, #rows): see there).
absl::StatusOr<Sample> WeightedSampleWithoutReplacement(std::span<const double> weights, uint64_t k,
                                                        const WeightedOptions& options = {});

// As above, with row i's randomness keyed by row_keys[i] (e.g. random::HashKey of its primary
// key), so that a row gets the same key wherever it is stored. REQUIRES-checked: same sizes.
absl::StatusOr<Sample> WeightedSampleWithoutReplacement(std::span<const double> weights,
                                                        std::span<const uint64_t> row_keys,
                                                        uint64_t k,
                                                        const WeightedOptions& options = {});

}  // namespace urn::samplers

#endif  // URN_SAMPLERS_WEIGHTED_WITHOUT_REPLACEMENT_H_
