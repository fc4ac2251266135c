// Lexer: splits the text of a sampling query into tokens.
//
// Lexical rules. Whitespace separates tokens; `--` starts a comment that runs to the end of
// the line. Identifiers are [A-Za-z_@][A-Za-z0-9_]* (a leading '@' allows U-SQL rowset
// names such as @data; keywords are identifiers the parser recognizes, case-insensitively).
// "Double quotes" make an identifier of any text (a doubled "" is one "); 'single quotes' make
// a string ('' is one '). Numbers are decimal: 42 (an integer, up to 2^64 - 1 here; the parser
// enforces the int64 range), 4.2, .5, 4e-3 (floats, finite). Operators: * , : ; ( ) + - / %
// = == != <> < <= > >=.
//
// Errors (InvalidArgument with the spot, see error.h): an unterminated string or quoted
// identifier (pointing at its opening quote), a character that starts no token, a number out
// of range, a query longer than QueryLimits::max_query_bytes.
//
// Cost O(text length); memory one Token per lexeme. Thread safety: pure function.
#ifndef URN_QUERY_LEXER_H_
#define URN_QUERY_LEXER_H_

#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "query/limits.h"
#include "query/token.h"

namespace urn::query {

// The tokens of `text`, ending with one kEnd token whose span is the end of the text.
absl::StatusOr<std::vector<Token>> Lex(std::string_view text, const QueryLimits& limits);

}  // namespace urn::query

#endif  // URN_QUERY_LEXER_H_
