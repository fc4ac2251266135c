// Planner: every name and type error is found before any row is read, with its position.
#include <gtest/gtest.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "query/error.h"
#include "query/parser.h"
#include "query/planner.h"

namespace urn::query {
namespace {

Schema TestSchema() {
  return {{"label", table::Type::kString},        {"Age", table::Type::kInt64},
          {"score", table::Type::kDouble},        {"ok", table::Type::kBool},
          {"findings", table::Type::kStringList}, {"w", table::Type::kDouble}};
}

std::string PlanError(const std::string& text) {
  absl::StatusOr<Query> q = ParseQuery(text);
  if (!q.ok()) return "PARSE " + std::string(q.status().message());
  absl::StatusOr<Plan> p = PlanQuery(*q, TestSchema());
  if (p.ok()) return "OK";
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(p.status().message());
}

TEST(QueryPlanner, UnknownColumnSuggestsTheNearestName) {
  EXPECT_EQ(PlanError("select * where lable = 'cat'"),
            "1:16: unknown column 'lable'; did you mean 'label'?");
  EXPECT_EQ(PlanError("select * where zzzzzz = 1"),
            "1:16: unknown column 'zzzzzz'; the columns are label, Age, score, ok, findings, w");
  EXPECT_EQ(PlanError("sample on label, \"age\" universe (0.5)"),
            "1:18: unknown column 'age'; did you mean 'Age'?");
  // Bare names match ignoring case when that is unambiguous.
  EXPECT_EQ(PlanError("select * where age > 3"), "OK");
  const std::string text = "select *\nwhere lable = 'cat'";
  absl::StatusOr<Plan> p = PlanQuery(*ParseQuery(text), TestSchema());
  EXPECT_EQ(FormatError(text, p.status()),
            "2:7: unknown column 'lable'; did you mean 'label'?\n  where lable = 'cat'\n"
            "        ^~~~~");
}

// No suggestion is searched for a name no one types, or among names too far in length (the
// edit distance is quadratic: a 60,000-byte name against 1 KB names took seconds).
TEST(QueryPlanner, ALongUnknownNameListsTheColumnsWithoutASuggestion) {
  const std::string name(300, 'y');
  EXPECT_EQ(PlanError(absl::StrCat("select * where ", name, " = 1")),
            absl::StrCat("1:16: unknown column '", name,
                         "'; the columns are label, Age, score, ok, findings, w"));
  EXPECT_EQ(PlanError("select * where scoree > 1"),
            "1:16: unknown column 'scoree'; did you mean 'score'?");
}

// Every distinct constant, column and operation holds a block of values per thread: a query
// whose registers would pass QueryLimits::max_scratch_bytes is refused before any row is read,
// while repeated equal constants share one register.
TEST(QueryPlanner, AQueryOfTooManyRegistersIsRefusedAndEqualConstantsShareOne) {
  std::string distinct = "select * where coalesce(Age";
  std::string equal = distinct;
  for (int i = 0; i < 4000; ++i) {
    absl::StrAppend(&distinct, ", ", i);
    absl::StrAppend(&equal, ", 7");
  }
  distinct += ") > 0";
  equal += ") > 0";
  const std::string refused = PlanError(distinct);
  EXPECT_NE(refused.find("1:1: the query needs "), std::string::npos) << refused;
  EXPECT_NE(refused.find("KiB of registers per thread to evaluate, more than the 16384 KiB "
                         "allowed (QueryLimits::max_scratch_bytes)"),
            std::string::npos)
      << refused;
  EXPECT_EQ(PlanError(equal), "OK");
  absl::StatusOr<Plan> plan = PlanQuery(*ParseQuery(equal), TestSchema());
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_LT(plan->program->ScratchBytes(), 64 << 10);
  QueryLimits tight;
  tight.max_scratch_bytes = plan->program->ScratchBytes() - 1;
  EXPECT_EQ(PlanQuery(*ParseQuery(equal), TestSchema(), tight).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// A long expression is shown cut at a character boundary, never inside a UTF-8 character.
TEST(QueryPlanner, ShortenedExpressionsStayValidUtf8) {
  const std::string message = PlanError(
      "select * where 'a\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9"
      "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9' + 1 > 0");
  EXPECT_NE(message.find("`'a\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9"
                         "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9...`"),
            std::string::npos)
      << message;
}

TEST(QueryPlanner, StringComparedWithNumber) {
  EXPECT_EQ(PlanError("select * where label = 5"),
            "1:16: cannot compare `label` (string) with `5` (int64) using ==; quote the number "
            "to compare text ('5'), or compare a numeric column");
  EXPECT_EQ(PlanError("select * where label = Age"),
            "1:16: cannot compare `label` (string) with `Age` (int64) using ==; a string and a "
            "number never compare (there are no casts)");
  EXPECT_EQ(PlanError("select * sample by max_weight(Age < 'x': 1)"),
            "1:31: cannot compare `Age` (int64) with `'x'` (string) using <; a string and a "
            "number never compare (there are no casts)");
  EXPECT_EQ(PlanError("select * where Age = 'nan'"),
            "1:16: cannot compare `Age` (int64) with `'nan'` (string) using ==; a string and a "
            "number never compare (there are no casts)");
  EXPECT_EQ(PlanError("select * where Age = '5'"),
            "1:16: cannot compare `Age` (int64) with `'5'` (string) using ==; to compare "
            "numbers, write 5 without quotes");
  EXPECT_EQ(PlanError("select * where score > 2.5 and label != 2.5"),
            "1:32: cannot compare `label` (string) with `2.5` (double) using !=; quote the "
            "number to compare text ('2.5'), or compare a numeric column");
  EXPECT_EQ(PlanError("select * where ok = 1"),
            "1:16: cannot compare `ok` (bool) with `1` (int64) using ==");
  EXPECT_EQ(PlanError("select * where findings = 'x'"),
            "1:16: cannot compare lists with ==: `findings` (list<string>) is a list; test "
            "membership with contains(findings, 'value')");
}

TEST(QueryPlanner, TypeErrors) {
  EXPECT_EQ(PlanError("select * where Age"),
            "1:16: WHERE needs a true/false condition, but `Age` (int64) is not one");
  EXPECT_EQ(PlanError("select * where not label"),
            "1:20: NOT needs a true/false operand, but `label` (string) is not one");
  EXPECT_EQ(PlanError("select * where ok and Age"),
            "1:23: AND joins true/false conditions, but `Age` (int64) is not one");
  EXPECT_EQ(PlanError("select * where label + 1 > 2"),
            "1:16: '+' needs numbers, but `label` (string) is not one");
  EXPECT_EQ(PlanError("select * where Age in (1, 'two')"),
            "1:27: IN list value 'two' does not match the type of `Age` (int64)");
  EXPECT_EQ(PlanError("select * sample by max_weight(Age: 1)"),
            "1:31: each entry of max_weight(...) starts with a true/false condition, but `Age` "
            "(int64) is not one");
  EXPECT_EQ(PlanError("select * sample by sum_weight(ok: label)"),
            "1:35: the weight after ':' must be a number, but `label` (string) is not one");
  EXPECT_EQ(PlanError("select * sample by max_weight(ok: -2)"),
            "1:35: a sampling weight must be finite and >= 0, not -2");
  EXPECT_EQ(PlanError("select * sample by ok"),
            "1:20: the SAMPLE BY weight must be a number, but `ok` (bool) is not one; to "
            "weight rows by a condition write max_weight(condition: weight, true: 1)");
  EXPECT_EQ(PlanError("select * where frobnicate(label)"),
            "1:16: unknown function 'frobnicate'; the functions are contains, lower, upper, "
            "length, abs, ln, exp and coalesce");
  EXPECT_EQ(PlanError("select * where contains(findings)"),
            "1:16: contains() takes two arguments, not 1");
  EXPECT_EQ(PlanError("select * where contains(Age, 'x')"),
            "1:25: contains() needs a list<string> or string column first, but `Age` (int64) "
            "is not");
  EXPECT_EQ(PlanError("select * where coalesce(Age, label) = 1"),
            "1:30: coalesce() arguments must share a type: `label` (string) does not match "
            "`Age` (int64)");
  EXPECT_EQ(PlanError("SAMPLE UNIFORM (0.5) WITH WEIGHT AS score"),
            "1:37: the table already has a column named 'score'; choose another name for the "
            "weight column");
}

TEST(QueryPlanner, WellTypedQueriesPlanToTheirSamplers) {
  struct Case {
    const char* text;
    SamplerKind sampler;
  };
  for (const Case& c : std::initializer_list<Case>{
           {"select * where Age > 2.5 and score < 3", SamplerKind::kAll},
           {"select * sample by w * 2 + Age", SamplerKind::kWeightedWithReplacement},
           {"select * sample by max_weight(contains(findings, 'x'): 2) replace false",
            SamplerKind::kWeightedWithoutReplacement},
           {"sample uniform (0.5)", SamplerKind::kBernoulli},
           {"sample on label, Age universe (0.5)", SamplerKind::kUniverse},
           {"sample on label distinct (0.5, 2)", SamplerKind::kDistinct},
           {"select * using sample 10", SamplerKind::kReservoir},
           {"select * using sample 10% (reservoir)", SamplerKind::kReservoir},
           {"select * using sample 10%", SamplerKind::kBernoulli},
           {"select * using sample 10% (system)", SamplerKind::kBernoulli},
       }) {
    absl::StatusOr<Query> q = ParseQuery(c.text);
    ASSERT_TRUE(q.ok()) << c.text << ": " << q.status();
    absl::StatusOr<Plan> p = PlanQuery(*q, TestSchema());
    ASSERT_TRUE(p.ok()) << c.text << ": " << p.status();
    EXPECT_EQ(p->sampler, c.sampler) << c.text << "\n" << p->Explain();
  }
}

}  // namespace
}  // namespace urn::query
