#include "query/parser.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "query/lexer.h"

namespace urn::query {
namespace {

using ExprPtr = std::unique_ptr<Expr>;

// Words that cannot name a column without quotes, because expressions use them.
bool IsReserved(const Token& t) {
  for (const char* w : {"and", "or", "not", "in", "is", "null", "true", "false"}) {
    if (t.Is(w)) return true;
  }
  return false;
}

std::string Describe(const Token& t) {
  switch (t.kind) {
    case TokenKind::kEnd:
      return "the end of the query";
    case TokenKind::kIdent:
      return absl::StrCat("'", t.text, "'");
    case TokenKind::kQuotedIdent:
      return absl::StrCat("\"", t.text, "\"");
    case TokenKind::kString:
      return "a string";
    case TokenKind::kInt:
    case TokenKind::kFloat:
      return "a number";
    default:
      return std::string(TokenKindName(t.kind));
  }
}

class Parser {
 public:
  Parser(std::string_view text, std::vector<Token> tokens, const QueryLimits& limits)
      : text_(text), tokens_(std::move(tokens)), limits_(limits) {}

  absl::StatusOr<Query> Run() {
    Query q;
    q.text = std::string(text_);
    absl::Status s;
    // A U-SQL statement as written in a script, `@result = SAMPLE @data ...;` or
    // `@result = SELECT ...;`: the name assigned to is of no use here and is skipped.
    if (Peek().kind == TokenKind::kIdent && Peek().text.size() > 1 && Peek().text[0] == '@' &&
        Peek(1).kind == TokenKind::kEq && (Peek(2).Is("select") || Peek(2).Is("sample"))) {
      Advance();
      Advance();
    }
    if (Peek().Is("select")) {
      s = ParseSelect(q);
    } else if (Peek().Is("sample")) {
      s = ParseUsql(q);
    } else {
      s = Error(Peek().span,
                absl::StrCat("expected SELECT (TQL or DuckDB) or SAMPLE (U-SQL) to start the "
                             "query, found ",
                             Describe(Peek())));
    }
    if (!s.ok()) return s;
    if (Peek().Is("with")) {
      if (s = ParseWeightColumn(q); !s.ok()) return s;
      follow_ = "the end of the query";
    }
    if (Peek().kind == TokenKind::kSemicolon) {
      Advance();
      follow_ = "the end of the query";
    }
    if (Peek().kind != TokenKind::kEnd) {
      return Error(Peek().span, absl::StrCat("expected ", follow_, ", found ", Describe(Peek())));
    }
    return q;
  }

 private:
  // --- tokens ---------------------------------------------------------------------------
  const Token& Peek(size_t k = 0) const { return tokens_[std::min(pos_ + k, tokens_.size() - 1)]; }
  const Token& Advance() {
    const Token& t = tokens_[pos_];
    if (pos_ + 1 < tokens_.size()) ++pos_;
    return t;
  }
  // The span just before the current token (for "expected X here" at the end of input).
  absl::Status Error(SourceSpan span, const std::string& message) const {
    return QueryError(text_, span, message);
  }
  absl::Status Expect(TokenKind kind, const std::string& context) {
    if (Peek().kind != kind) {
      return Error(Peek().span, absl::StrCat("expected ", std::string(TokenKindName(kind)), " ",
                                             context, ", found ", Describe(Peek())));
    }
    Advance();
    return absl::OkStatus();
  }
  absl::Status ExpectKeyword(const std::string& keyword, const std::string& context) {
    if (!Peek().Is(keyword)) {
      return Error(Peek().span, absl::StrCat("expected ", absl::AsciiStrToUpper(keyword), " ",
                                             context, ", found ", Describe(Peek())));
    }
    Advance();
    return absl::OkStatus();
  }

  // --- clauses --------------------------------------------------------------------------
  absl::Status ParseSelect(Query& q) {
    Advance();  // SELECT
    if (absl::Status s =
            Expect(TokenKind::kStar, "after SELECT (urn samples whole rows: SELECT *)");
        !s.ok()) {
      return s;
    }
    follow_ = "FROM, WHERE, SAMPLE BY, USING SAMPLE, WITH WEIGHT AS or the end of the query";
    if (Peek().Is("from")) {
      Advance();
      if (absl::Status s = ParseName(q, "after FROM"); !s.ok()) return s;
      follow_ = "WHERE, SAMPLE BY, USING SAMPLE, WITH WEIGHT AS or the end of the query";
    }
    if (Peek().Is("where")) {
      Advance();
      absl::StatusOr<ExprPtr> e = ParseExpr();
      if (!e.ok()) return e.status();
      q.where = std::move(*e);
      follow_ = "an operator, SAMPLE BY, USING SAMPLE, WITH WEIGHT AS or the end of the query";
    }
    if (Peek().Is("sample")) {
      Advance();
      // U-SQL's sample after a query expression: SAMPLE UNIFORM (fraction) | SAMPLE ANY (n).
      if (Peek().Is("uniform") && Peek(1).kind == TokenKind::kLParen) {
        follow_ = "WITH WEIGHT AS or the end of the query";
        return ParseUniform(q);
      }
      if (Peek().Is("any") && Peek(1).kind == TokenKind::kLParen) {
        follow_ = "the end of the query";
        return ParseAny(q);
      }
      if (absl::Status s = ExpectKeyword(
              "by",
              "after SAMPLE in a SELECT (TQL: SAMPLE BY ...; U-SQL: SAMPLE UNIFORM (fraction) or "
              "SAMPLE ANY (rows))");
          !s.ok()) {
        return s;
      }
      return ParseSampleBy(q);
    }
    if (Peek().Is("using")) {
      Advance();
      if (absl::Status s = ExpectKeyword("sample", "after USING (DuckDB: USING SAMPLE ...)");
          !s.ok()) {
        return s;
      }
      return ParseUsingSample(q);
    }
    q.sample = NoSample{};
    return absl::OkStatus();
  }

  absl::Status ParseName(Query& q, const std::string& context) {
    const Token& t = Peek();
    if (t.kind != TokenKind::kQuotedIdent && (t.kind != TokenKind::kIdent || IsReserved(t))) {
      return Error(t.span,
                   absl::StrCat("expected a dataset name ", context, ", found ", Describe(t)));
    }
    q.source = t.text;
    q.source_span = t.span;
    Advance();
    return absl::OkStatus();
  }

  absl::Status ParseSampleBy(Query& q) {
    SampleBy sb;
    const Token& start = Peek();
    const bool is_max = start.Is("max_weight"), is_sum = start.Is("sum_weight");
    if ((is_max || is_sum) && Peek(1).kind == TokenKind::kLParen) {
      sb.choice = is_max ? SampleBy::Choice::kMaxWeight : SampleBy::Choice::kSumWeight;
      const std::string fn = is_max ? "max_weight" : "sum_weight";
      Advance();
      Advance();  // '('
      if (Peek().kind == TokenKind::kRParen) {
        return Error(Peek().span, absl::StrCat(fn,
                                               "() needs at least one `condition: weight` "
                                               "entry, e.g. ",
                                               fn, "(label == 'cat': 5, true: 1)"));
      }
      while (true) {
        WeightCase c;
        absl::StatusOr<ExprPtr> cond = ParseExpr();
        if (!cond.ok()) return cond.status();
        c.condition = std::move(*cond);
        if (static_cast<int>(sb.cases.size()) >= limits_.max_conditions) {
          return Error(c.condition->span,
                       absl::StrCat(fn, "(...) has more than ", limits_.max_conditions,
                                    " conditions (QueryLimits::max_conditions); compute the "
                                    "weight into a column and write SAMPLE BY that column"));
        }
        if (Peek().kind != TokenKind::kColon) {
          return Error(Peek().span, absl::StrCat("expected ':' after the condition in ", fn,
                                                 "(...), found ", Describe(Peek()),
                                                 "; each entry is `condition: weight`, e.g. "
                                                 "contains(findings, 'Hernia'): 20"));
        }
        Advance();
        absl::StatusOr<ExprPtr> weight = ParseExpr();
        if (!weight.ok()) return weight.status();
        c.weight = std::move(*weight);
        sb.cases.push_back(std::move(c));
        if (Peek().kind == TokenKind::kComma) {
          Advance();
          continue;
        }
        if (Peek().kind != TokenKind::kRParen) {
          return Error(Peek().span, absl::StrCat("expected ',' or ')' after a weight in ", fn,
                                                 "(...), found ", Describe(Peek())));
        }
        sb.span = SourceSpan::Cover(start.span, Peek().span);
        Advance();
        break;
      }
    } else {
      absl::StatusOr<ExprPtr> e = ParseExpr();
      if (!e.ok()) return e.status();
      sb.weight = std::move(*e);
      sb.span = sb.weight->span;
    }
    follow_ = "REPLACE, LIMIT, WITH WEIGHT AS or the end of the query";
    bool seen_replace = false;
    while (true) {
      if (Peek().Is("replace")) {
        const Token& kw = Advance();
        if (seen_replace) return Error(kw.span, "REPLACE is given twice");
        seen_replace = true;
        if (Peek().Is("true") || Peek().Is("false")) {
          sb.replace = Advance().Is("true");
        } else {
          return Error(Peek().span, absl::StrCat("expected TRUE or FALSE after REPLACE, found ",
                                                 Describe(Peek())));
        }
      } else if (Peek().Is("limit")) {
        const Token& kw = Advance();
        if (sb.limit) return Error(kw.span, "LIMIT is given twice");
        absl::StatusOr<uint64_t> n = ParseCount("LIMIT", "rows to return", limits_.max_limit);
        if (!n.ok()) return n.status();
        sb.limit = *n;
        sb.limit_span = SourceSpan::Cover(kw.span, tokens_[pos_ - 1].span);
      } else {
        break;
      }
    }
    q.sample = std::move(sb);
    return absl::OkStatus();
  }

  // A non-negative integer literal up to `max` (LIMIT, ROWS, min_rows).
  absl::StatusOr<uint64_t> ParseCount(const std::string& what, const std::string& meaning,
                                      uint64_t max) {
    const Token& t = Peek();
    if (t.kind != TokenKind::kInt) {
      return Error(t.span, absl::StrCat(what, " takes a non-negative integer (the number of ",
                                        meaning, "), found ", Describe(t)));
    }
    if (t.int_value > max) {
      return Error(t.span, absl::StrCat(what, " ", t.int_value, " is above the limit of ", max,
                                        " (QueryLimits::max_limit)"));
    }
    Advance();
    return t.int_value;
  }

  // A number literal (int or float) as a double.
  absl::StatusOr<double> ParseNumber(const std::string& context, SourceSpan* span) {
    const Token& t = Peek();
    *span = t.span;
    if (t.kind == TokenKind::kInt) {
      Advance();
      return static_cast<double>(t.int_value);
    }
    if (t.kind == TokenKind::kFloat) {
      Advance();
      return t.float_value;
    }
    return Error(t.span, absl::StrCat("expected a number ", context, ", found ", Describe(t)));
  }

  absl::StatusOr<double> ParseFraction(const std::string& sampler, SourceSpan* span) {
    absl::StatusOr<double> f = ParseNumber(absl::StrCat("(the fraction) in ", sampler), span);
    if (!f.ok()) return f.status();
    if (!(*f > 0 && *f <= 1)) {
      return Error(*span, absl::StrCat(sampler,
                                       " takes a fraction of rows in (0, 1], e.g. 0.1 "
                                       "for 10%; got ",
                                       std::string(text_.substr(span->offset, span->length))));
    }
    return *f;
  }

  // UNIFORM '(' fraction ')', of either U-SQL form.
  absl::Status ParseUniform(Query& q) {
    Advance();  // UNIFORM
    UniformSample u;
    if (absl::Status s = Expect(TokenKind::kLParen, "after UNIFORM"); !s.ok()) return s;
    absl::StatusOr<double> f = ParseFraction("UNIFORM", &u.fraction_span);
    if (!f.ok()) return f.status();
    u.fraction = *f;
    if (absl::Status s = Expect(TokenKind::kRParen, "after the fraction"); !s.ok()) return s;
    q.sample = u;
    return absl::OkStatus();
  }

  // U-SQL's SAMPLE ANY '(' rows ')': any that many rows, no promise which. urn gives a uniform
  // sample of that size (DuckDB's USING SAMPLE n ROWS), which is one such set and repeatable.
  absl::Status ParseAny(Query& q) {
    Advance();  // ANY
    if (absl::Status s = Expect(TokenKind::kLParen, "after ANY"); !s.ok()) return s;
    UsingSample u;
    u.method = UsingSample::Method::kReservoir;
    u.size_span = Peek().span;
    absl::StatusOr<uint64_t> n = ParseCount("ANY", "rows to return", limits_.max_limit);
    if (!n.ok()) return n.status();
    u.rows = *n;
    if (absl::Status s = Expect(TokenKind::kRParen, "after the number of rows"); !s.ok()) return s;
    q.sample = u;
    return absl::OkStatus();
  }

  absl::Status ParseUsql(Query& q) {
    Advance();  // SAMPLE
    const bool name_follows = Peek().kind == TokenKind::kQuotedIdent ||
                              (Peek().kind == TokenKind::kIdent && !Peek().Is("on") &&
                               !(Peek().Is("uniform") && Peek(1).kind == TokenKind::kLParen));
    if (name_follows) {
      if (absl::Status s = ParseName(q, "after SAMPLE"); !s.ok()) return s;
    }
    if (Peek().Is("uniform")) {
      if (absl::Status s = ParseUniform(q); !s.ok()) return s;
    } else if (Peek().Is("on")) {
      Advance();
      std::vector<ColumnName> columns;
      while (true) {
        const Token& t = Peek();
        if (t.kind != TokenKind::kQuotedIdent && (t.kind != TokenKind::kIdent || IsReserved(t) ||
                                                  t.Is("universe") || t.Is("distinct"))) {
          return Error(t.span,
                       absl::StrCat("expected a column name in the ON list, found ", Describe(t)));
        }
        if (static_cast<int>(columns.size()) >= limits_.max_key_columns) {
          return Error(t.span, absl::StrCat("the ON list has more than ", limits_.max_key_columns,
                                            " columns (QueryLimits::max_key_columns)"));
        }
        columns.push_back(ColumnName{t.text, t.kind == TokenKind::kQuotedIdent, t.span});
        Advance();
        if (Peek().kind != TokenKind::kComma) break;
        Advance();
      }
      if (Peek().Is("universe")) {
        Advance();
        UniverseSample u;
        u.columns = std::move(columns);
        if (absl::Status s = Expect(TokenKind::kLParen, "after UNIVERSE"); !s.ok()) return s;
        absl::StatusOr<double> f = ParseFraction("UNIVERSE", &u.fraction_span);
        if (!f.ok()) return f.status();
        u.fraction = *f;
        if (absl::Status s = Expect(TokenKind::kRParen, "after the fraction"); !s.ok()) return s;
        q.sample = std::move(u);
      } else if (Peek().Is("distinct")) {
        Advance();
        DistinctSample d;
        d.columns = std::move(columns);
        if (absl::Status s = Expect(TokenKind::kLParen, "after DISTINCT"); !s.ok()) return s;
        absl::StatusOr<double> f = ParseFraction("DISTINCT", &d.fraction_span);
        if (!f.ok()) return f.status();
        d.fraction = *f;
        if (absl::Status s = Expect(TokenKind::kComma,
                                    "after the fraction: DISTINCT takes (fraction, min_rows)");
            !s.ok()) {
          return s;
        }
        absl::StatusOr<uint64_t> m =
            ParseCount("DISTINCT's min_rows", "rows always kept per group", limits_.max_limit);
        if (!m.ok()) return m.status();
        d.min_rows = *m;
        if (absl::Status s = Expect(TokenKind::kRParen, "after min_rows"); !s.ok()) return s;
        q.sample = std::move(d);
      } else {
        return Error(Peek().span,
                     absl::StrCat("expected ',', UNIVERSE or DISTINCT after the ON columns, "
                                  "found ",
                                  Describe(Peek())));
      }
    } else {
      return Error(Peek().span, absl::StrCat("expected UNIFORM (fraction) or ON columns after "
                                             "SAMPLE, found ",
                                             Describe(Peek())));
    }
    follow_ = "WITH WEIGHT AS or the end of the query";
    return absl::OkStatus();
  }

  absl::Status ParseWeightColumn(Query& q) {
    Advance();  // WITH
    if (absl::Status s = ExpectKeyword("weight", "after WITH (WITH WEIGHT AS name)"); !s.ok()) {
      return s;
    }
    if (absl::Status s = ExpectKeyword("as", "after WITH WEIGHT"); !s.ok()) return s;
    const Token& t = Peek();
    if (t.kind != TokenKind::kQuotedIdent && t.kind != TokenKind::kIdent) {
      return Error(t.span, absl::StrCat("expected the weight column's name after WITH WEIGHT AS, "
                                        "found ",
                                        Describe(t)));
    }
    q.weight_column = t.text;
    q.weight_column_span = t.span;
    Advance();
    return absl::OkStatus();
  }

  static bool MethodOf(const Token& t, UsingSample::Method* m) {
    if (t.Is("reservoir"))
      *m = UsingSample::Method::kReservoir;
    else if (t.Is("bernoulli"))
      *m = UsingSample::Method::kBernoulli;
    else if (t.Is("system"))
      *m = UsingSample::Method::kSystem;
    else
      return false;
    return true;
  }

  absl::Status ParseSampleSize(UsingSample& u) {
    const Token& t = Peek();
    SourceSpan span;
    absl::StatusOr<double> n = ParseNumber("(the sample size) after USING SAMPLE", &span);
    if (!n.ok()) return n.status();
    if (Peek().kind == TokenKind::kPercent || Peek().Is("percent")) {
      u.percent = true;
      u.percentage = *n;
      u.size_span = SourceSpan::Cover(span, Advance().span);
      if (!(u.percentage >= 0 && u.percentage <= 100)) {
        return Error(u.size_span, "a sample percentage is between 0% and 100%");
      }
      return absl::OkStatus();
    }
    u.size_span = span;
    if (Peek().Is("rows")) u.size_span = SourceSpan::Cover(span, Advance().span);
    if (t.kind != TokenKind::kInt) {
      return Error(u.size_span,
                   "a sample size in rows is a whole number; for a percentage "
                   "write % or PERCENT after the number");
    }
    if (t.int_value > limits_.max_limit) {
      return Error(u.size_span, absl::StrCat("sample size ", t.int_value, " is above the limit of ",
                                             limits_.max_limit, " rows (QueryLimits::max_limit)"));
    }
    u.rows = t.int_value;
    return absl::OkStatus();
  }

  absl::Status ParseSeed(UsingSample& u) {
    const Token& t = Peek();
    if (u.seed) return Error(t.span, "the sample's seed is given twice");
    if (t.kind != TokenKind::kInt) {
      return Error(t.span, absl::StrCat("expected an integer seed, found ", Describe(t)));
    }
    u.seed = t.int_value;
    Advance();
    return absl::OkStatus();
  }

  absl::Status ParseUsingSample(Query& q) {
    UsingSample u;
    SourceSpan method_span;
    if (MethodOf(Peek(), &u.method) && Peek(1).kind == TokenKind::kLParen) {
      method_span = Advance().span;  // method '(' size ')'
      Advance();
      if (absl::Status s = ParseSampleSize(u); !s.ok()) return s;
      if (absl::Status s = Expect(TokenKind::kRParen, "after the sample size"); !s.ok()) return s;
    } else {
      if (absl::Status s = ParseSampleSize(u); !s.ok()) return s;
      if (Peek().kind == TokenKind::kLParen) {
        Advance();
        method_span = Peek().span;
        if (!MethodOf(Peek(), &u.method)) {
          return Error(Peek().span,
                       absl::StrCat("expected a sampling method (reservoir, bernoulli or "
                                    "system), found ",
                                    Describe(Peek())));
        }
        Advance();
        if (Peek().kind == TokenKind::kComma) {
          Advance();
          if (absl::Status s = ParseSeed(u); !s.ok()) return s;
        }
        if (absl::Status s = Expect(TokenKind::kRParen, "after the sampling method"); !s.ok()) {
          return s;
        }
      }
    }
    if (!u.percent &&
        (u.method == UsingSample::Method::kBernoulli || u.method == UsingSample::Method::kSystem)) {
      return Error(method_span,
                   "bernoulli and system sampling keep a percentage of rows; for "
                   "a fixed number of rows use reservoir (or write p%)");
    }
    if (Peek().Is("repeatable")) {
      Advance();
      if (absl::Status s = Expect(TokenKind::kLParen, "after REPEATABLE"); !s.ok()) return s;
      if (absl::Status s = ParseSeed(u); !s.ok()) return s;
      if (absl::Status s = Expect(TokenKind::kRParen, "after the seed"); !s.ok()) return s;
    }
    follow_ = "REPEATABLE, WITH WEIGHT AS or the end of the query";
    q.sample = u;
    return absl::OkStatus();
  }

  // --- expressions ----------------------------------------------------------------------
  // Guards recursion: every nested construct enters one level.
  class Nest {
   public:
    explicit Nest(Parser* p) : p_(p) { ++p_->depth_; }
    ~Nest() { --p_->depth_; }
    Nest(const Nest&) = delete;
    Nest& operator=(const Nest&) = delete;

   private:
    Parser* p_;
  };
  absl::Status DepthError(SourceSpan span) const {
    return Error(span, absl::StrCat("expression nests more than ", limits_.max_depth,
                                    " levels deep (QueryLimits::max_depth); simplify it (a long "
                                    "chain of + or * counts one level per operator)"));
  }
  absl::Status CheckDepth(SourceSpan span) const {
    return depth_ > limits_.max_depth ? DepthError(span) : absl::OkStatus();
  }

  // Builds a node over `args`, setting its height; fails when it exceeds the depth limit.
  absl::StatusOr<ExprPtr> Node(ExprKind kind, SourceSpan op_span, std::vector<ExprPtr> args) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->op_span = op_span;
    e->span = op_span;
    int height = 0;
    for (const ExprPtr& a : args) {
      e->span = SourceSpan::Cover(e->span, a->span);
      height = std::max(height, a->height);
    }
    e->height = height + 1;
    e->args = std::move(args);
    if (e->height > limits_.max_depth) return DepthError(op_span);
    return e;
  }
  static std::vector<ExprPtr> Args(ExprPtr a, ExprPtr b = nullptr) {
    std::vector<ExprPtr> v;
    v.push_back(std::move(a));
    if (b) v.push_back(std::move(b));
    return v;
  }

  absl::StatusOr<ExprPtr> ParseExpr() {
    Nest nest(this);
    if (absl::Status s = CheckDepth(Peek().span); !s.ok()) return s;
    return ParseLogical(/*is_or=*/true);
  }

  // or := and {OR and};  and := not {AND not}. Chains become one flat node.
  absl::StatusOr<ExprPtr> ParseLogical(bool is_or) {
    absl::StatusOr<ExprPtr> first = is_or ? ParseLogical(false) : ParseNot();
    if (!first.ok()) return first;
    const char* word = is_or ? "or" : "and";
    if (!Peek().Is(word)) return first;
    std::vector<ExprPtr> args;
    args.push_back(std::move(*first));
    const SourceSpan op = Peek().span;
    while (Peek().Is(word)) {
      Advance();
      if (static_cast<int>(args.size()) >= limits_.max_list_items) {
        return Error(Peek().span, absl::StrCat("more than ", limits_.max_list_items,
                                               " terms joined by ", absl::AsciiStrToUpper(word),
                                               " (QueryLimits::max_list_items); use IN (...)"));
      }
      absl::StatusOr<ExprPtr> next = is_or ? ParseLogical(false) : ParseNot();
      if (!next.ok()) return next;
      args.push_back(std::move(*next));
    }
    return Node(is_or ? ExprKind::kOr : ExprKind::kAnd, op, std::move(args));
  }

  absl::StatusOr<ExprPtr> ParseNot() {
    if (!Peek().Is("not")) return ParseComparison();
    const SourceSpan op = Advance().span;
    Nest nest(this);
    if (absl::Status s = CheckDepth(op); !s.ok()) return s;
    absl::StatusOr<ExprPtr> operand = ParseNot();
    if (!operand.ok()) return operand;
    return Node(ExprKind::kNot, op, Args(std::move(*operand)));
  }

  static bool ComparisonOf(const Token& t, BinaryOp* op) {
    switch (t.kind) {
      case TokenKind::kEq:
        *op = BinaryOp::kEq;
        return true;
      case TokenKind::kNe:
        *op = BinaryOp::kNe;
        return true;
      case TokenKind::kLt:
        *op = BinaryOp::kLt;
        return true;
      case TokenKind::kLe:
        *op = BinaryOp::kLe;
        return true;
      case TokenKind::kGt:
        *op = BinaryOp::kGt;
        return true;
      case TokenKind::kGe:
        *op = BinaryOp::kGe;
        return true;
      default:
        return false;
    }
  }

  absl::StatusOr<ExprPtr> ParseComparison() {
    absl::StatusOr<ExprPtr> left = ParseSum();
    if (!left.ok()) return left;
    BinaryOp op;
    if (ComparisonOf(Peek(), &op)) {
      const SourceSpan op_span = Advance().span;
      absl::StatusOr<ExprPtr> right = ParseSum();
      if (!right.ok()) return right;
      BinaryOp again;
      if (ComparisonOf(Peek(), &again)) {
        return Error(Peek().span,
                     "comparisons do not chain: write `a < b AND b < c` instead of "
                     "`a < b < c`");
      }
      absl::StatusOr<ExprPtr> e =
          Node(ExprKind::kBinary, op_span, Args(std::move(*left), std::move(*right)));
      if (e.ok()) (*e)->op = op;
      return e;
    }
    if (Peek().Is("is")) {
      const SourceSpan is_span = Advance().span;
      bool negated = false;
      if (Peek().Is("not")) {
        Advance();
        negated = true;
      }
      if (!Peek().Is("null")) {
        return Error(Peek().span, absl::StrCat("expected NULL after IS", negated ? " NOT" : "",
                                               ", found ", Describe(Peek())));
      }
      const SourceSpan null_span = Advance().span;
      absl::StatusOr<ExprPtr> e =
          Node(ExprKind::kIsNull, SourceSpan::Cover(is_span, null_span), Args(std::move(*left)));
      if (e.ok()) (*e)->negated = negated;
      return e;
    }
    if (Peek().Is("in") || (Peek().Is("not") && Peek(1).Is("in"))) return ParseIn(std::move(*left));
    return left;
  }

  absl::StatusOr<ExprPtr> ParseIn(ExprPtr value) {
    const SourceSpan first = Peek().span;
    const bool negated = Peek().Is("not");
    if (negated) Advance();
    const SourceSpan in_span = SourceSpan::Cover(first, Advance().span);
    if (absl::Status s = Expect(TokenKind::kLParen, "after IN"); !s.ok()) return s;
    std::vector<ExprPtr> args;
    args.push_back(std::move(value));
    while (true) {
      if (static_cast<int>(args.size()) > limits_.max_list_items) {
        return Error(Peek().span, absl::StrCat("IN list has more than ", limits_.max_list_items,
                                               " values (QueryLimits::max_list_items)"));
      }
      absl::StatusOr<ExprPtr> item = ParseUnary();
      if (!item.ok()) return item;
      if ((*item)->kind != ExprKind::kLiteral) {
        return Error((*item)->span,
                     "IN (...) takes constant values: numbers, 'strings', TRUE "
                     "or FALSE");
      }
      args.push_back(std::move(*item));
      if (Peek().kind == TokenKind::kComma) {
        Advance();
        continue;
      }
      if (Peek().kind != TokenKind::kRParen) {
        return Error(Peek().span,
                     absl::StrCat("expected ',' or ')' in the IN list, found ", Describe(Peek())));
      }
      break;
    }
    const SourceSpan close = Advance().span;
    absl::StatusOr<ExprPtr> e = Node(ExprKind::kIn, in_span, std::move(args));
    if (e.ok()) {
      (*e)->negated = negated;
      (*e)->span = SourceSpan::Cover((*e)->span, close);
    }
    return e;
  }

  absl::StatusOr<ExprPtr> ParseBinaryChain(bool additive) {
    absl::StatusOr<ExprPtr> left = additive ? ParseBinaryChain(false) : ParseUnary();
    if (!left.ok()) return left;
    while (true) {
      BinaryOp op;
      const TokenKind k = Peek().kind;
      if (additive && k == TokenKind::kPlus)
        op = BinaryOp::kAdd;
      else if (additive && k == TokenKind::kMinus)
        op = BinaryOp::kSub;
      else if (!additive && k == TokenKind::kStar)
        op = BinaryOp::kMul;
      else if (!additive && k == TokenKind::kSlash)
        op = BinaryOp::kDiv;
      else if (!additive && k == TokenKind::kPercent)
        op = BinaryOp::kMod;
      else
        return left;
      const SourceSpan op_span = Advance().span;
      absl::StatusOr<ExprPtr> right = additive ? ParseBinaryChain(false) : ParseUnary();
      if (!right.ok()) return right;
      left = Node(ExprKind::kBinary, op_span, Args(std::move(*left), std::move(*right)));
      if (!left.ok()) return left;
      (*left)->op = op;
    }
  }
  absl::StatusOr<ExprPtr> ParseSum() { return ParseBinaryChain(true); }

  absl::StatusOr<ExprPtr> ParseUnary() {
    if (Peek().kind != TokenKind::kMinus) return ParsePrimary();
    const SourceSpan op = Advance().span;
    // -9223372036854775808 is the one int64 whose magnitude is not an int64.
    if (Peek().kind == TokenKind::kInt && Peek().int_value == uint64_t{1} << 63) {
      auto e = std::make_unique<Expr>();
      e->kind = ExprKind::kLiteral;
      e->literal.kind = Literal::Kind::kInt;
      e->literal.int_value = std::numeric_limits<int64_t>::min();
      e->span = SourceSpan::Cover(op, Advance().span);
      e->op_span = e->span;
      return e;
    }
    Nest nest(this);
    if (absl::Status s = CheckDepth(op); !s.ok()) return s;
    absl::StatusOr<ExprPtr> operand = ParseUnary();
    if (!operand.ok()) return operand;
    Expr& x = **operand;
    // Fold a negative number into its literal, unless it is INT64_MIN (itself folded from
    // "-9223372036854775808"), whose negation overflows: that is left to kNegate, which gives
    // null on overflow as every integer operation does.
    if (x.kind == ExprKind::kLiteral &&
        ((x.literal.kind == Literal::Kind::kInt &&
          x.literal.int_value != std::numeric_limits<int64_t>::min()) ||
         x.literal.kind == Literal::Kind::kDouble)) {
      if (x.literal.kind == Literal::Kind::kInt)
        x.literal.int_value = -x.literal.int_value;
      else
        x.literal.double_value = -x.literal.double_value;
      x.span = SourceSpan::Cover(op, x.span);
      x.op_span = x.span;
      return operand;
    }
    return Node(ExprKind::kNegate, op, Args(std::move(*operand)));
  }

  absl::StatusOr<ExprPtr> ParsePrimary() {
    const Token& t = Peek();
    auto e = std::make_unique<Expr>();
    e->span = t.span;
    e->op_span = t.span;
    switch (t.kind) {
      case TokenKind::kInt:
        if (t.int_value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
          return Error(t.span, absl::StrCat("integer ", t.int_value,
                                            " is too large (the largest "
                                            "int64 is 9223372036854775807)"));
        }
        e->kind = ExprKind::kLiteral;
        e->literal.kind = Literal::Kind::kInt;
        e->literal.int_value = static_cast<int64_t>(t.int_value);
        Advance();
        return e;
      case TokenKind::kFloat:
        e->kind = ExprKind::kLiteral;
        e->literal.kind = Literal::Kind::kDouble;
        e->literal.double_value = t.float_value;
        Advance();
        return e;
      case TokenKind::kString:
        e->kind = ExprKind::kLiteral;
        e->literal.kind = Literal::Kind::kString;
        e->literal.string_value = t.text;
        Advance();
        return e;
      case TokenKind::kQuotedIdent:
        e->kind = ExprKind::kColumn;
        e->name = t.text;
        e->quoted = true;
        Advance();
        return e;
      case TokenKind::kLParen: {
        const SourceSpan open = Advance().span;
        absl::StatusOr<ExprPtr> inner = ParseExpr();
        if (!inner.ok()) return inner;
        if (Peek().kind != TokenKind::kRParen) {
          const ErrorLocation at = *ErrorLocationOf(QueryError(text_, open, ""));
          return Error(Peek().span, absl::StrCat("expected ')' to close the '(' at ", at.line, ":",
                                                 at.column, ", found ", Describe(Peek())));
        }
        (*inner)->span = SourceSpan::Cover(open, Advance().span);
        return inner;
      }
      case TokenKind::kIdent:
        break;
      default:
        return Error(t.span, absl::StrCat("expected an expression (a column, a number, a "
                                          "'string', a function call or '('), found ",
                                          Describe(t)));
    }
    if (t.Is("true") || t.Is("false")) {
      e->kind = ExprKind::kLiteral;
      e->literal.kind = Literal::Kind::kBool;
      e->literal.bool_value = t.Is("true");
      Advance();
      return e;
    }
    if (t.Is("null")) {
      return Error(t.span,
                   "NULL is not a value here: test for it with `x IS NULL` or replace "
                   "it with coalesce(x, default)");
    }
    if (IsReserved(t)) {
      return Error(t.span, absl::StrCat("expected an expression, found the keyword ",
                                        absl::AsciiStrToUpper(t.text),
                                        " (quote a column with that name: \"", t.text, "\")"));
    }
    if (Peek(1).kind == TokenKind::kLParen) return ParseCall();
    e->kind = ExprKind::kColumn;
    e->name = t.text;
    Advance();
    return e;
  }

  absl::StatusOr<ExprPtr> ParseCall() {
    const Token& name = Advance();
    const std::string fn = absl::AsciiStrToLower(name.text);
    if (fn == "max_weight" || fn == "sum_weight") {
      return Error(name.span, absl::StrCat(fn,
                                           "(...) chooses the sampling weight; it only comes "
                                           "right after SAMPLE BY"));
    }
    Advance();  // '(' ; each argument is a ParseExpr, which counts the nesting level
    std::vector<ExprPtr> args;
    if (Peek().kind != TokenKind::kRParen) {
      while (true) {
        if (static_cast<int>(args.size()) >= limits_.max_list_items) {
          return Error(Peek().span, absl::StrCat(fn, "(...) has more than ", limits_.max_list_items,
                                                 " arguments (QueryLimits::max_list_items)"));
        }
        absl::StatusOr<ExprPtr> arg = ParseExpr();
        if (!arg.ok()) return arg;
        args.push_back(std::move(*arg));
        if (Peek().kind != TokenKind::kComma) break;
        Advance();
      }
    }
    if (Peek().kind != TokenKind::kRParen) {
      return Error(Peek().span, absl::StrCat("expected ',' or ')' in the arguments of ", fn,
                                             "(...), found ", Describe(Peek())));
    }
    const SourceSpan close = Advance().span;
    absl::StatusOr<ExprPtr> e = Node(ExprKind::kCall, name.span, std::move(args));
    if (!e.ok()) return e;
    (*e)->name = fn;
    (*e)->span = SourceSpan::Cover(name.span, close);
    return e;
  }

  std::string_view text_;
  std::vector<Token> tokens_;
  QueryLimits limits_;
  size_t pos_ = 0;
  int depth_ = 0;
  std::string follow_ = "the end of the query";
};

}  // namespace

absl::StatusOr<Query> ParseQuery(std::string_view text, const QueryLimits& limits) {
  absl::StatusOr<std::vector<Token>> tokens = Lex(text, limits);
  if (!tokens.ok()) return tokens.status();
  return Parser(text, std::move(*tokens), limits).Run();
}

}  // namespace urn::query
