// RunQuery: runs a Plan (planner.h) over a Table and returns the sampled rows.
//
// Two steps. First the plan's Program evaluates the WHERE filter and the sampling weight for
// every row, in parallel over `threads` threads (a pure function of the row, so the result does
// not depend on the thread count). Then the core sampler named by the plan runs with the
// request's seed (or the query's REPEATABLE seed), exactly as the command line runs it for the
// equivalent flags; see planner.h for the mapping and for how WHERE interacts with each
// sampler's randomness. Weighted sampling without replacement fuses the two steps: chunks of
// 256Ki rows are evaluated into a cache-resident buffer and each keeps its k + 1 smallest
// exponential keys (keyed by the global row index); merging them gives exactly
// WeightedSampleWithoutReplacement over the whole weight column, without materializing it.
//
// Output order: weighted without replacement: selection order; with replacement: draw order
// (the d-th row is draw d, a row may repeat); reservoir: random; everything else: input order.
// Weights (only when the query says WITH WEIGHT AS name): the Horvitz–Thompson weight of each
// output row, 1/(its inclusion probability): 1/p for Bernoulli and universe; 1 or 1/p for
// DISTINCT; N/k for reservoir over N passing rows; the rank-conditioning weights of
// weighted_without_replacement.h; for draws with replacement the Hansen–Hurwitz weight
// W / (draws * w_i); 1 for a plain SELECT.
//
// Edge cases: no row with positive weight (or no passing row) gives an empty result, not an
// error. A weight that is negative, NaN or infinite is InvalidArgument naming the data row.
// A table whose columns differ from the plan's schema is FailedPrecondition.
//
// Cost: O(rows) for evaluation (a few ns per row per condition) plus the sampler's cost.
// Memory: weighted without replacement: 4 MiB per thread plus k + 1 candidates per 256Ki rows;
// with replacement: 8 bytes per row of weights plus the alias table (16); others: one byte
// per row for the filter; plus the result, except for draws with replacement asked for lazily
// (Draws::kLazy), which cost nothing per draw until they are read: LIMIT may be far larger than
// the table (up to QueryLimits::max_limit), and a server should not hold it all at once.
// Thread safety: reentrant; the Plan and Table are only read.
#ifndef URN_QUERY_EVALUATOR_H_
#define URN_QUERY_EVALUATOR_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "query/limits.h"
#include "query/planner.h"
#include "samplers/alias_table.h"
#include "samplers/hansen_hurwitz.h"
#include "table/table.h"

namespace urn::query {

struct QueryResult {
  std::vector<uint64_t> rows;                // 0-based row indices into the table, in output order
  std::optional<std::string> weight_column;  // WITH WEIGHT AS name
  std::vector<double> weights;               // one per row when weight_column is set, else empty
  uint64_t rows_scanned = 0;                 // rows of the table
  uint64_t rows_passed = 0;                  // rows that passed WHERE
  // Draws with replacement run with Draws::kLazy leave rows and weights empty: there are
  // lazy_count draws, and lazy(first, out, weights) writes draws [first, first + out.size()) to
  // out and, when weight_column is set and weights is not null, their weights to weights[]:
  // exactly what the materialized result holds there. Thread-safe; it keeps what it needs.
  uint64_t lazy_count = 0;
  std::function<void(uint64_t first, std::span<uint64_t> out, double* weights)> lazy;

  uint64_t size() const { return lazy ? lazy_count : rows.size(); }
};

// Whether draws with replacement are materialized in QueryResult::rows or left to ::lazy.
enum class Draws { kMaterialized, kLazy };

absl::StatusOr<QueryResult> RunQuery(const Plan& plan, const table::Table& table, uint64_t seed,
                                     int threads = 1, Draws draws = Draws::kMaterialized);

// SAMPLE BY ... REPLACE true in two parts, so that a caller can keep the first across requests
// (urnd caches it by dataset and query text). The first depends only on the plan and the table,
// O(rows): each row's weight (0 where WHERE fails), their total, the rows passing WHERE, and the
// alias table when the total is positive. The second applies LIMIT and the seed (REPEATABLE
// overrides it): the same QueryResult as RunQuery, which is these two calls; the result keeps
// `weights` alive while its lazy draws need it.
struct ReplacementWeights {
  std::vector<double> weights;
  samplers::HansenHurwitzTotal total;  // of `weights`
  uint64_t passed = 0;
  std::optional<samplers::AliasTable> alias;

  // Draws [first, first + out.size()) of `draws` with `seed` and, when hh is not null, their
  // Hansen-Hurwitz weights W / (draws * w_i). REQUIRES: alias.
  void Draw(uint64_t seed, uint64_t draws, uint64_t first, std::span<uint64_t> out,
            double* hh) const;
};
absl::StatusOr<ReplacementWeights> EvaluateReplacementWeights(const Plan& plan,
                                                              const table::Table& table,
                                                              int threads = 1);
QueryResult DrawWithReplacement(const Plan& plan, uint64_t rows_scanned,
                                std::shared_ptr<const ReplacementWeights> weights, uint64_t seed,
                                Draws mode);

// ParseQuery, PlanQuery and RunQuery in one call (errors carry positions; see FormatError).
absl::StatusOr<QueryResult> RunQueryText(std::string_view text, const table::Table& table,
                                         uint64_t seed, int threads = 1,
                                         const QueryLimits& limits = {},
                                         Draws draws = Draws::kMaterialized);

}  // namespace urn::query

#endif  // URN_QUERY_EVALUATOR_H_
