// PlanQuery: checks a parsed query against a table's columns and compiles it into a Plan —
// the core sampler to run, its parameters, and a vectorized Program (program.h) for the
// WHERE filter and the sampling weight. Every name and type error is found here, before any
// row is read, as an InvalidArgument pointing into the query text (error.h).
//
// Name resolution: a "quoted" column matches exactly; a bare one matches exactly, else the
// only column equal to it ignoring ASCII case. An unknown column suggests the nearest name.
// Types: int64 and double mix in arithmetic and comparisons (as doubles; integers beyond
// 2^53 lose precision); strings compare bytewise with strings, bools with bools; nothing else
// compares (a string with a number is an error: quote the number). list<string> columns are
// only used through contains(col, 'x'), length(col) and IS [NOT] NULL.
// Functions: contains(list|string, string) -> bool (element equality on lists, substring on
// strings); lower/upper(string) (ASCII); length(string|list) -> int64 (UTF-8 characters or
// elements); abs(number); ln(number), exp(number) -> double; coalesce(x, y, ...) -> the first
// non-null argument (arguments of one type; numbers mix).
//
// Which core sampler each query form runs (the same calls the command line makes for the
// equivalent flags, so one seed gives one sample; for keys, see UNIVERSE):
//   SAMPLE BY w REPLACE false LIMIT k   weighted without replacement (exponential keys),
//                                       selection order; k defaults to the rows passing WHERE.
//                                       Rows of weight 0 are never drawn (Deep Lake), so k
//                                       above the positive rows gives those only; `urn sample
//                                       -n k -w` appends the weight-0 rows last, as tsv-sample
//   SAMPLE BY w [REPLACE true] [LIMIT k]  alias-table draws with replacement, draw order
//   U-SQL UNIFORM (p), DuckDB p% / p% (bernoulli|system)   Bernoulli(p) in skip mode, input
//                                       order (urn samples rows, never DuckDB's vectors)
//   DuckDB n ROWS, n, reservoir(n ROWS), p% (reservoir)   reservoir (algorithm L), random
//                                       order; p% of the rows passing WHERE, rounded
//   U-SQL ON cols UNIVERSE (p)          universe on HashKeyColumns of the columns' typed
//                                       text (a value's canonical form, as a dataset on urnd
//                                       returns it: 01, 1.0 and 1e0 in an int64 or double
//                                       column are one key, while -0 and 0 stay two; `urn
//                                       sample -k` on a file hashes the raw text, so the two
//                                       agree wherever a key column's text is canonical)
//   U-SQL ON cols DISTINCT (p, m)       distinct sampler, input order
//   SELECT * [WHERE e]                  every passing row, input order
// WHERE runs first. Rows keep their ORIGINAL row index as the key of their randomness
// (weighted samplers give filtered rows weight 0; Bernoulli and universe decide per original
// row), so adding a WHERE does not reshuffle the rows that survive it. The exceptions are the
// sequential samplers: reservoir counts positions among the passing rows, and DISTINCT counts
// each key's passing rows in input order.
//
// Thread safety: PlanQuery is reentrant; a Plan is immutable and may be run concurrently.
#ifndef URN_QUERY_PLANNER_H_
#define URN_QUERY_PLANNER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "query/ast.h"
#include "query/limits.h"
#include "query/program.h"
#include "table/table.h"
#include "table/value.h"

namespace urn::query {

struct ColumnSchema {
  std::string name;
  table::Type type = table::Type::kString;
};
// The columns a query is planned against, in table order.
using Schema = std::vector<ColumnSchema>;
Schema SchemaOf(const table::Table& table);

enum class SamplerKind {
  kAll,                         // no sampling: every row that passes WHERE
  kWeightedWithReplacement,     // AliasTable draws
  kWeightedWithoutReplacement,  // WeightedSampleWithoutReplacement
  kBernoulli,                   // SampleBernoulli (skip mode)
  kReservoir,                   // SampleReservoir over the passing rows, random order
  kUniverse,                    // UniverseSampler on the key columns
  kDistinct,                    // DistinctSampler on the key columns
};
const char* SamplerKindName(SamplerKind kind);

struct Plan {
  Schema schema;                      // what the plan was checked against
  std::optional<std::string> source;  // FROM / SAMPLE name, as written
  SamplerKind sampler = SamplerKind::kAll;
  std::shared_ptr<const Program> program;  // filter and/or weight; never null
  // Weighted: LIMIT (unset: the number of rows passing WHERE). Reservoir: the row count
  // (unset: round(fraction * rows passing WHERE)).
  std::optional<uint64_t> count;
  double fraction = 1;           // Bernoulli, universe, distinct, reservoir by percentage
  uint64_t min_rows = 0;         // distinct
  std::vector<int> key_columns;  // universe, distinct
  std::optional<uint64_t> seed;  // REPEATABLE: overrides the request's seed
  std::optional<std::string> weight_column;  // WITH WEIGHT AS

  // A readable description: sampler, parameters, and the program listing.
  std::string Explain() const;
};

// Limits: QueryLimits::max_scratch_bytes (the program's registers per evaluating thread).
absl::StatusOr<Plan> PlanQuery(const Query& query, const Schema& schema,
                               const QueryLimits& limits = {});
inline absl::StatusOr<Plan> PlanQuery(const Query& query, const table::Table& table,
                                      const QueryLimits& limits = {}) {
  return PlanQuery(query, SchemaOf(table), limits);
}

}  // namespace urn::query

#endif  // URN_QUERY_PLANNER_H_
