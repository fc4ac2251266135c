// Planner: every name and type error is found before any row is read, with its position.
#include <gtest/gtest.h>

#include <string>

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

TEST(QueryPlanner, StringComparedWithNumber) {
  EXPECT_EQ(PlanError("select * where label = 5"),
            "1:16: cannot compare `label` (string) with `5` (int64) using ==; quote the number "
            "to compare text ('5'), or compare a numeric column");
  EXPECT_EQ(PlanError("select * sample by max_weight(Age < 'x': 1)"),
            "1:31: cannot compare `Age` (int64) with `'x'` (string) using <; quote the number "
            "to compare text ('5'), or compare a numeric column");
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
