// QueryLimits: the bounds every query is checked against before any row is read.
//
// A query comes from a user (the command line) or from a network client (urnd), so its size
// and shape are bounded: the parser never recurses deeper than max_depth, never builds more
// than max_query_bytes worth of tokens, and every list in the language has a cap. Exceeding a
// limit is InvalidArgument with a message naming the limit, its value, and what to do instead.
//
// Thread safety: a plain value.
#ifndef URN_QUERY_LIMITS_H_
#define URN_QUERY_LIMITS_H_

#include <cstdint>

namespace urn::query {

struct QueryLimits {
  // Bytes of query text. 64 KiB holds any query a person writes.
  int64_t max_query_bytes = 64 << 10;
  // Nesting of an expression: parentheses, function calls, NOT and unary minus, and the height
  // of chains of binary operators (`a + b + c` is 3 levels; AND / OR chains are flattened and
  // count once). Bounds the parser's recursion and the evaluator's program size.
  int max_depth = 64;
  // Condition/weight pairs in max_weight(...) / sum_weight(...).
  int max_conditions = 256;
  // Values in one IN (...) list and arguments of one function call (coalesce).
  int max_list_items = 4096;
  // Columns in a U-SQL ON list.
  int max_key_columns = 64;
  // Largest LIMIT, DuckDB ROWS count, or DISTINCT min_rows: the output of one query holds
  // 8 bytes per row (16 with weights), so this bounds its memory (2^27 rows: 1-2 GiB). A
  // server should set it from the caller's plan.
  uint64_t max_limit = uint64_t{1} << 27;
  // Bytes of the registers one thread evaluates a block of rows in (Program::ScratchBytes):
  // every distinct constant, column and intermediate value holds Program::kBlockRows values,
  // so a 64 KiB query of distinct literals would otherwise take ~300 MiB per thread. 16 MiB
  // holds 256 max_weight conditions with their weights several times over.
  int64_t max_scratch_bytes = 16 << 20;
};

}  // namespace urn::query

#endif  // URN_QUERY_LIMITS_H_
