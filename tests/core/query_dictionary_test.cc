// ProgramRunner's dictionary shortcut: a program that reads only one dictionary-encoded string
// column is evaluated once per distinct value and gathered per row. It must give exactly what
// evaluating every row gives: the same filter, weights, passing count, samples and errors.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "query/error.h"
#include "query/evaluator.h"
#include "query/parser.h"
#include "query/planner.h"
#include "random/counter_rng.h"
#include "table/table_builder.h"

namespace urn::query {
namespace {

// 6000 rows: `label` from 9 values (some longer than 7 bytes, so comparisons need their bytes)
// and null, `x` an integer, `tags` a list of 0 to 2 labels (null when empty).
table::Table LabelTable(bool dictionaries) {
  static const char* const kLabels[] = {"cat",      "dog",   "Hernia",          "emu", "",
                                        "Fibrosis", "Edema", "Pneumothorax-xl", "dogs"};
  const random::KeyedStream s(7, random::Stream::kUniformWithReplacement);
  std::string tsv = "label\tx\ttags\n";
  for (int i = 0; i < 6000; ++i) {
    const uint64_t bits = s.Bits(i);
    absl::StrAppend(&tsv, kLabels[bits % 9], "\t", i, "\t");
    for (uint64_t t = 0; t < (bits >> 8) % 3; ++t) {
      absl::StrAppend(&tsv, t > 0 ? "|" : "", kLabels[(bits >> (12 + 4 * t)) % 9 % 4 + 2]);
    }
    absl::StrAppend(&tsv, "\n");
  }
  table::ReadOptions o;
  o.list_delimiter = '|';
  o.column_types = {{"label", table::Type::kString}, {"tags", table::Type::kStringList}};
  table::TableBuilder builder(o);
  EXPECT_TRUE(builder.Append(tsv).ok());
  absl::StatusOr<table::Table> t = builder.Finish();
  EXPECT_TRUE(t.ok()) << t.status();
  if (dictionaries) t->BuildDictionaries();
  return std::move(*t);
}

Plan MustPlan(const std::string& text, const table::Table& t) {
  absl::StatusOr<Query> q = ParseQuery(text);
  EXPECT_TRUE(q.ok()) << FormatError(text, q.status());
  absl::StatusOr<Plan> p = PlanQuery(*q, t);
  EXPECT_TRUE(p.ok()) << FormatError(text, p.status());
  return std::move(*p);
}

// Queries whose expressions read only `label`, or only `tags`.
const char* const kLabelQueries[] = {
    "select * sample by max_weight(contains(tags, 'Hernia'): 20, contains(tags, 'emu'): 5, "
    "length(tags) >= 2: 2, true: 1) replace false limit 200 with weight as w",
    "select * where tags is null or contains(tags, 'Fibrosis')",
    "select * where label != 'cat' sample by max_weight(label == 'Hernia': 20, label in ('dog', "
    "'emu'): 3, label == 'Pneumothorax-xl': 7, true: 1) replace false limit 100 with weight as w",
    "select * sample by sum_weight(contains(label, 'e'): 2, lower(label) == 'hernia': 5) "
    "limit 300 with weight as w",
    "select * where label is null or length(label) > 3 sample by length(label) + 0.5 "
    "replace false",
    "select * where upper(label) = 'DOG' or label is null using sample 50 rows",
    "select * where coalesce(label, 'none') in ('none', 'Edema')",
};

TEST(QueryDictionary, ShortcutGivesTheSameFilterAndWeightsAsEveryRow) {
  const table::Table t = LabelTable(true);
  ASSERT_NE(t.column(0).dictionary(), nullptr);
  ASSERT_NE(t.column(2).dictionary(), nullptr);
  for (const char* text : kLabelQueries) {
    SCOPED_TRACE(text);
    const Plan plan = MustPlan(text, t);
    const ProgramRunner runner(*plan.program, t);
    EXPECT_TRUE(runner.uses_dictionary());
    const int64_t n = t.num_rows();
    std::vector<uint8_t> pass(n), plain_pass(n);
    std::vector<double> weights(n), plain_weights(n);
    int64_t passed = 0, plain_passed = 0;
    // Uneven ranges: the gather must index codes by the absolute row.
    ProgramRunner::Cursor cursor = runner.NewCursor();
    ASSERT_TRUE(cursor.Evaluate(0, 1500, pass.data(), weights.data(), &passed).ok());
    ASSERT_TRUE(cursor.Evaluate(1500, n, pass.data() + 1500, weights.data() + 1500, &passed).ok());
    ASSERT_TRUE(
        plan.program->Evaluate(t, 0, n, plain_pass.data(), plain_weights.data(), &plain_passed)
            .ok());
    EXPECT_EQ(pass, plain_pass);
    EXPECT_EQ(weights, plain_weights);
    EXPECT_EQ(passed, plain_passed);
    EXPECT_GT(passed, 0);
  }
}

TEST(QueryDictionary, SamplesAreTheSameWithAndWithoutDictionaries) {
  const table::Table plain = LabelTable(false);
  const table::Table indexed = LabelTable(true);
  for (const char* text : kLabelQueries) {
    for (int threads : {1, 2}) {
      SCOPED_TRACE(absl::StrCat(text, " threads=", threads));
      absl::StatusOr<QueryResult> a = RunQueryText(text, plain, 11, threads);
      absl::StatusOr<QueryResult> b = RunQueryText(text, indexed, 11, threads);
      ASSERT_TRUE(a.ok() && b.ok());
      EXPECT_EQ(a->rows, b->rows);
      EXPECT_EQ(a->weights, b->weights);
      EXPECT_EQ(a->rows_passed, b->rows_passed);
      EXPECT_FALSE(a->rows.empty());
    }
  }
}

TEST(QueryDictionary, ProgramsReadingAnotherColumnEvaluateEveryRow) {
  const table::Table t = LabelTable(true);
  const Plan two_columns = MustPlan("select * where x > 10 and label == 'dog'", t);
  EXPECT_FALSE(ProgramRunner(*two_columns.program, t).uses_dictionary());
  const Plan constant = MustPlan("select * sample by 2 limit 5", t);
  EXPECT_FALSE(ProgramRunner(*constant.program, t).uses_dictionary());
  // Nor when the caller turns it off, or the table has no dictionaries.
  const Plan label = MustPlan("select * where label == 'dog'", t);
  EXPECT_FALSE(ProgramRunner(*label.program, t, /*use_dictionary=*/false).uses_dictionary());
  const table::Table plain = LabelTable(false);
  EXPECT_FALSE(ProgramRunner(*label.program, plain).uses_dictionary());
}

TEST(QueryDictionary, BadWeightsNameTheSameRowAsWithoutTheShortcut) {
  const table::Table plain = LabelTable(false);
  const table::Table indexed = LabelTable(true);
  // The weight itself is negative for short labels; a case weight is negative for 'emu' (the
  // program checks case weights itself, so the shortcut steps aside for it).
  for (const char* text :
       {"select * sample by length(label) - 3.5 limit 10",
        "select * sample by max_weight(label == 'emu': length(label) - 9, true: 1) limit 10"}) {
    SCOPED_TRACE(text);
    absl::StatusOr<QueryResult> a = RunQueryText(text, plain, 3, 2);
    absl::StatusOr<QueryResult> b = RunQueryText(text, indexed, 3, 2);
    ASSERT_FALSE(a.ok());
    EXPECT_EQ(a.status(), b.status());
    EXPECT_NE(a.status().message().find("data row "), std::string::npos) << a.status();
  }
}

}  // namespace
}  // namespace urn::query
