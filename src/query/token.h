// Token: one lexeme of a sampling query (see lexer.h for the lexical rules).
//
// Thread safety: a plain value.
#ifndef URN_QUERY_TOKEN_H_
#define URN_QUERY_TOKEN_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "query/error.h"

namespace urn::query {

enum class TokenKind {
  kEnd,          // end of the query
  kIdent,        // bare word: keyword, column, function, rowset name (may start with '@')
  kQuotedIdent,  // "column name" ("" inside stands for ")
  kInt,          // 123
  kFloat,        // 1.5, .5, 1e3
  kString,       // 'text' ('' inside stands for ')
  kStar,         // *
  kComma,        // ,
  kColon,        // :
  kSemicolon,    // ;
  kLParen,       // (
  kRParen,       // )
  kPlus,         // +
  kMinus,        // -
  kSlash,        // /
  kPercent,      // %
  kEq,           // = or ==
  kNe,           // != or <>
  kLt,           // <
  kLe,           // <=
  kGt,           // >
  kGe,           // >=
};

// How a token kind is named in messages: "end of query", "identifier", "','", ...
std::string_view TokenKindName(TokenKind kind);

struct Token {
  TokenKind kind = TokenKind::kEnd;
  SourceSpan span;
  // kIdent: the word as written; kQuotedIdent, kString: the decoded text.
  std::string text;
  uint64_t int_value = 0;  // kInt (may exceed INT64_MAX; the parser checks)
  double float_value = 0;  // kFloat

  // True for an unquoted identifier equal to `keyword` ignoring ASCII case.
  // REQUIRES: keyword is lower case.
  bool Is(std::string_view keyword) const;
};

}  // namespace urn::query

#endif  // URN_QUERY_TOKEN_H_
