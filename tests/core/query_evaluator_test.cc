// RunQuery: expression semantics, the sampler each form maps to (identical to calling the
// core sampler directly with the same seed), and exact distributions.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "query/error.h"
#include "query/evaluator.h"
#include "query/parser.h"
#include "samplers/alias_table.h"
#include "samplers/bernoulli.h"
#include "samplers/distinct.h"
#include "samplers/group_key.h"
#include "samplers/reservoir.h"
#include "samplers/universe.h"
#include "samplers/weighted_without_replacement.h"
#include "support/stats.h"
#include "table/table_builder.h"

namespace urn::query {
namespace {

using testing::ChiSquareTest;

table::Table MakeTable(const std::string& tsv, table::ReadOptions options = {}) {
  table::TableBuilder builder(std::move(options));
  EXPECT_TRUE(builder.Append(tsv).ok());
  absl::StatusOr<table::Table> t = builder.Finish();
  EXPECT_TRUE(t.ok()) << t.status();
  return std::move(*t);
}

QueryResult RunText(const std::string& text, const table::Table& t, uint64_t seed = 1,
                    int threads = 1) {
  absl::StatusOr<QueryResult> r = RunQueryText(text, t, seed, threads);
  EXPECT_TRUE(r.ok()) << FormatError(text, r.status());
  return r.ok() ? std::move(*r) : QueryResult();
}

std::vector<uint64_t> Rows(const std::string& where_query, const table::Table& t) {
  return RunText(where_query, t).rows;
}

// Every type, with nulls (empty fields) and strings longer than 8 bytes.
table::Table TypedTable() {
  table::ReadOptions o;
  o.list_delimiter = '|';
  o.column_types = {{"tags", table::Type::kStringList}, {"name", table::Type::kString}};
  return MakeTable(
      "name\ti\td\tb\ttags\n"
      "alpha\t1\t0.5\ttrue\tx|y\n"                          // 0
      "Beta\t-2\t2.5\tfalse\ty\n"                           // 1
      "gamma-ray-burst\t9223372036854775807\t-1\ttrue\t\n"  // 2
      "\t0\t\t\tz|x|w\n"                                    // 3
      "héllo\t\t4\tfalse\tx\n",                             // 4
      o);
}

TEST(QueryEvaluator, ComparisonsAndStringFastPath) {
  const table::Table t = TypedTable();
  EXPECT_EQ(Rows("select * where name = 'alpha'", t), (std::vector<uint64_t>{0}));
  EXPECT_EQ(Rows("select * where 'gamma-ray-burst' == name", t), (std::vector<uint64_t>{2}));
  EXPECT_EQ(Rows("select * where name = 'gamma-ray-bursT'", t), (std::vector<uint64_t>{}));
  EXPECT_EQ(Rows("select * where name != 'alpha'", t), (std::vector<uint64_t>{1, 2, 4}));
  EXPECT_EQ(Rows("select * where name < 'b'", t), (std::vector<uint64_t>{0, 1}));  // 'B' < 'b'
  EXPECT_EQ(Rows("select * where i > 0", t), (std::vector<uint64_t>{0, 2}));
  EXPECT_EQ(Rows("select * where i >= d", t), (std::vector<uint64_t>{0, 2}));
  EXPECT_EQ(Rows("select * where b = true", t), (std::vector<uint64_t>{0, 2}));
  EXPECT_EQ(Rows("select * where b", t), (std::vector<uint64_t>{0, 2}));
  EXPECT_EQ(Rows("select * where i in (0, 1, 5.0)", t), (std::vector<uint64_t>{0, 3}));
  EXPECT_EQ(Rows("select * where d not in (0.5, 4)", t), (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(Rows("select * where name in ('Beta', 'héllo')", t), (std::vector<uint64_t>{1, 4}));
}

// NaN equals no number, so IN never holds for it and NOT IN always does, as with = and !=.
TEST(QueryEvaluator, NanIsInNoList) {
  const table::Table t = MakeTable("d\n2.5\nnan\n7\n100\n");
  EXPECT_EQ(Rows("select * where d in (100, 200)", t), (std::vector<uint64_t>{3}));
  EXPECT_EQ(Rows("select * where d in (-1e308)", t), (std::vector<uint64_t>{}));
  EXPECT_EQ(Rows("select * where d = 100 or d = 200", t), (std::vector<uint64_t>{3}));
  EXPECT_EQ(Rows("select * where d not in (100, 200)", t), (std::vector<uint64_t>{0, 1, 2}));
  EXPECT_EQ(Rows("select * where d != 100 and d != 200", t), (std::vector<uint64_t>{0, 1, 2}));
}

// x IN (a, b) is x = a OR x = b also for an int64 column and double items: as doubles, so
// beyond 2^53 both match the integers that round to the item (before, IN compared exactly and
// disagreed with =).
TEST(QueryEvaluator, InAgreesWithEqualityForIntegersAndDoubleItems) {
  const table::Table t =
      MakeTable("x\n9007199254740992\n9007199254740993\n9223372036854775807\n3\n-4\n");
  for (const char* item :
       {"9007199254740992.0", "9223372036854775807.0", "3.0", "3.5", "-4e0", "9007199254740993"}) {
    SCOPED_TRACE(item);
    EXPECT_EQ(Rows(absl::StrCat("select * where x in (", item, ")"), t),
              Rows(absl::StrCat("select * where x = ", item), t));
    EXPECT_EQ(Rows(absl::StrCat("select * where x not in (", item, ", 1)"), t),
              Rows(absl::StrCat("select * where x != ", item, " and x != 1"), t));
  }
  EXPECT_EQ(Rows("select * where x in (9007199254740992.0)", t), (std::vector<uint64_t>{0, 1}));
  EXPECT_EQ(Rows("select * where x in (9007199254740993, 3.0)", t), (std::vector<uint64_t>{1, 3}));
}

// contains() on strings: the empty needle is in every string, a needle longer than the string
// in none, and matches at the start, the end and across a repeated prefix are found.
TEST(QueryEvaluator, ContainsFindsEveryOccurrenceKind) {
  const table::Table t = MakeTable("s\naaab\nab\nb\nxaab\n");
  EXPECT_EQ(Rows("select * where contains(s, '')", t), (std::vector<uint64_t>{0, 1, 2, 3}));
  EXPECT_EQ(Rows("select * where contains(s, 'aab')", t), (std::vector<uint64_t>{0, 3}));
  EXPECT_EQ(Rows("select * where contains(s, 'aaab')", t), (std::vector<uint64_t>{0}));
  EXPECT_EQ(Rows("select * where contains(s, 'aaaab')", t), (std::vector<uint64_t>{}));
  EXPECT_EQ(Rows("select * where contains(s, 'b')", t), (std::vector<uint64_t>{0, 1, 2, 3}));
  EXPECT_EQ(Rows("select * where contains(s, 'x')", t), (std::vector<uint64_t>{3}));
}

TEST(QueryEvaluator, NullsFollowSql) {
  const table::Table t = TypedTable();
  EXPECT_EQ(Rows("select * where name is null", t), (std::vector<uint64_t>{3}));
  EXPECT_EQ(Rows("select * where i is not null and d is not null", t),
            (std::vector<uint64_t>{0, 1, 2}));
  EXPECT_EQ(Rows("select * where tags is null", t), (std::vector<uint64_t>{2}));
  // null > 0 is null: the row is dropped, and so is NOT (null > 0).
  EXPECT_EQ(Rows("select * where not (d > 0)", t), (std::vector<uint64_t>{2}));
  // false AND null = false; true OR null = true.
  EXPECT_EQ(Rows("select * where not (d > 100 and i > 0)", t),
            (std::vector<uint64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(Rows("select * where b or i = 0", t), (std::vector<uint64_t>{0, 2, 3}));
  EXPECT_EQ(Rows("select * where coalesce(d, 7) = 7", t), (std::vector<uint64_t>{3}));
  EXPECT_EQ(Rows("select * where coalesce(i, d) = 4", t), (std::vector<uint64_t>{4}));
}

TEST(QueryEvaluator, ArithmeticAndFunctions) {
  const table::Table t = TypedTable();
  // Overflow, x / 0 and x % 0 give null.
  EXPECT_EQ(Rows("select * where i + 1 is null", t), (std::vector<uint64_t>{2, 4}));
  EXPECT_EQ(Rows("select * where 1 / i is null", t), (std::vector<uint64_t>{3, 4}));
  EXPECT_EQ(Rows("select * where i % 2 = 0", t), (std::vector<uint64_t>{1, 3}));
  EXPECT_EQ(Rows("select * where 7 / 2 = 3.5 and i * 2 - 1 = 1", t), (std::vector<uint64_t>{0}));
  EXPECT_EQ(Rows("select * where -i = 2 and abs(i) = 2 and abs(-d) = 2.5", t),
            (std::vector<uint64_t>{1}));
  EXPECT_EQ(Rows("select * where ln(d) is null", t), (std::vector<uint64_t>{2, 3}));
  EXPECT_EQ(Rows("select * where abs(exp(ln(d)) - d) < 1e-12", t),
            (std::vector<uint64_t>{0, 1, 4}));
  EXPECT_EQ(Rows("select * where contains(tags, 'x')", t), (std::vector<uint64_t>{0, 3, 4}));
  EXPECT_EQ(Rows("select * where contains(name, 'ray')", t), (std::vector<uint64_t>{2}));
  EXPECT_EQ(Rows("select * where length(tags) = 3 or length(name) = 5 and name != 'alpha'", t),
            (std::vector<uint64_t>{3, 4}));  // héllo is 5 characters, 6 bytes
  EXPECT_EQ(Rows("select * where lower(name) = 'beta' and upper(name) = 'BETA'", t),
            (std::vector<uint64_t>{1}));
}

TEST(QueryEvaluator, StringEqualityNearTheEndOfTheArena) {
  // The 8-byte prefix load must not read past the column's bytes: short last strings.
  std::string tsv = "s\n";
  for (int i = 0; i < 3000; ++i) {
    absl::StrAppend(&tsv, i % 3 == 0 ? "ab" : i % 3 == 1 ? "abcdefghij" : "a", "\n");
  }
  const table::Table t = MakeTable(tsv);
  EXPECT_EQ(RunText("select * where s = 'a'", t).rows.size(), 1000u);
  EXPECT_EQ(RunText("select * where s = 'ab'", t).rows.size(), 1000u);
  EXPECT_EQ(RunText("select * where s = 'abcdefghij'", t).rows.size(), 1000u);
  EXPECT_EQ(RunText("select * where s = 'abcdefghiX'", t).rows.size(), 0u);
  EXPECT_EQ(RunText("select * where s != 'a'", t).rows.size(), 2000u);
}

TEST(QueryEvaluator, BadWeightsAreDataErrorsNamingTheRow) {
  const table::Table t = MakeTable("w\n1\n2\n-3\n4\n");
  absl::StatusOr<QueryResult> r = RunQueryText("select * sample by w", t, 1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "data row 3: the sampling weight is -3; weights must be finite and >= 0");
  // A case's weight names its entry.
  r = RunQueryText("select * sample by max_weight(w > 1: w - 5, true: 1)", t, 1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "data row 2: max_weight entry 1, `w > 1: w - 5`, gives the weight -3; weights must "
            "be finite and >= 0");
  // (An entry written over two lines is shown on one.)
  r = RunQueryText("select * sample by sum_weight(w > 9: 1, w > 3: 1, w = 4:\n0 - w)", t, 1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "data row 4: sum_weight entry 3, `w = 4: 0 - w`, gives the weight -4; weights must "
            "be finite and >= 0");
  // A filtered-out row's weight does not matter, whether a column or a case gives it (also for
  // a string key, whose cases are evaluated once per distinct value).
  EXPECT_TRUE(RunQueryText("select * where w > 0 sample by w", t, 1).ok());
  for (const char* q : {"select * where w >= 0 sample by max_weight(true: w) replace true limit 3",
                        "select * where w != -3 sample by sum_weight(w > 1: w, true: w) limit 3",
                        "select * where w < 2 sample by max_weight(w > 1: w - 5, true: 1)"}) {
    absl::StatusOr<QueryResult> kept = RunQueryText(q, t, 1);
    EXPECT_TRUE(kept.ok()) << q << ": " << kept.status();
  }
  // ... but a bad weight of a row that passes still is an error, at that row, and not at an
  // earlier one that WHERE removes.
  r = RunQueryText("select * where w != 1 sample by max_weight(true: 0 - w)", t, 1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "data row 2: max_weight entry 1, `true: 0 - w`, gives the weight -2; weights must be "
            "finite and >= 0");
  std::string labels = "label\tw\n";
  for (int i = 0; i < 3000; ++i) absl::StrAppend(&labels, i % 2 ? "cat" : "dog", "\t1\n");
  const table::Table animals = MakeTable(labels);
  EXPECT_TRUE(RunQueryText("select * where label != 'cat' sample by max_weight(label = 'cat': 0 - "
                           "1, true: 1) limit 5",
                           animals, 1)
                  .ok());
  r = RunQueryText(
      "select * where label != 'dog' sample by max_weight(label = 'cat': 0 - 1, "
      "true: 1) limit 5",
      animals, 1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "data row 2: max_weight entry 1, `label = 'cat': 0 - 1`, gives the weight -1; weights "
            "must be finite and >= 0");
}

TEST(QueryEvaluator, SchemaMismatchIsFailedPrecondition) {
  const table::Table a = MakeTable("x\n1\n");
  const table::Table b = MakeTable("x\nfoo\n");
  absl::StatusOr<Plan> p = PlanQuery(*ParseQuery("select *"), a);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(RunQuery(*p, b, 1).status().code(), absl::StatusCode::kFailedPrecondition);
}

// --- the U-SQL reference's five rows ------------------------------------------------------

table::Table UsqlData() {
  table::ReadOptions o;
  o.column_types = {{"ZipCode", table::Type::kString}};
  return MakeTable(
      "ZipCode\tAge\tSalary\tLastName\n"
      "02143\t30\t100\tSmith\n"
      "98052\t25\t50\tAndersen\n"
      "02139\t30\t75\tTodd\n"
      "02139\t25\t60\tRoberts\n"
      "61801\t23\t80\tSanders\n",
      o);
}

TEST(QueryUsql, DistinctKeepsAllFiveRowsWithWeightOne) {
  const table::Table t = UsqlData();
  for (uint64_t seed = 0; seed < 50; ++seed) {
    const QueryResult r =
        RunText("SAMPLE @data ON ZipCode DISTINCT (0.1, 3) WITH WEIGHT AS _Weight;", t, seed);
    EXPECT_EQ(r.rows, (std::vector<uint64_t>{0, 1, 2, 3, 4}));
    EXPECT_EQ(r.weights, (std::vector<double>(5, 1.0)));
    EXPECT_EQ(r.weight_column, "_Weight");
  }
}

TEST(QueryUsql, UniformKeepsEachRowWithProbabilityPAndWeightOneOverP) {
  const table::Table t = UsqlData();
  std::vector<int64_t> kept(5, 0);
  int64_t total = 0;
  const int kSeeds = 4000;
  for (uint64_t seed = 0; seed < kSeeds; ++seed) {
    const QueryResult r = RunText("SAMPLE @data UNIFORM (0.4) WITH WEIGHT AS _Weight", t, seed);
    for (uint64_t row : r.rows) ++kept[row];
    for (double w : r.weights) EXPECT_DOUBLE_EQ(w, 2.5);
    total += r.rows.size();
  }
  for (int row = 0; row < 5; ++row) {
    const auto c = ChiSquareTest({kept[row], kSeeds - kept[row]}, {0.4, 0.6});
    EXPECT_GT(c.p_value, 1e-4) << "row " << row << " kept " << kept[row];
  }
  EXPECT_EQ(total, kept[0] + kept[1] + kept[2] + kept[3] + kept[4]);
}

TEST(QueryUsql, UniverseKeepsAgeGroupsWhole) {
  const table::Table t = UsqlData();
  // Age groups: 30 -> rows {0, 2}, 25 -> {1, 3}, 23 -> {4}; each kept with probability 0.1.
  const std::vector<std::vector<uint64_t>> groups = {{0, 2}, {1, 3}, {4}};
  std::vector<int64_t> kept(3, 0);
  const int kSeeds = 3000;
  for (uint64_t seed = 0; seed < kSeeds; ++seed) {
    const QueryResult r = RunText("SAMPLE @data ON Age UNIVERSE (0.1)", t, seed);
    const std::set<uint64_t> rows(r.rows.begin(), r.rows.end());
    for (size_t g = 0; g < groups.size(); ++g) {
      const bool first = rows.count(groups[g][0]) > 0;
      for (uint64_t row : groups[g]) EXPECT_EQ(rows.count(row) > 0, first) << "seed " << seed;
      kept[g] += first;
    }
    EXPECT_TRUE(r.weights.empty());
  }
  for (size_t g = 0; g < groups.size(); ++g) {
    const auto c = ChiSquareTest({kept[g], kSeeds - kept[g]}, {0.1, 0.9});
    EXPECT_GT(c.p_value, 1e-4) << "group " << g << " kept " << kept[g];
  }
}

TEST(QueryUsql, DistinctWeightsAreOneThenOneOverP) {
  // One key with 2,000 rows and min_rows 3: the first three are kept with weight 1, each later
  // one with probability p = 0.25 and weight 4.
  std::string tsv = "k\tv\n";
  for (int i = 0; i < 2000; ++i) absl::StrAppend(&tsv, "g\t", i, "\n");
  const table::Table t = MakeTable(tsv);
  const QueryResult r = RunText("SAMPLE ON k DISTINCT (0.25, 3) WITH WEIGHT AS w", t, 7);
  ASSERT_GE(r.rows.size(), 3u);
  EXPECT_EQ(std::vector<uint64_t>(r.rows.begin(), r.rows.begin() + 3),
            (std::vector<uint64_t>{0, 1, 2}));
  int64_t later = 0;
  for (size_t i = 0; i < r.rows.size(); ++i) {
    EXPECT_DOUBLE_EQ(r.weights[i], i < 3 ? 1.0 : 4.0);
    later += i >= 3;
  }
  const auto c = ChiSquareTest({later, 1997 - later}, {0.25, 0.75});
  EXPECT_GT(c.p_value, 1e-4) << later;
}

// --- equivalence with the core samplers (what the command line's flags run) ---------------

table::Table NumbersTable(int n) {
  std::string tsv = "id\tw\tkey\tkind\n";
  for (int i = 0; i < n; ++i) {
    absl::StrAppend(&tsv, i, "\t", (i * 37) % 11, "\tk", i % 97, "\t", i % 3 == 0 ? "a" : "b",
                    "\n");
  }
  return MakeTable(tsv);
}

std::vector<double> WeightColumn(const table::Table& t) {
  std::vector<double> w;
  const table::Column& c = t.column(t.FindColumn("w"));
  for (int64_t r = 0; r < t.num_rows(); ++r) w.push_back(static_cast<double>(c.Int64Data()[r]));
  return w;
}

TEST(QueryEquivalence, WeightedWithoutReplacementMatchesTheSampler) {
  const table::Table t = NumbersTable(5000);
  const QueryResult r =
      RunText("select * sample by w replace false limit 100 with weight as ht", t, 42, 2);
  samplers::WeightedOptions o;
  o.seed = 42;
  o.ht_weights = true;
  const samplers::Sample s = *samplers::WeightedSampleWithoutReplacement(WeightColumn(t), 100, o);
  EXPECT_EQ(r.rows, s.rows);
  EXPECT_EQ(r.weights, s.ht_weights);
}

TEST(QueryEquivalence, WeightedWithReplacementMatchesTheAliasTable) {
  const table::Table t = NumbersTable(5000);
  const QueryResult r = RunText("select * sample by w limit 300", t, 9);
  const samplers::AliasTable alias = *samplers::AliasTable::Build(WeightColumn(t));
  EXPECT_EQ(r.rows, alias.SampleRows(9, 300).rows);
  // LIMIT defaults to the number of rows passing WHERE.
  EXPECT_EQ(RunText("select * where id < 10 sample by w", t, 9).rows.size(), 10u);
}

// Draws::kLazy leaves draws with replacement to QueryResult::lazy: read in any batches they
// are the materialized rows and weights, weights only WITH WEIGHT AS; LIMIT 2^27 costs nothing
// up front, and its first draws are the draws of a smaller LIMIT (draw d is a function of d).
TEST(QueryEquivalence, LazyDrawsWithReplacementEqualTheMaterializedOnes) {
  const table::Table t = NumbersTable(5000);
  for (const std::string text : {"select * where id < 4000 sample by w limit 1000",
                                 "select * sample by w + 1 limit 1000 with weight as hh"}) {
    const QueryResult whole = RunText(text, t, 9);
    absl::StatusOr<QueryResult> lazy = RunQueryText(text, t, 9, 1, {}, Draws::kLazy);
    ASSERT_TRUE(lazy.ok()) << lazy.status();
    ASSERT_TRUE(lazy->lazy) << text;
    EXPECT_TRUE(lazy->rows.empty());
    ASSERT_EQ(lazy->size(), 1000u);
    EXPECT_EQ(lazy->rows_passed, whole.rows_passed);
    std::vector<uint64_t> rows(1000);
    std::vector<double> weights(1000, -1);
    for (uint64_t first = 0; first < 1000; first += 256) {
      const uint64_t m = std::min<uint64_t>(256, 1000 - first);
      lazy->lazy(first, std::span<uint64_t>(rows.data() + first, m), weights.data() + first);
    }
    EXPECT_EQ(rows, whole.rows) << text;
    if (whole.weight_column) {
      EXPECT_EQ(weights, whole.weights) << text;
    } else {
      EXPECT_EQ(weights, std::vector<double>(1000, -1)) << "no weights without WITH WEIGHT";
    }
  }
  absl::StatusOr<QueryResult> huge =
      RunQueryText("select * sample by w limit 134217728", t, 9, 1, {}, Draws::kLazy);
  ASSERT_TRUE(huge.ok()) << huge.status();
  ASSERT_EQ(huge->size(), uint64_t{1} << 27);
  std::vector<uint64_t> first(300);
  huge->lazy(0, std::span<uint64_t>(first), nullptr);
  EXPECT_EQ(first, RunText("select * sample by w limit 300", t, 9).rows);
}

TEST(QueryEquivalence, BernoulliUniverseDistinctReservoirMatchTheSamplers) {
  const table::Table t = NumbersTable(20000);
  samplers::BernoulliOptions bo;
  bo.seed = 5;
  EXPECT_EQ(RunText("sample uniform (0.3)", t, 5).rows,
            samplers::SampleBernoulli(20000, 0.3, bo)->rows);
  EXPECT_EQ(RunText("select * using sample 30% (bernoulli)", t, 5).rows,
            samplers::SampleBernoulli(20000, 0.3, bo)->rows);
  EXPECT_EQ(RunText("select * using sample 30% repeatable (5)", t, 77).rows,
            samplers::SampleBernoulli(20000, 0.3, bo)->rows);

  std::vector<std::string> keys;
  for (int i = 0; i < 20000; ++i) keys.push_back(absl::StrCat("k", i % 97));
  const std::vector<std::string_view> views(keys.begin(), keys.end());
  EXPECT_EQ(RunText("sample on key universe (0.2)", t, 3).rows,
            samplers::SampleUniverse(views, 0.2, 3, false)->rows);
  EXPECT_EQ(RunText("sample on key distinct (0.2, 5)", t, 3).rows,
            samplers::SampleDistinct(views, 0.2, 5, 3, false)->rows);

  // Two key columns hash as HashKeyColumns of their text (numbers in canonical form).
  const QueryResult two = RunText("sample on key, id universe (0.5)", t, 11);
  const samplers::UniverseSampler u = *samplers::UniverseSampler::Create(0.5, 11);
  std::vector<uint64_t> expected;
  for (int i = 0; i < 20000; ++i) {
    const std::string id = std::to_string(i);
    if (u.KeepHash(samplers::HashKeyColumns({views[i], id}))) expected.push_back(i);
  }
  EXPECT_EQ(two.rows, expected);

  EXPECT_EQ(RunText("select * using sample 50 rows", t, 8).rows,
            samplers::SampleReservoir(20000, 50, 8, samplers::OutputOrder::kRandom, false).rows);
  EXPECT_EQ(RunText("select * using sample reservoir(0.25%)", t, 8).rows,
            samplers::SampleReservoir(20000, 50, 8, samplers::OutputOrder::kRandom, false).rows);
}

// 600,000 rows span several evaluation chunks: the fused evaluate-and-sample path must equal
// the sampler run over the whole weight array, on any thread count.
TEST(QueryEquivalence, ChunkedWeightedSamplingMatchesTheSamplerOnAnyThreadCount) {
  const table::Table t = NumbersTable(600000);
  const std::string q =
      "select * where kind = 'b' or id % 7 = 0 sample by max_weight(w > 5: w, key = 'k3': 50, "
      "true: 0.5) replace false limit 1000 with weight as ht";
  const QueryResult one = RunText(q, t, 4, 1);
  const QueryResult two = RunText(q, t, 4, 2);
  EXPECT_EQ(one.rows, two.rows);
  EXPECT_EQ(one.weights, two.weights);
  absl::StatusOr<Plan> plan = PlanQuery(*ParseQuery(q), t);
  ASSERT_TRUE(plan.ok());
  std::vector<double> weights(t.num_rows());
  int64_t passed = 0;
  ASSERT_TRUE(plan->program->Evaluate(t, 0, t.num_rows(), nullptr, weights.data(), &passed).ok());
  EXPECT_EQ(one.rows_passed, static_cast<uint64_t>(passed));
  samplers::WeightedOptions o;
  o.seed = 4;
  o.ht_weights = true;
  const samplers::Sample s = *samplers::WeightedSampleWithoutReplacement(weights, 1000, o);
  EXPECT_EQ(one.rows, s.rows);
  EXPECT_EQ(one.weights, s.ht_weights);
}

TEST(QueryEquivalence, WhereDoesNotReshuffleSurvivingRows) {
  const table::Table t = NumbersTable(3000);
  // Weighted without replacement: the filtered sample is the survivors' prefix of the full
  // selection order.
  const QueryResult all = RunText("select * sample by w + 1 replace false", t, 6);
  const QueryResult some =
      RunText("select * where kind = 'a' sample by w + 1 replace false limit 50", t, 6);
  std::vector<uint64_t> expected;
  for (uint64_t row : all.rows) {
    if (row % 3 == 0 && expected.size() < 50) expected.push_back(row);
  }
  EXPECT_EQ(some.rows, expected);
  // Bernoulli: the filtered sample is the unfiltered one restricted to the survivors.
  const QueryResult b_all = RunText("select * using sample 40%", t, 6);
  const QueryResult b_some = RunText("select * where kind = 'a' using sample 40%", t, 6);
  expected.clear();
  for (uint64_t row : b_all.rows) {
    if (row % 3 == 0) expected.push_back(row);
  }
  EXPECT_EQ(b_some.rows, expected);
  // U-SQL's SAMPLE UNIFORM after a SELECT ... WHERE: the rows of the U-SQL statement that pass
  // WHERE, each with weight 1/p.
  const QueryResult u_all = RunText("SAMPLE @input UNIFORM (0.25)", t, 6);
  const QueryResult u_some = RunText(
      "SELECT * FROM @input WHERE kind = 'a' SAMPLE UNIFORM (0.25) WITH WEIGHT AS ht", t, 6);
  expected.clear();
  for (uint64_t row : u_all.rows) {
    if (row % 3 == 0) expected.push_back(row);
  }
  ASSERT_GT(expected.size(), 200u);
  EXPECT_EQ(u_some.rows, expected);
  EXPECT_EQ(u_some.weights, std::vector<double>(expected.size(), 4.0));
}

// --- exact distributions --------------------------------------------------------------------

// Four kinds of rows: A only, B only, A and B, neither; each kind 25 rows.
table::Table OverlapTable() {
  std::string tsv = "a\tb\n";
  for (int i = 0; i < 100; ++i) {
    const int kind = i % 4;
    absl::StrAppend(&tsv, kind == 0 || kind == 2 ? "true" : "false", "\t",
                    kind == 1 || kind == 2 ? "true" : "false", "\n");
  }
  return MakeTable(tsv);
}

std::vector<int64_t> KindCounts(const std::vector<uint64_t>& rows) {
  std::vector<int64_t> counts(4, 0);
  for (uint64_t r : rows) ++counts[r % 4];
  return counts;
}

TEST(QueryDistribution, MaxWeightWithOverlappingConditions) {
  // Weights: A 4, B 2, A and B max(4, 2, 1) = 4, neither 1 (true: 1) -> probabilities / 11.
  const table::Table t = OverlapTable();
  const QueryResult r =
      RunText("select * sample by max_weight(a: 4, b: 2, true: 1) limit 22000", t, 13);
  ASSERT_EQ(r.rows.size(), 22000u);
  const auto c = ChiSquareTest(KindCounts(r.rows), {4.0 / 11, 2.0 / 11, 4.0 / 11, 1.0 / 11});
  EXPECT_GT(c.p_value, 1e-4) << c.statistic;
}

TEST(QueryDistribution, MaxWeightRowsWithNoConditionAreNeverDrawn) {
  const table::Table t = OverlapTable();
  const QueryResult r = RunText("select * sample by max_weight(a: 4, b: 2) limit 9000", t, 13);
  const std::vector<int64_t> counts = KindCounts(r.rows);
  EXPECT_EQ(counts[3], 0);
  const auto c = ChiSquareTest({counts[0], counts[1], counts[2]}, {0.4, 0.2, 0.4});
  EXPECT_GT(c.p_value, 1e-4) << c.statistic;
}

TEST(QueryDistribution, SumWeightWithReplacement) {
  // Weights: A 4+1, B 2+1, A and B 4+2+1, neither 1 -> probabilities / 16.
  const table::Table t = OverlapTable();
  const QueryResult r =
      RunText("select * sample by sum_weight(a: 4, b: 2, true: 1) replace true limit 32000", t, 21);
  ASSERT_EQ(r.rows.size(), 32000u);
  const auto c = ChiSquareTest(KindCounts(r.rows), {5.0 / 16, 3.0 / 16, 7.0 / 16, 1.0 / 16});
  EXPECT_GT(c.p_value, 1e-4) << c.statistic;
}

TEST(QueryDistribution, ReplaceFalseWithLimitAboveNonZeroRowsReturnsEachOnce) {
  const table::Table t = NumbersTable(200);
  // w = (i * 37) % 11 and id < 30: the rows with w > 8 are few.
  const QueryResult r = RunText(
      "select * where id < 30 sample by max_weight(w > 8: 3) replace false limit 1000 with "
      "weight as ht",
      t, 3);
  std::vector<uint64_t> nonzero;
  for (uint64_t i = 0; i < 30; ++i) {
    if ((i * 37) % 11 > 8) nonzero.push_back(i);
  }
  std::vector<uint64_t> got = r.rows;
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, nonzero);
  EXPECT_EQ(r.weights, std::vector<double>(nonzero.size(), 1.0));
}

TEST(QueryDistribution, ReplaceFalseFirstDrawIsProportionalToWeight) {
  const table::Table t = OverlapTable();
  std::vector<int64_t> first(4, 0);
  for (uint64_t seed = 0; seed < 8000; ++seed) {
    const QueryResult r = RunText(
        "select * sample by max_weight(a: 4, b: 2, true: 1) replace false limit 2", t, seed);
    ++first[r.rows[0] % 4];
  }
  const auto c = ChiSquareTest(first, {4.0 / 11, 2.0 / 11, 4.0 / 11, 1.0 / 11});
  EXPECT_GT(c.p_value, 1e-4) << c.statistic;
}

TEST(QueryDistribution, ReservoirRowsAreUniformOverPassingRows) {
  const table::Table t = NumbersTable(40);
  std::vector<int64_t> counts(40, 0);
  for (uint64_t seed = 0; seed < 2000; ++seed) {
    for (uint64_t row : RunText("select * where id % 2 = 0 using sample 5 rows", t, seed).rows) {
      ++counts[row];
    }
  }
  std::vector<int64_t> even;
  for (int i = 0; i < 40; ++i) {
    if (i % 2 == 1) {
      EXPECT_EQ(counts[i], 0);
    } else {
      even.push_back(counts[i]);
    }
  }
  const auto c = ChiSquareTest(even, std::vector<double>(20, 1.0 / 20));
  EXPECT_GT(c.p_value, 1e-4) << c.statistic;
}

}  // namespace
}  // namespace urn::query
