#include "query/lexer.h"

#include <charconv>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace urn::query {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsIdentStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsIdentChar(char c) { return IsIdentStart(c) || IsDigit(c); }

class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  absl::StatusOr<std::vector<Token>> Run() {
    std::vector<Token> tokens;
    while (true) {
      SkipSpaceAndComments();
      Token t;
      t.span.offset = static_cast<uint32_t>(pos_);
      if (pos_ == text_.size()) {
        tokens.push_back(std::move(t));
        return tokens;
      }
      if (absl::Status s = Next(t); !s.ok()) return s;
      t.span.length = static_cast<uint32_t>(pos_ - t.span.offset);
      tokens.push_back(std::move(t));
    }
  }

 private:
  void SkipSpaceAndComments() {
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
        ++pos_;
      } else if (c == '-' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '-') {
        while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
      } else {
        return;
      }
    }
  }

  absl::Status Error(size_t offset, size_t length, std::string_view message) const {
    return QueryError(
        text_, SourceSpan{static_cast<uint32_t>(offset), static_cast<uint32_t>(length)}, message);
  }

  // Lexes one token starting at pos_ (not at the end, not at space).
  absl::Status Next(Token& t) {
    const char c = text_[pos_];
    const char next = pos_ + 1 < text_.size() ? text_[pos_ + 1] : '\0';
    if (IsIdentStart(c) || (c == '@' && IsIdentStart(next))) {
      const size_t start = pos_++;
      while (pos_ < text_.size() && IsIdentChar(text_[pos_])) ++pos_;
      t.kind = TokenKind::kIdent;
      t.text = std::string(text_.substr(start, pos_ - start));
      return absl::OkStatus();
    }
    if (IsDigit(c) || (c == '.' && IsDigit(next))) return Number(t);
    if (c == '\'' || c == '"') return Quoted(t, c);
    ++pos_;
    switch (c) {
      case '*':
        t.kind = TokenKind::kStar;
        return absl::OkStatus();
      case ',':
        t.kind = TokenKind::kComma;
        return absl::OkStatus();
      case ':':
        t.kind = TokenKind::kColon;
        return absl::OkStatus();
      case ';':
        t.kind = TokenKind::kSemicolon;
        return absl::OkStatus();
      case '(':
        t.kind = TokenKind::kLParen;
        return absl::OkStatus();
      case ')':
        t.kind = TokenKind::kRParen;
        return absl::OkStatus();
      case '+':
        t.kind = TokenKind::kPlus;
        return absl::OkStatus();
      case '-':
        t.kind = TokenKind::kMinus;
        return absl::OkStatus();
      case '/':
        t.kind = TokenKind::kSlash;
        return absl::OkStatus();
      case '%':
        t.kind = TokenKind::kPercent;
        return absl::OkStatus();
      case '=':
        t.kind = TokenKind::kEq;
        if (next == '=') ++pos_;
        return absl::OkStatus();
      case '!':
        if (next == '=') {
          ++pos_;
          t.kind = TokenKind::kNe;
          return absl::OkStatus();
        }
        return Error(pos_ - 1, 1, "unexpected '!'; write != for 'not equal' or NOT for negation");
      case '<':
        t.kind = TokenKind::kLt;
        if (next == '=') {
          ++pos_;
          t.kind = TokenKind::kLe;
        } else if (next == '>') {
          ++pos_;
          t.kind = TokenKind::kNe;
        }
        return absl::OkStatus();
      case '>':
        t.kind = TokenKind::kGt;
        if (next == '=') {
          ++pos_;
          t.kind = TokenKind::kGe;
        }
        return absl::OkStatus();
      default:
        break;
    }
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7F) {
      return Error(pos_ - 1, 1,
                   absl::StrFormat("unexpected byte 0x%02X; outside strings and quoted names a "
                                   "query is plain ASCII",
                                   u));
    }
    return Error(pos_ - 1, 1,
                 absl::StrCat("unexpected character '", std::string(1, c),
                              "'; strings take 'single quotes' and column names \"double "
                              "quotes\""));
  }

  absl::Status Number(Token& t) {
    const size_t start = pos_;
    bool is_float = false;
    while (pos_ < text_.size() && IsDigit(text_[pos_])) ++pos_;
    if (pos_ < text_.size() && text_[pos_] == '.') {
      is_float = true;
      ++pos_;
      while (pos_ < text_.size() && IsDigit(text_[pos_])) ++pos_;
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      size_t p = pos_ + 1;
      if (p < text_.size() && (text_[p] == '+' || text_[p] == '-')) ++p;
      if (p < text_.size() && IsDigit(text_[p])) {
        is_float = true;
        pos_ = p;
        while (pos_ < text_.size() && IsDigit(text_[pos_])) ++pos_;
      }
    }
    if (pos_ < text_.size() && (IsIdentChar(text_[pos_]) || text_[pos_] == '.')) {
      size_t end = pos_;
      while (end < text_.size() && (IsIdentChar(text_[end]) || text_[end] == '.')) ++end;
      return Error(start, end - start,
                   absl::StrCat("malformed number '", std::string(text_.substr(start, end - start)),
                                "'; put a space between a number and a word"));
    }
    const std::string_view digits = text_.substr(start, pos_ - start);
    if (is_float) {
      t.kind = TokenKind::kFloat;
      const auto [ptr, ec] =
          std::from_chars(digits.data(), digits.data() + digits.size(), t.float_value);
      if (ec != std::errc() || ptr != digits.data() + digits.size()) {
        // Out of range both ways: too large, or (a negative exponent) too small to be stored.
        const bool tiny = digits.find("e-") != std::string_view::npos ||
                          digits.find("E-") != std::string_view::npos;
        return Error(start, digits.size(),
                     absl::StrCat("number ", std::string(digits),
                                  tiny ? " is too small for a double (the smallest is about "
                                         "4.9e-324); write 0 if that is meant"
                                       : " is out of the range of a double (about 1.8e308)"));
      }
      return absl::OkStatus();
    }
    t.kind = TokenKind::kInt;
    const auto [ptr, ec] =
        std::from_chars(digits.data(), digits.data() + digits.size(), t.int_value);
    if (ec != std::errc() || ptr != digits.data() + digits.size()) {
      return Error(start, digits.size(),
                   absl::StrCat("integer ", std::string(digits),
                                " is too large (the largest int64 is 9223372036854775807)"));
    }
    return absl::OkStatus();
  }

  absl::Status Quoted(Token& t, char quote) {
    const size_t start = pos_++;
    t.kind = quote == '\'' ? TokenKind::kString : TokenKind::kQuotedIdent;
    while (true) {
      const size_t close = text_.find(quote, pos_);
      if (close == std::string_view::npos) {
        return Error(start, 1,
                     quote == '\''
                         ? "unterminated string: the string that starts here has no closing "
                           "quote (write '' for a quote inside a string)"
                         : "unterminated quoted name: the name that starts here has no closing "
                           "double quote (write \"\" for a double quote inside a name)");
      }
      t.text.append(text_.substr(pos_, close - pos_));
      pos_ = close + 1;
      if (pos_ < text_.size() && text_[pos_] == quote) {
        t.text.push_back(quote);
        ++pos_;
        continue;
      }
      break;
    }
    if (t.kind == TokenKind::kQuotedIdent && t.text.empty()) {
      return Error(start, pos_ - start, "empty quoted name \"\"; a column name has characters");
    }
    return absl::OkStatus();
  }

  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

std::string_view TokenKindName(TokenKind kind) {
  switch (kind) {
    case TokenKind::kEnd:
      return "end of query";
    case TokenKind::kIdent:
      return "identifier";
    case TokenKind::kQuotedIdent:
      return "quoted name";
    case TokenKind::kInt:
      return "integer";
    case TokenKind::kFloat:
      return "number";
    case TokenKind::kString:
      return "string";
    case TokenKind::kStar:
      return "'*'";
    case TokenKind::kComma:
      return "','";
    case TokenKind::kColon:
      return "':'";
    case TokenKind::kSemicolon:
      return "';'";
    case TokenKind::kLParen:
      return "'('";
    case TokenKind::kRParen:
      return "')'";
    case TokenKind::kPlus:
      return "'+'";
    case TokenKind::kMinus:
      return "'-'";
    case TokenKind::kSlash:
      return "'/'";
    case TokenKind::kPercent:
      return "'%'";
    case TokenKind::kEq:
      return "'='";
    case TokenKind::kNe:
      return "'!='";
    case TokenKind::kLt:
      return "'<'";
    case TokenKind::kLe:
      return "'<='";
    case TokenKind::kGt:
      return "'>'";
    case TokenKind::kGe:
      return "'>='";
  }
  return "token";
}

bool Token::Is(std::string_view keyword) const {
  if (kind != TokenKind::kIdent || text.size() != keyword.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != keyword[i]) return false;
  }
  return true;
}

absl::StatusOr<std::vector<Token>> Lex(std::string_view text, const QueryLimits& limits) {
  if (static_cast<int64_t>(text.size()) > limits.max_query_bytes) {
    return QueryError(
        text, SourceSpan{static_cast<uint32_t>(limits.max_query_bytes), 1},
        absl::StrCat("query is ", text.size(), " bytes; the limit is ", limits.max_query_bytes,
                     " (QueryLimits::max_query_bytes). Shorten it: long IN lists "
                     "or many conditions usually belong in a column"));
  }
  return Lexer(text).Run();
}

}  // namespace urn::query
