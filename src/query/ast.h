// The abstract syntax tree of a sampling query, as ParseQuery (parser.h) builds it.
//
// Three dialects parse into one Query:
//   TQL     SELECT * [FROM name] [WHERE e] SAMPLE BY max_weight(c: w, ...) [REPLACE b] [LIMIT n]
//   U-SQL   SAMPLE [name] UNIFORM (p) | ON cols UNIVERSE (p) | ON cols DISTINCT (p, m)
//   DuckDB  SELECT * [FROM name] [WHERE e] USING SAMPLE n ROWS | p% [(method[, seed])] ...
// and all accept a trailing WITH WEIGHT AS name. Names are kept as written; columns are
// resolved and types checked by the planner (planner.h). Every node keeps its source span so
// that later errors can point at it.
//
// Ownership: a Query owns its expression trees (unique_ptr children). Tree height is bounded
// by QueryLimits::max_depth, so recursive walks are safe.
// Thread safety: immutable after parsing; share const references freely.
#ifndef URN_QUERY_AST_H_
#define URN_QUERY_AST_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "query/error.h"

namespace urn::query {

// A constant written in the query.
struct Literal {
  enum class Kind { kInt, kDouble, kString, kBool };
  Kind kind = Kind::kInt;
  int64_t int_value = 0;
  double double_value = 0;
  std::string string_value;
  bool bool_value = false;
};

enum class ExprKind {
  kColumn,   // name
  kLiteral,  // literal
  kNot,      // NOT args[0]
  kNegate,   // -args[0]
  kBinary,   // args[0] op args[1]: comparison or arithmetic
  kAnd,      // args[0] AND args[1] AND ... (flattened, >= 2 args)
  kOr,       // args[0] OR args[1] OR ... (flattened, >= 2 args)
  kIn,       // args[0] [NOT] IN (args[1], ...): the list holds literals
  kIsNull,   // args[0] IS [NOT] NULL
  kCall,     // name(args...): name lower-cased
};

enum class BinaryOp { kEq, kNe, kLt, kLe, kGt, kGe, kAdd, kSub, kMul, kDiv, kMod };

// "==", "!=", "<", ..., "+", "%".
const char* BinaryOpName(BinaryOp op);
bool IsComparison(BinaryOp op);

struct Expr {
  ExprKind kind = ExprKind::kLiteral;
  SourceSpan span;       // the whole expression
  SourceSpan op_span;    // the operator, function name or column name
  std::string name;      // kColumn: the column as written (decoded if quoted); kCall: function
  bool quoted = false;   // kColumn: written in "double quotes" (matched exactly)
  bool negated = false;  // kIn: NOT IN; kIsNull: IS NOT NULL
  BinaryOp op = BinaryOp::kEq;
  Literal literal;
  int height = 1;  // 1 for a leaf; 1 + the tallest child otherwise
  std::vector<std::unique_ptr<Expr>> args;
};

// Renders an expression in a canonical fully parenthesized form for tests and EXPLAIN:
// (== label 'cat'), (and a b c), (contains findings 'Hernia'), "quoted name".
std::string ExprToString(const Expr& e);

// TQL: SAMPLE BY ...
struct WeightCase {
  std::unique_ptr<Expr> condition;
  std::unique_ptr<Expr> weight;
};
struct SampleBy {
  enum class Choice { kExpression, kMaxWeight, kSumWeight };
  Choice choice = Choice::kExpression;
  SourceSpan span;                // `max_weight(...)` or the expression
  std::unique_ptr<Expr> weight;   // kExpression
  std::vector<WeightCase> cases;  // kMaxWeight, kSumWeight
  bool replace = true;            // REPLACE true|false (default true)
  std::optional<uint64_t> limit;  // LIMIT n
  SourceSpan limit_span;
};

// A column named in a U-SQL ON list.
struct ColumnName {
  std::string name;
  bool quoted = false;
  SourceSpan span;
};

// U-SQL: SAMPLE ... UNIFORM (fraction)
struct UniformSample {
  double fraction = 1;
  SourceSpan fraction_span;
};
// U-SQL: SAMPLE ... ON columns UNIVERSE (fraction)
struct UniverseSample {
  std::vector<ColumnName> columns;
  double fraction = 1;
  SourceSpan fraction_span;
};
// U-SQL: SAMPLE ... ON columns DISTINCT (fraction, min_rows)
struct DistinctSample {
  std::vector<ColumnName> columns;
  double fraction = 1;
  SourceSpan fraction_span;
  uint64_t min_rows = 0;
};

// DuckDB: USING SAMPLE ...
struct UsingSample {
  enum class Method { kDefault, kReservoir, kBernoulli, kSystem };
  Method method = Method::kDefault;
  bool percent = false;   // `p%` / `p PERCENT`, else `n ROWS` / `n`
  double percentage = 0;  // percent: in [0, 100]
  uint64_t rows = 0;      // !percent
  SourceSpan size_span;
  std::optional<uint64_t> seed;  // REPEATABLE (seed) or (method, seed)
};

// SELECT * [FROM] [WHERE] without a sampling clause: every row that passes WHERE.
struct NoSample {};

using SampleClause =
    std::variant<NoSample, SampleBy, UniformSample, UniverseSample, DistinctSample, UsingSample>;

struct Query {
  std::string text;                   // the query as written (errors found later point into it)
  std::optional<std::string> source;  // FROM name / SAMPLE name (as written, '@' kept)
  SourceSpan source_span;
  std::unique_ptr<Expr> where;  // null: no WHERE
  SampleClause sample;
  std::optional<std::string> weight_column;  // WITH WEIGHT AS name
  SourceSpan weight_column_span;
};

// A canonical one-line rendering of the whole query for tests and EXPLAIN, e.g.
// (select :from data :where (== a 1) :sample-by (max_weight ((== b 'x') 20) (true 1))
//  :replace true :limit 10).
std::string QueryToString(const Query& query);

}  // namespace urn::query

#endif  // URN_QUERY_AST_H_
