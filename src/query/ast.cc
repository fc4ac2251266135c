#include "query/ast.h"

#include <charconv>
#include <string>

#include "absl/strings/str_cat.h"

namespace urn::query {
namespace {

std::string QuoteWith(std::string_view text, char quote) {
  std::string out(1, quote);
  for (char c : text) {
    out.push_back(c);
    if (c == quote) out.push_back(quote);
  }
  out.push_back(quote);
  return out;
}

std::string DoubleToString(double v) {
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  std::string s(buf, ec == std::errc() ? end : buf);
  if (s.find_first_of(".eni") == std::string::npos) s += ".0";
  return s;
}

std::string LiteralToString(const Literal& l) {
  switch (l.kind) {
    case Literal::Kind::kInt:
      return absl::StrCat(l.int_value);
    case Literal::Kind::kDouble:
      return DoubleToString(l.double_value);
    case Literal::Kind::kString:
      return QuoteWith(l.string_value, '\'');
    case Literal::Kind::kBool:
      return l.bool_value ? "true" : "false";
  }
  return "?";
}

std::string NameToString(const std::string& name, bool quoted) {
  return quoted ? QuoteWith(name, '"') : name;
}

void AppendArgs(const Expr& e, size_t first, std::string* out) {
  for (size_t i = first; i < e.args.size(); ++i)
    absl::StrAppend(out, " ", ExprToString(*e.args[i]));
}

}  // namespace

const char* BinaryOpName(BinaryOp op) {
  switch (op) {
    case BinaryOp::kEq:
      return "==";
    case BinaryOp::kNe:
      return "!=";
    case BinaryOp::kLt:
      return "<";
    case BinaryOp::kLe:
      return "<=";
    case BinaryOp::kGt:
      return ">";
    case BinaryOp::kGe:
      return ">=";
    case BinaryOp::kAdd:
      return "+";
    case BinaryOp::kSub:
      return "-";
    case BinaryOp::kMul:
      return "*";
    case BinaryOp::kDiv:
      return "/";
    case BinaryOp::kMod:
      return "%";
  }
  return "?";
}

bool IsComparison(BinaryOp op) {
  return op == BinaryOp::kEq || op == BinaryOp::kNe || op == BinaryOp::kLt || op == BinaryOp::kLe ||
         op == BinaryOp::kGt || op == BinaryOp::kGe;
}

std::string ExprToString(const Expr& e) {
  std::string out;
  switch (e.kind) {
    case ExprKind::kColumn:
      return NameToString(e.name, e.quoted);
    case ExprKind::kLiteral:
      return LiteralToString(e.literal);
    case ExprKind::kNot:
      out = "(not";
      break;
    case ExprKind::kNegate:
      out = "(neg";
      break;
    case ExprKind::kBinary:
      out = absl::StrCat("(", BinaryOpName(e.op));
      break;
    case ExprKind::kAnd:
      out = "(and";
      break;
    case ExprKind::kOr:
      out = "(or";
      break;
    case ExprKind::kIsNull:
      out = e.negated ? "(is-not-null" : "(is-null";
      break;
    case ExprKind::kCall:
      out = absl::StrCat("(", e.name);
      break;
    case ExprKind::kIn:
      out = absl::StrCat(e.negated ? "(not-in " : "(in ", ExprToString(*e.args[0]), " (");
      for (size_t i = 1; i < e.args.size(); ++i) {
        absl::StrAppend(&out, i > 1 ? " " : "", ExprToString(*e.args[i]));
      }
      return out + "))";
  }
  AppendArgs(e, 0, &out);
  return out + ")";
}

std::string QueryToString(const Query& q) {
  std::string out = "(";
  struct Visitor {
    std::string* out;
    const Query& q;
    void Columns(const std::vector<ColumnName>& cols) const {
      absl::StrAppend(out, " :on (");
      for (size_t i = 0; i < cols.size(); ++i) {
        absl::StrAppend(out, i > 0 ? " " : "", NameToString(cols[i].name, cols[i].quoted));
      }
      absl::StrAppend(out, ")");
    }
    void operator()(const NoSample&) const { absl::StrAppend(out, "select"); }
    void operator()(const SampleBy& s) const {
      absl::StrAppend(out, "select");
      Common();
      absl::StrAppend(out, " :sample-by ");
      if (s.choice == SampleBy::Choice::kExpression) {
        absl::StrAppend(out, ExprToString(*s.weight));
      } else {
        absl::StrAppend(out,
                        s.choice == SampleBy::Choice::kMaxWeight ? "(max_weight" : "(sum_weight");
        for (const WeightCase& c : s.cases) {
          absl::StrAppend(out, " (", ExprToString(*c.condition), " ", ExprToString(*c.weight), ")");
        }
        absl::StrAppend(out, ")");
      }
      absl::StrAppend(out, " :replace ", s.replace ? "true" : "false");
      if (s.limit) absl::StrAppend(out, " :limit ", *s.limit);
    }
    void operator()(const UniformSample& s) const {
      absl::StrAppend(out, "sample");
      Common();
      absl::StrAppend(out, " :uniform ", DoubleToString(s.fraction));
    }
    void operator()(const UniverseSample& s) const {
      absl::StrAppend(out, "sample");
      Common();
      Columns(s.columns);
      absl::StrAppend(out, " :universe ", DoubleToString(s.fraction));
    }
    void operator()(const DistinctSample& s) const {
      absl::StrAppend(out, "sample");
      Common();
      Columns(s.columns);
      absl::StrAppend(out, " :distinct (", DoubleToString(s.fraction), " ", s.min_rows, ")");
    }
    void operator()(const UsingSample& s) const {
      absl::StrAppend(out, "select");
      Common();
      absl::StrAppend(out, " :using-sample ");
      if (s.percent) {
        absl::StrAppend(out, DoubleToString(s.percentage), "%");
      } else {
        absl::StrAppend(out, s.rows, " rows");
      }
      static constexpr const char* kMethods[] = {"default", "reservoir", "bernoulli", "system"};
      absl::StrAppend(out, " :method ", kMethods[static_cast<int>(s.method)]);
      if (s.seed) absl::StrAppend(out, " :seed ", *s.seed);
    }
    void Common() const {
      if (q.source) absl::StrAppend(out, " :from ", *q.source);
      if (q.where) absl::StrAppend(out, " :where ", ExprToString(*q.where));
    }
  };
  if (std::holds_alternative<NoSample>(q.sample)) {
    absl::StrAppend(&out, "select");
    Visitor{&out, q}.Common();
  } else {
    std::visit(Visitor{&out, q}, q.sample);
  }
  if (q.weight_column) absl::StrAppend(&out, " :weight-as ", *q.weight_column);
  return out + ")";
}

}  // namespace urn::query
