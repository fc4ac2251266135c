// Fuzz target for the query language: the bytes are a query. It is lexed, parsed and planned
// against a small fixed table with a column of every type (with nulls), and, when planning
// succeeds, run on that table. Aborts if an error from the parser or planner lacks a position,
// if a result row is out of range, if the weights do not match the rows, or if the same plan
// on the table indexed by dictionaries (urnd's datasets) gives another result or error.
//   tests/fuzz/build_and_run.sh fuzz_query 600
#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "query/error.h"
#include "query/evaluator.h"
#include "query/parser.h"
#include "query/planner.h"
#include "table/table.h"
#include "table/table_builder.h"

namespace {

urn::table::Table MakeFixedTable() {
  urn::table::ReadOptions o;
  o.list_delimiter = '|';
  o.column_types = {{"tags", urn::table::Type::kStringList}};
  urn::table::TableBuilder builder(o);
  std::string tsv = "label\tn\tx\tok\ttags\tw\n";
  const char* labels[] = {"cat", "dog", "", "Hernia", "a-longer-label", "héllo"};
  for (int i = 0; i < 300; ++i) {
    tsv += labels[i % 6];
    tsv += "\t" + (i % 11 == 0 ? std::string() : std::to_string(i * 7919 % 1000 - 500));
    tsv += "\t" + (i % 13 == 0 ? std::string() : std::to_string(i * 0.37));
    tsv += std::string("\t") + (i % 5 == 0 ? "" : i % 2 ? "true" : "false");
    tsv += std::string("\t") + (i % 7 == 0 ? "" : i % 3 ? "x|Hernia" : "y");
    tsv += "\t" + std::to_string(i % 4) + "\n";
  }
  if (!builder.Append(tsv).ok()) std::abort();
  auto t = builder.Finish();
  if (!t.ok()) std::abort();
  return std::move(*t);
}

const urn::table::Table& FixedTable() {
  static const urn::table::Table* table = new urn::table::Table(MakeFixedTable());
  return *table;
}

const urn::table::Table& IndexedTable() {
  static const urn::table::Table* table = [] {
    auto* t = new urn::table::Table(MakeFixedTable());
    t->BuildDictionaries();
    return t;
  }();
  return *table;
}

bool SameBits(const std::vector<double>& a, const std::vector<double>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](double x, double y) {
    return std::bit_cast<uint64_t>(x) == std::bit_cast<uint64_t>(y);
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  urn::query::QueryLimits limits;
  limits.max_query_bytes = 4096;
  limits.max_limit = 5000;  // keeps draws with replacement small
  const urn::table::Table& table = FixedTable();

  absl::StatusOr<urn::query::Query> query = urn::query::ParseQuery(text, limits);
  if (!query.ok()) {
    if (!urn::query::ErrorLocationOf(query.status())) std::abort();
    (void)urn::query::FormatError(text, query.status());
    return 0;
  }
  (void)urn::query::QueryToString(*query);
  absl::StatusOr<urn::query::Plan> plan = urn::query::PlanQuery(*query, table);
  if (!plan.ok()) {
    if (!urn::query::ErrorLocationOf(plan.status())) std::abort();
    (void)urn::query::FormatError(text, plan.status());
    return 0;
  }
  (void)plan->Explain();
  const int threads = 1 + static_cast<int>(size % 2);
  absl::StatusOr<urn::query::QueryResult> result =
      urn::query::RunQuery(*plan, table, size, threads);
  absl::StatusOr<urn::query::QueryResult> indexed =
      urn::query::RunQuery(*plan, IndexedTable(), size, threads);
  if (result.ok() != indexed.ok()) std::abort();
  if (!result.ok() && result.status() != indexed.status()) std::abort();
  if (result.ok() &&
      (result->rows != indexed->rows || !SameBits(result->weights, indexed->weights) ||
       result->rows_passed != indexed->rows_passed)) {
    std::abort();
  }
  if (!result.ok()) {
    // Only data errors (a bad weight) may happen at run time.
    if (result.status().code() != absl::StatusCode::kInvalidArgument) std::abort();
    return 0;
  }
  for (uint64_t row : result->rows) {
    if (row >= static_cast<uint64_t>(table.num_rows())) std::abort();
  }
  if (result->weight_column.has_value() != plan->weight_column.has_value()) std::abort();
  if (result->weight_column && result->weights.size() != result->rows.size()) std::abort();
  // Draws::kLazy: read in batches, the same rows and weights, bit for bit.
  absl::StatusOr<urn::query::QueryResult> lazy =
      urn::query::RunQuery(*plan, table, size, threads, urn::query::Draws::kLazy);
  if (!lazy.ok() || lazy->size() != result->rows.size()) std::abort();
  if (lazy->lazy) {
    const uint64_t n = lazy->lazy_count, batch = 1 + size % 300;
    std::vector<uint64_t> rows(n);
    std::vector<double> weights(result->weight_column ? n : 0);
    for (uint64_t first = 0; first < n; first += batch) {
      const uint64_t m = std::min(batch, n - first);
      lazy->lazy(first, std::span<uint64_t>(rows.data() + first, m),
                 weights.empty() ? nullptr : weights.data() + first);
    }
    lazy->rows = std::move(rows);
    lazy->weights = std::move(weights);
  }
  if (lazy->rows != result->rows || !SameBits(lazy->weights, result->weights)) std::abort();
  return 0;
}
