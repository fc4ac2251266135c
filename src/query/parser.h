// ParseQuery: turns the text of a sampling query into a Query (ast.h), or an InvalidArgument
// error that points at the spot (error.h; render it with FormatError).
//
// Grammar (keywords case-insensitive; [] optional, | alternatives, {} repetition):
//
//   query   := [rowset '='] (tql | usql | usql2 | duckdb | select) [WITH WEIGHT AS name] [';']
//              -- rowset: a U-SQL variable (@name) assigned to, as in a script; ignored
//   select  := SELECT '*' [FROM name] [WHERE expr]
//   tql     := select SAMPLE BY (choice '(' case {',' case} ')' | expr)
//              {REPLACE (TRUE|FALSE) | LIMIT int}            -- each at most once
//   choice  := max_weight | sum_weight;   case := expr ':' expr
//   usql    := SAMPLE [name] (UNIFORM '(' frac ')'
//                            | ON col {',' col} UNIVERSE '(' frac ')'
//                            | ON col {',' col} DISTINCT '(' frac ',' int ')')
//   usql2   := select SAMPLE (UNIFORM '(' frac ')' | ANY '(' int ')')
//              -- U-SQL's sample of a query; ANY (n): n rows, here a uniform sample of n
//   duckdb  := select USING SAMPLE (size [ '(' method [',' int] ')' ] | method '(' size ')')
//              [REPEATABLE '(' int ')']
//   size    := number ('%' | PERCENT) | int [ROWS];   method := reservoir | bernoulli | system
//   expr    := or;  or := and {OR and};  and := not {AND not};  not := NOT not | cmp
//   cmp     := sum [('='|'=='|'!='|'<>'|'<'|'<='|'>'|'>=') sum | IS [NOT] NULL
//                   | [NOT] IN '(' literal {',' literal} ')']
//   sum     := product {('+'|'-') product};  product := unary {('*'|'/'|'%') unary}
//   unary   := '-' unary | primary
//   primary := int | float | 'string' | TRUE | FALSE | column | "column"
//              | function '(' [expr {',' expr}] ')' | '(' expr ')'
//
// A plain `select` without a sampling clause returns every row that passes WHERE. Comparisons
// do not chain (`a < b < c` is an error). AND, OR, NOT, IN, IS, NULL, TRUE and FALSE are
// reserved in expressions: quote a column with such a name ("in").
//
// Limits (QueryLimits): query bytes, expression depth, conditions per max_weight/sum_weight,
// items per IN list or call, ON columns, LIMIT / ROWS / min_rows; each error names the limit.
//
// Cost O(text length). Thread safety: pure function.
#ifndef URN_QUERY_PARSER_H_
#define URN_QUERY_PARSER_H_

#include <string_view>

#include "absl/status/statusor.h"
#include "query/ast.h"
#include "query/limits.h"

namespace urn::query {

absl::StatusOr<Query> ParseQuery(std::string_view text, const QueryLimits& limits = {});

}  // namespace urn::query

#endif  // URN_QUERY_PARSER_H_
