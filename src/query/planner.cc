#include "query/planner.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace urn::query {
namespace {

bool IsNumeric(ValueKind k) { return k == ValueKind::kInt64 || k == ValueKind::kDouble; }

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      const bool same = absl::ascii_tolower(a[i - 1]) == absl::ascii_tolower(b[j - 1]);
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (same ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

struct FunctionInfo {
  const char* name;
  Function function;
};
constexpr FunctionInfo kFunctions[] = {
    {"contains", Function::kContains}, {"lower", Function::kLower},
    {"upper", Function::kUpper},       {"length", Function::kLength},
    {"abs", Function::kAbs},           {"ln", Function::kLn},
    {"exp", Function::kExp},           {"coalesce", Function::kCoalesce},
};

class Planner {
 public:
  Planner(const Query& query, const Schema& schema, const QueryLimits& limits)
      : q_(query), schema_(schema), limits_(limits) {}

  absl::StatusOr<Plan> Run() {
    Plan plan;
    plan.schema = schema_;
    plan.source = q_.source;
    if (q_.where) {
      absl::StatusOr<Reg> f = Compile(*q_.where);
      if (!f.ok()) return f.status();
      if (f->kind != ValueKind::kBool) {
        return Error(q_.where->span, absl::StrCat("WHERE needs a true/false condition, but ",
                                                  Show(*q_.where, *f), " is not one"));
      }
      builder_.SetFilter(*f);
    }
    absl::Status s =
        std::visit([&](const auto& clause) { return PlanSample(clause, plan); }, q_.sample);
    if (!s.ok()) return s;
    if (q_.weight_column) {
      for (const ColumnSchema& c : schema_) {
        if (c.name == *q_.weight_column) {
          return Error(q_.weight_column_span,
                       absl::StrCat("the table already has a column named '", c.name,
                                    "'; choose another name for the weight column"));
        }
      }
      plan.weight_column = q_.weight_column;
    }
    plan.program = builder_.Build();
    if (const int64_t bytes = plan.program->ScratchBytes(); bytes > limits_.max_scratch_bytes) {
      return Error(SourceSpan{0, static_cast<uint32_t>(q_.text.size())},
                   absl::StrCat("the query needs ", bytes >> 10,
                                " KiB of registers per thread to evaluate, more than the ",
                                limits_.max_scratch_bytes >> 10,
                                " KiB allowed (QueryLimits::max_scratch_bytes): every distinct "
                                "constant, column and operation takes one; use IN (...) for "
                                "lists of values"));
    }
    return plan;
  }

 private:
  absl::Status Error(SourceSpan span, const std::string& message) const {
    return QueryError(q_.text, span, message);
  }

  // The query's text from `begin` to `end` (offsets) on one line, cut to 40 bytes.
  std::string Shortened(size_t begin, size_t end) const {
    begin = std::min(begin, q_.text.size());
    std::string text = q_.text.substr(begin, end > begin ? end - begin : 0);
    std::replace_if(
        text.begin(), text.end(), [](char c) { return c == '\n' || c == '\r' || c == '\t'; }, ' ');
    if (text.size() > 40) {
      size_t cut = 37;  // not inside a UTF-8 character
      while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
      text = text.substr(0, cut) + "...";
    }
    return text;
  }

  // `text` (type), the expression as written, shortened.
  std::string Show(const Expr& e, Reg r) const {
    return absl::StrCat("`", Shortened(e.span.offset, e.span.offset + e.span.length), "` (",
                        ValueKindName(r.kind), ")");
  }

  absl::StatusOr<int> ResolveColumn(const std::string& name, bool quoted, SourceSpan span) const {
    for (size_t i = 0; i < schema_.size(); ++i) {
      if (schema_[i].name == name) return static_cast<int>(i);
    }
    int found = -1;
    if (!quoted) {
      for (size_t i = 0; i < schema_.size(); ++i) {
        if (absl::EqualsIgnoreCase(schema_[i].name, name)) {
          if (found >= 0) {
            return Error(span, absl::StrCat("column name '", name, "' matches both '",
                                            schema_[found].name, "' and '", schema_[i].name,
                                            "' ignoring case; write it in \"double quotes\" "
                                            "exactly as in the table"));
          }
          found = static_cast<int>(i);
        }
      }
    }
    if (found >= 0) return found;
    std::string message = absl::StrCat("unknown column '", name, "'");
    // A suggestion is within max(2, |name| / 3) edits; the edit distance, quadratic, is
    // computed only where that is possible, and not for names no one types (a 60,000-byte name
    // against 200 columns of 1 KB took 39 s).
    constexpr size_t kLongestSuggested = 256;
    const size_t cutoff = std::max<size_t>(2, name.size() / 3);
    size_t best = SIZE_MAX;
    std::string suggestion;
    for (const ColumnSchema& c : schema_) {
      if (name.size() > kLongestSuggested || c.name.size() > name.size() + cutoff ||
          name.size() > c.name.size() + cutoff) {
        continue;
      }
      const size_t d = EditDistance(name, c.name);
      if (d < best) {
        best = d;
        suggestion = c.name;
      }
    }
    if (best <= cutoff && best < name.size()) {
      absl::StrAppend(&message, "; did you mean '", suggestion, "'?");
    } else if (schema_.empty()) {
      absl::StrAppend(&message, "; the table has no columns");
    } else {
      std::vector<std::string> names;
      for (size_t i = 0; i < schema_.size() && i < 12; ++i) names.push_back(schema_[i].name);
      absl::StrAppend(&message, "; the columns are ", absl::StrJoin(names, ", "),
                      schema_.size() > 12 ? ", ..." : "");
    }
    return Error(span, message);
  }

  absl::StatusOr<Reg> Compile(const Expr& e) {
    switch (e.kind) {
      case ExprKind::kColumn: {
        absl::StatusOr<int> col = ResolveColumn(e.name, e.quoted, e.span);
        if (!col.ok()) return col.status();
        return builder_.Column(*col, schema_[*col].type);
      }
      case ExprKind::kLiteral:
        return builder_.Constant(e.literal);
      case ExprKind::kNot: {
        absl::StatusOr<Reg> a = Compile(*e.args[0]);
        if (!a.ok()) return a;
        if (a->kind != ValueKind::kBool) {
          return Error(e.args[0]->span, absl::StrCat("NOT needs a true/false operand, but ",
                                                     Show(*e.args[0], *a), " is not one"));
        }
        return builder_.Not(*a);
      }
      case ExprKind::kNegate: {
        absl::StatusOr<Reg> a = Compile(*e.args[0]);
        if (!a.ok()) return a;
        if (!IsNumeric(a->kind)) {
          return Error(e.args[0]->span, absl::StrCat("unary minus needs a number, but ",
                                                     Show(*e.args[0], *a), " is not one"));
        }
        return builder_.Negate(*a);
      }
      case ExprKind::kAnd:
      case ExprKind::kOr: {
        std::vector<Reg> args;
        for (const auto& arg : e.args) {
          absl::StatusOr<Reg> a = Compile(*arg);
          if (!a.ok()) return a;
          if (a->kind != ValueKind::kBool) {
            return Error(arg->span, absl::StrCat(e.kind == ExprKind::kAnd ? "AND" : "OR",
                                                 " joins true/false conditions, but ",
                                                 Show(*arg, *a), " is not one"));
          }
          args.push_back(*a);
        }
        return builder_.Logical(e.kind == ExprKind::kOr, args);
      }
      case ExprKind::kIsNull: {
        absl::StatusOr<Reg> a = Compile(*e.args[0]);
        if (!a.ok()) return a;
        return builder_.IsNull(*a, e.negated);
      }
      case ExprKind::kBinary:
        return IsComparison(e.op) ? CompileComparison(e) : CompileArithmetic(e);
      case ExprKind::kIn:
        return CompileIn(e);
      case ExprKind::kCall:
        return CompileCall(e);
    }
    return Error(e.span, "unsupported expression");
  }

  // The string column and string literal of `a op b`, if that is its shape.
  bool StringColumnAndLiteral(const Expr& e, const Expr** column, const Expr** literal) const {
    for (int side = 0; side < 2; ++side) {
      const Expr& c = *e.args[side];
      const Expr& l = *e.args[1 - side];
      if (c.kind == ExprKind::kColumn && l.kind == ExprKind::kLiteral &&
          l.literal.kind == Literal::Kind::kString) {
        *column = &c;
        *literal = &l;
        return true;
      }
    }
    return false;
  }

  absl::StatusOr<Reg> CompileComparison(const Expr& e) {
    // string column ==/!= 'literal': compared through the column's prefix keys.
    const Expr* column = nullptr;
    const Expr* literal = nullptr;
    if ((e.op == BinaryOp::kEq || e.op == BinaryOp::kNe) &&
        StringColumnAndLiteral(e, &column, &literal)) {
      absl::StatusOr<int> col = ResolveColumn(column->name, column->quoted, column->span);
      if (!col.ok()) return col.status();
      if (schema_[*col].type == table::Type::kString) {
        return builder_.CompareStringColumn(e.op, *col, literal->literal.string_value);
      }
    }
    absl::StatusOr<Reg> a = Compile(*e.args[0]);
    if (!a.ok()) return a;
    absl::StatusOr<Reg> b = Compile(*e.args[1]);
    if (!b.ok()) return b;
    const std::string op = BinaryOpName(e.op);
    if (a->kind == ValueKind::kStringList || b->kind == ValueKind::kStringList) {
      const Expr& list = a->kind == ValueKind::kStringList ? *e.args[0] : *e.args[1];
      return Error(e.span, absl::StrCat("cannot compare lists with ", op, ": ",
                                        Show(list, Reg{0, ValueKind::kStringList}),
                                        " is a list; test membership with contains(", list.name,
                                        ", 'value')"));
    }
    if (IsNumeric(a->kind) && IsNumeric(b->kind)) {
      if (a->kind != b->kind) {
        a = builder_.ToDouble(*a);
        b = builder_.ToDouble(*b);
      }
      return builder_.Compare(e.op, *a, *b);
    }
    if (a->kind != b->kind) {
      std::string hint;
      if ((a->kind == ValueKind::kString && IsNumeric(b->kind)) ||
          (b->kind == ValueKind::kString && IsNumeric(a->kind))) {
        const Expr& text = a->kind == ValueKind::kString ? *e.args[0] : *e.args[1];
        const Expr& number = a->kind == ValueKind::kString ? *e.args[1] : *e.args[0];
        double value;
        const std::string& quoted = text.literal.string_value;
        if (text.kind == ExprKind::kLiteral && absl::SimpleAtod(quoted, &value) &&
            std::isfinite(value) && absl::StripAsciiWhitespace(quoted) == quoted) {
          hint = absl::StrCat("; to compare numbers, write ", quoted, " without quotes");
        } else if (number.kind == ExprKind::kLiteral) {
          hint = absl::StrCat("; quote the number to compare text ('", ExprToString(number),
                              "'), or compare a numeric column");
        } else {
          hint = "; a string and a number never compare (there are no casts)";
        }
      }
      return Error(e.span, absl::StrCat("cannot compare ", Show(*e.args[0], *a), " with ",
                                        Show(*e.args[1], *b), " using ", op, hint));
    }
    return builder_.Compare(e.op, *a, *b);
  }

  absl::StatusOr<Reg> CompileArithmetic(const Expr& e) {
    absl::StatusOr<Reg> a = Compile(*e.args[0]);
    if (!a.ok()) return a;
    absl::StatusOr<Reg> b = Compile(*e.args[1]);
    if (!b.ok()) return b;
    for (int side = 0; side < 2; ++side) {
      const Reg& r = side == 0 ? *a : *b;
      if (!IsNumeric(r.kind)) {
        return Error(e.args[side]->span,
                     absl::StrCat("'", BinaryOpName(e.op), "' needs numbers, but ",
                                  Show(*e.args[side], r), " is not one"));
      }
    }
    if (a->kind != b->kind || e.op == BinaryOp::kDiv) {
      a = builder_.ToDouble(*a);
      b = builder_.ToDouble(*b);
    }
    return builder_.Arithmetic(e.op, *a, *b);
  }

  absl::StatusOr<Reg> CompileIn(const Expr& e) {
    absl::StatusOr<Reg> v = Compile(*e.args[0]);
    if (!v.ok()) return v;
    if (v->kind == ValueKind::kStringList) {
      return Error(e.args[0]->span, absl::StrCat(Show(*e.args[0], *v),
                                                 " is a list; IN tests "
                                                 "one value (use contains(list, 'x'))"));
    }
    std::vector<const Literal*> items;
    for (size_t i = 1; i < e.args.size(); ++i) {
      const Literal& l = e.args[i]->literal;
      const bool numeric = l.kind == Literal::Kind::kInt || l.kind == Literal::Kind::kDouble;
      const bool fits = IsNumeric(v->kind)              ? numeric
                        : v->kind == ValueKind::kString ? l.kind == Literal::Kind::kString
                                                        : l.kind == Literal::Kind::kBool;
      if (!fits) {
        return Error(e.args[i]->span,
                     absl::StrCat("IN list value ", ExprToString(*e.args[i]),
                                  " does not match the type of ", Show(*e.args[0], *v)));
      }
      items.push_back(&l);
    }
    return builder_.In(*v, items, e.negated);
  }

  absl::StatusOr<Reg> CompileCall(const Expr& e) {
    const FunctionInfo* info = nullptr;
    for (const FunctionInfo& f : kFunctions) {
      if (e.name == f.name) info = &f;
    }
    if (info == nullptr) {
      return Error(e.op_span, absl::StrCat("unknown function '", e.name,
                                           "'; the functions are "
                                           "contains, lower, upper, length, abs, ln, exp and "
                                           "coalesce"));
    }
    std::vector<Reg> args;
    for (const auto& arg : e.args) {
      absl::StatusOr<Reg> a = Compile(*arg);
      if (!a.ok()) return a;
      args.push_back(*a);
    }
    const size_t want = info->function == Function::kContains   ? 2
                        : info->function == Function::kCoalesce ? 0
                                                                : 1;
    if ((want > 0 && args.size() != want) || (want == 0 && args.empty())) {
      return Error(e.span, absl::StrCat(e.name, "() takes ",
                                        want == 0   ? "one or more arguments"
                                        : want == 1 ? "one argument"
                                                    : "two arguments",
                                        ", not ", args.size()));
    }
    auto bad = [&](size_t i, const char* what) {
      return Error(e.args[i]->span, absl::StrCat(e.name, "() needs ", what, ", but ",
                                                 Show(*e.args[i], args[i]), " is not"));
    };
    switch (info->function) {
      case Function::kContains:
        if (args[0].kind != ValueKind::kStringList && args[0].kind != ValueKind::kString) {
          return bad(0, "a list<string> or string column first");
        }
        if (args[1].kind != ValueKind::kString) return bad(1, "a string to look for");
        return builder_.Call(Function::kContains, args, ValueKind::kBool);
      case Function::kLower:
      case Function::kUpper:
        if (args[0].kind != ValueKind::kString) return bad(0, "a string");
        return builder_.Call(info->function, args, ValueKind::kString);
      case Function::kLength:
        if (args[0].kind != ValueKind::kString && args[0].kind != ValueKind::kStringList) {
          return bad(0, "a string or a list");
        }
        return builder_.Call(Function::kLength, args, ValueKind::kInt64);
      case Function::kAbs:
        if (!IsNumeric(args[0].kind)) return bad(0, "a number");
        return builder_.Call(Function::kAbs, args, args[0].kind);
      case Function::kLn:
      case Function::kExp:
        if (!IsNumeric(args[0].kind)) return bad(0, "a number");
        args[0] = builder_.ToDouble(args[0]);
        return builder_.Call(info->function, args, ValueKind::kDouble);
      case Function::kCoalesce: {
        ValueKind kind = args[0].kind;
        for (size_t i = 0; i < args.size(); ++i) {
          if (args[i].kind == ValueKind::kStringList) return bad(i, "scalar values (not lists)");
          const bool same = args[i].kind == kind || (IsNumeric(args[i].kind) && IsNumeric(kind));
          if (!same) {
            return Error(
                e.args[i]->span,
                absl::StrCat("coalesce() arguments must share a type: ", Show(*e.args[i], args[i]),
                             " does not match ", Show(*e.args[0], args[0])));
          }
          if (args[i].kind == ValueKind::kDouble) kind = ValueKind::kDouble;
        }
        if (kind == ValueKind::kDouble) {
          for (Reg& r : args) r = builder_.ToDouble(r);
        }
        return builder_.Call(Function::kCoalesce, args, kind);
      }
    }
    return Error(e.span, "unsupported function");
  }

  // A numeric weight as a double register; constants must be finite and >= 0.
  absl::StatusOr<Reg> CompileWeight(const Expr& e, const char* what, bool* constant) {
    absl::StatusOr<Reg> w = Compile(e);
    if (!w.ok()) return w;
    if (!IsNumeric(w->kind)) {
      return Error(e.span, absl::StrCat(what, " must be a number, but ", Show(e, *w), " is not one",
                                        w->kind == ValueKind::kBool
                                            ? "; to weight rows by a condition write "
                                              "max_weight(condition: weight, true: 1)"
                                            : ""));
    }
    *constant = e.kind == ExprKind::kLiteral;
    if (*constant) {
      const double v = e.literal.kind == Literal::Kind::kInt
                           ? static_cast<double>(e.literal.int_value)
                           : e.literal.double_value;
      if (!(v >= 0 && v <= DBL_MAX)) {
        return Error(e.span, absl::StrCat("a sampling weight must be finite and >= 0, not ",
                                          ExprToString(e)));
      }
    }
    return builder_.ToDouble(*w);
  }

  absl::Status PlanSample(const NoSample&, Plan& plan) {
    plan.sampler = SamplerKind::kAll;
    return absl::OkStatus();
  }

  absl::Status PlanSample(const SampleBy& sb, Plan& plan) {
    plan.sampler = sb.replace ? SamplerKind::kWeightedWithReplacement
                              : SamplerKind::kWeightedWithoutReplacement;
    plan.count = sb.limit;
    if (sb.choice == SampleBy::Choice::kExpression) {
      bool constant = false;
      absl::StatusOr<Reg> w = CompileWeight(*sb.weight, "the SAMPLE BY weight", &constant);
      if (!w.ok()) return w.status();
      builder_.SetWeight(*w);
      return absl::OkStatus();
    }
    const char* fn = sb.choice == SampleBy::Choice::kMaxWeight ? "max_weight" : "sum_weight";
    std::vector<std::pair<Reg, Reg>> cases;
    std::vector<std::string> names;
    bool all_constant = true;
    for (const WeightCase& c : sb.cases) {
      names.push_back(absl::StrCat(
          fn, " entry ", names.size() + 1, ", `",
          Shortened(c.condition->span.offset, c.weight->span.offset + c.weight->span.length), "`"));
      absl::StatusOr<Reg> cond = Compile(*c.condition);
      if (!cond.ok()) return cond.status();
      if (cond->kind != ValueKind::kBool) {
        return Error(c.condition->span, absl::StrCat("each entry of ", fn,
                                                     "(...) starts with a true/false "
                                                     "condition, but ",
                                                     Show(*c.condition, *cond), " is not one"));
      }
      bool constant = false;
      absl::StatusOr<Reg> w = CompileWeight(*c.weight, "the weight after ':'", &constant);
      if (!w.ok()) return w.status();
      all_constant &= constant;
      cases.emplace_back(*cond, *w);
    }
    builder_.SetWeightCases(sb.choice == SampleBy::Choice::kSumWeight, cases, all_constant,
                            std::move(names));
    return absl::OkStatus();
  }

  absl::Status PlanSample(const UniformSample& u, Plan& plan) {
    plan.sampler = SamplerKind::kBernoulli;
    plan.fraction = u.fraction;
    return absl::OkStatus();
  }

  absl::Status ResolveKeys(const std::vector<ColumnName>& columns, Plan& plan) {
    for (const ColumnName& c : columns) {
      absl::StatusOr<int> col = ResolveColumn(c.name, c.quoted, c.span);
      if (!col.ok()) return col.status();
      plan.key_columns.push_back(*col);
    }
    return absl::OkStatus();
  }

  absl::Status PlanSample(const UniverseSample& u, Plan& plan) {
    plan.sampler = SamplerKind::kUniverse;
    plan.fraction = u.fraction;
    return ResolveKeys(u.columns, plan);
  }

  absl::Status PlanSample(const DistinctSample& d, Plan& plan) {
    plan.sampler = SamplerKind::kDistinct;
    plan.fraction = d.fraction;
    plan.min_rows = d.min_rows;
    return ResolveKeys(d.columns, plan);
  }

  absl::Status PlanSample(const UsingSample& u, Plan& plan) {
    plan.seed = u.seed;
    if (!u.percent) {
      plan.sampler = SamplerKind::kReservoir;
      plan.count = u.rows;
    } else if (u.method == UsingSample::Method::kReservoir) {
      plan.sampler = SamplerKind::kReservoir;
      plan.fraction = u.percentage / 100;
    } else {
      plan.sampler = SamplerKind::kBernoulli;
      plan.fraction = u.percentage / 100;
    }
    return absl::OkStatus();
  }

  const Query& q_;
  const Schema& schema_;
  const QueryLimits& limits_;
  ProgramBuilder builder_;
};

}  // namespace

Schema SchemaOf(const table::Table& table) {
  Schema schema;
  for (const table::Column& c : table.columns()) schema.push_back({c.name(), c.type()});
  return schema;
}

const char* SamplerKindName(SamplerKind kind) {
  switch (kind) {
    case SamplerKind::kAll:
      return "all rows";
    case SamplerKind::kWeightedWithReplacement:
      return "weighted with replacement (alias table)";
    case SamplerKind::kWeightedWithoutReplacement:
      return "weighted without replacement (exponential keys)";
    case SamplerKind::kBernoulli:
      return "bernoulli";
    case SamplerKind::kReservoir:
      return "reservoir";
    case SamplerKind::kUniverse:
      return "universe";
    case SamplerKind::kDistinct:
      return "distinct";
  }
  return "?";
}

std::string Plan::Explain() const {
  std::string out = absl::StrCat("sampler: ", SamplerKindName(sampler), "\n");
  if (source) absl::StrAppend(&out, "source: ", *source, "\n");
  if (count) absl::StrAppend(&out, "count: ", *count, "\n");
  if (sampler == SamplerKind::kBernoulli || sampler == SamplerKind::kUniverse ||
      sampler == SamplerKind::kDistinct || (sampler == SamplerKind::kReservoir && !count)) {
    absl::StrAppend(&out, "fraction: ", fraction, "\n");
  }
  if (sampler == SamplerKind::kDistinct) absl::StrAppend(&out, "min_rows: ", min_rows, "\n");
  if (!key_columns.empty()) {
    std::vector<std::string> names;
    for (int c : key_columns) names.push_back(schema[c].name);
    absl::StrAppend(&out, "keys: ", absl::StrJoin(names, ", "), "\n");
  }
  if (seed) absl::StrAppend(&out, "seed: ", *seed, "\n");
  if (weight_column) absl::StrAppend(&out, "weight column: ", *weight_column, "\n");
  absl::StrAppend(&out, program->ToString());
  return out;
}

absl::StatusOr<Plan> PlanQuery(const Query& query, const Schema& schema,
                               const QueryLimits& limits) {
  return Planner(query, schema, limits).Run();
}

}  // namespace urn::query
