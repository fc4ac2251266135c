#include "sampling/spec_sampler.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "query/evaluator.h"
#include "samplers/uniform_with_replacement.h"
#include "table/read_options.h"
#include "table/table_builder.h"

namespace urn::server {
namespace {

table::Table MakeTable() {
  table::ReadOptions o;
  table::TableBuilder b(o);
  std::string text = "id\tlabel\tw\n";
  for (int i = 0; i < 60; ++i) {
    text += std::to_string(i) + "\t" +
            (i < 10   ? "a"
             : i < 30 ? "b"
                      : "c") +
            "\t" + std::to_string(i % 4) + "\n";
  }
  EXPECT_TRUE(b.Append(text).ok());
  absl::StatusOr<table::Table> t = b.Finish();
  EXPECT_TRUE(t.ok()) << t.status();
  return *std::move(t);
}

// A lazy result's rows and weights, read in batches of `batch`.
samplers::Sample ReadLazily(const SpecResult& s, uint64_t batch) {
  samplers::Sample out;
  out.rows.resize(s.size());
  out.ht_weights.resize(s.size());
  for (uint64_t first = 0; first < s.size(); first += batch) {
    const uint64_t m = std::min<uint64_t>(batch, s.size() - first);
    s.lazy(first, std::span<uint64_t>(out.rows.data() + first, m), out.ht_weights.data() + first);
  }
  return out;
}

TEST(SpecSampler, StratifiedTakesPerStratumCountsWithWeights) {
  const table::Table t = MakeTable();
  v1::SampleRequest r;
  r.mutable_stratified()->set_stratum_column("label");
  r.mutable_stratified()->set_per_stratum(5);
  r.set_with_weight(true);
  r.set_seed(3);
  absl::StatusOr<SpecResult> s = RunSampleSpec(r, t, 1);
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->rows.size(), 15u);
  std::map<std::string, int> per;
  for (size_t i = 0; i < s->rows.size(); ++i) {
    const std::string label(t.column(1).StringAt(static_cast<int64_t>(s->rows[i])));
    ++per[label];
    EXPECT_DOUBLE_EQ(s->weights[i], label == "a" ? 2.0 : label == "b" ? 4.0 : 6.0);
  }
  EXPECT_EQ(per, (std::map<std::string, int>{{"a", 5}, {"b", 5}, {"c", 5}}));
}

// Samples whose size the coins decide keep their first n rows when n > 0 (input order), as
// `urn sample -p P -n N` does; n past their size changes nothing.
TEST(SpecSampler, BernoulliUniverseAndDistinctKeepTheirFirstNRows) {
  const table::Table t = MakeTable();
  std::vector<v1::SampleRequest> requests(3);
  requests[0].mutable_bernoulli()->set_p(0.5);
  requests[1].mutable_universe()->set_p(0.5);
  requests[1].mutable_universe()->add_key_columns("id");
  requests[2].mutable_distinct()->set_p(0.5);
  requests[2].mutable_distinct()->add_key_columns("w");
  for (v1::SampleRequest& r : requests) {
    r.set_seed(5);
    absl::StatusOr<SpecResult> all = RunSampleSpec(r, t, 1);
    ASSERT_TRUE(all.ok()) << all.status();
    ASSERT_GT(all->rows.size(), 7u) << r.ShortDebugString();
    r.set_n(7);
    absl::StatusOr<SpecResult> first = RunSampleSpec(r, t, 1);
    ASSERT_TRUE(first.ok()) << first.status();
    EXPECT_EQ(first->rows, std::vector<uint64_t>(all->rows.begin(), all->rows.begin() + 7))
        << r.ShortDebugString();
    r.set_n(static_cast<int64_t>(all->rows.size()) + 1);
    absl::StatusOr<SpecResult> more = RunSampleSpec(r, t, 1);
    ASSERT_TRUE(more.ok()) << more.status();
    EXPECT_EQ(more->rows, all->rows) << r.ShortDebugString();
  }
}

TEST(SpecSampler, WeightedWithoutNIsAShuffleOfPositiveRowsThenZeros) {
  const table::Table t = MakeTable();
  v1::SampleRequest r;
  r.mutable_weighted()->set_weight_column("w");
  absl::StatusOr<SpecResult> s = RunSampleSpec(r, t, 2);
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->rows.size(), 60u);
  for (size_t i = 45; i < 60; ++i) EXPECT_EQ(s->rows[i] % 4, 0u) << "zero weights last";
}

// n beyond the rows of positive weight: all of them (HT weight 1), then rows of weight 0 in row
// order, i.e. the first n rows of the weighted shuffle.
TEST(SpecSampler, WeightedSampleLargerThanThePositiveRowsEndsWithZeroWeightRows) {
  const table::Table t = MakeTable();  // w = id % 4: 45 positive rows, 15 of weight 0
  v1::SampleRequest r;
  r.mutable_weighted()->set_weight_column("w");
  r.set_seed(11);
  absl::StatusOr<SpecResult> shuffle = RunSampleSpec(r, t, 1);
  ASSERT_TRUE(shuffle.ok()) << shuffle.status();
  r.set_n(50);
  r.set_with_weight(true);
  absl::StatusOr<SpecResult> s = RunSampleSpec(r, t, 1);
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->rows.size(), 50u);
  EXPECT_EQ(s->rows, std::vector<uint64_t>(shuffle->rows.begin(), shuffle->rows.begin() + 50));
  EXPECT_EQ(std::vector<uint64_t>(s->rows.begin() + 45, s->rows.end()),
            (std::vector<uint64_t>{0, 4, 8, 12, 16}));
  EXPECT_EQ(s->weights, std::vector<double>(50, 1.0));
  r.set_inorder(true);
  s = RunSampleSpec(r, t, 1);
  ASSERT_TRUE(s.ok()) << s.status();
  std::vector<uint64_t> want;
  for (uint64_t i = 0; i < 60 && want.size() < 50; ++i) {
    if (i % 4 != 0 || i <= 16) want.push_back(i);
  }
  EXPECT_EQ(s->rows, want);
}

// A header-only dataset samples to nothing by weight, as `urn sample -w` on a header-only file:
// its columns have no values (so no numeric type), and there is nothing to weigh. A column
// that does not exist is still named.
TEST(SpecSampler, WeightedSamplesOfAnEmptyDatasetAreEmpty) {
  table::TableBuilder b{table::ReadOptions()};
  ASSERT_TRUE(b.Append("id\tw\n").ok());
  absl::StatusOr<table::Table> t = b.Finish();
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_EQ(t->num_rows(), 0);
  for (const bool replace : {false, true}) {
    for (const int64_t n : {0, 5}) {
      if (replace && n == 0) continue;  // draws with replacement need n > 0
      v1::SampleRequest r;
      r.mutable_weighted()->set_weight_column("w");
      r.mutable_weighted()->set_replace(replace);
      r.set_n(n);
      absl::StatusOr<SpecResult> s = RunSampleSpec(r, *t, 1);
      ASSERT_TRUE(s.ok()) << "replace " << replace << " n " << n << ": " << s.status();
      EXPECT_EQ(s->size(), 0u);
      r.mutable_weighted()->set_weight_column("nope");
      s = RunSampleSpec(r, *t, 1);
      EXPECT_TRUE(absl::IsInvalidArgument(s.status())) << s.status();
    }
  }
}

// A null weight is refused naming the column and the row id (as the Sample stream numbers rows).
TEST(SpecSampler, NullWeightIsNamedByRowId) {
  table::TableBuilder b{table::ReadOptions()};
  ASSERT_TRUE(b.Append("id\tw\n1\t2\n2\t\n3\t1\n").ok());
  absl::StatusOr<table::Table> t = b.Finish();
  ASSERT_TRUE(t.ok()) << t.status();
  v1::SampleRequest r;
  r.mutable_weighted()->set_weight_column("w");
  r.set_n(2);
  absl::StatusOr<SpecResult> s = RunSampleSpec(r, *t, 1);
  ASSERT_TRUE(absl::IsInvalidArgument(s.status())) << s.status();
  EXPECT_NE(s.status().message().find("weighted.weight_column: 'w' is null at row id 1 (row ids "
                                      "count from 0)"),
            std::string::npos)
      << s.status();
}

// Integer weights some of which are past int64 make a string column (kept as text, not rounded);
// weighted sampling reads the numbers the text spells, as `urn sample -w` does, and draws what
// the same weights declared double draw. Text that is no number is refused by row id.
TEST(SpecSampler, WeightsKeptAsTextWeighWhatTheySpell) {
  const std::string text = "id\tw\n0\t10000000000000000000\n1\t0\n2\t30000000000000000000\n3\t7\n";
  auto build = [&](bool declare_double) {
    table::ReadOptions o;
    if (declare_double) o.column_types["w"] = table::Type::kDouble;
    table::TableBuilder b(o);
    EXPECT_TRUE(b.Append(text).ok());
    absl::StatusOr<table::Table> t = b.Finish();
    EXPECT_TRUE(t.ok()) << t.status();
    return *std::move(t);
  };
  const table::Table as_text = build(false);
  const table::Table as_double = build(true);
  ASSERT_EQ(as_text.column(1).type(), table::Type::kString);
  ASSERT_EQ(as_double.column(1).type(), table::Type::kDouble);
  for (const bool replace : {false, true}) {
    v1::SampleRequest r;
    r.mutable_weighted()->set_weight_column("w");
    r.mutable_weighted()->set_replace(replace);
    r.set_n(replace ? 50 : 3);
    r.set_seed(11);
    absl::StatusOr<SpecResult> a = RunSampleSpec(r, as_text, 1);
    absl::StatusOr<SpecResult> b = RunSampleSpec(r, as_double, 1);
    ASSERT_TRUE(a.ok()) << a.status();
    ASSERT_TRUE(b.ok()) << b.status();
    auto rows = [](const SpecResult& s) { return s.lazy ? ReadLazily(s, 7).rows : s.rows; };
    const std::vector<uint64_t> ra = rows(*a);
    EXPECT_EQ(ra.size(), replace ? 50u : 3u);
    EXPECT_EQ(ra, rows(*b)) << "replace " << replace;
    for (const uint64_t row : ra) EXPECT_NE(row, 1u);  // weight 0
  }
  table::TableBuilder b{table::ReadOptions()};
  ASSERT_TRUE(b.Append("id\tw\n1\t2\n2\tabc\n").ok());
  absl::StatusOr<table::Table> t = b.Finish();
  ASSERT_TRUE(t.ok()) << t.status();
  v1::SampleRequest r;
  r.mutable_weighted()->set_weight_column("w");
  r.set_n(1);
  absl::StatusOr<SpecResult> s = RunSampleSpec(r, *t, 1);
  ASSERT_TRUE(absl::IsInvalidArgument(s.status())) << s.status();
  EXPECT_EQ(s.status().message(),
            "weighted.weight_column: 'w' is not a number at row id 1 ('abc')");
}

// Weighted draws with replacement come batch by batch from a cached alias table; any batching
// gives the rows of AliasTable::SampleRows, and the HT weight of row i is W / (n w_i).
TEST(SpecSampler, WeightedDrawsWithReplacementAreLazyCachedAndEqualToTheCore) {
  const table::Table t = MakeTable();
  v1::SampleRequest r;
  r.mutable_weighted()->set_weight_column("w");
  r.mutable_weighted()->set_replace(true);
  r.set_n(1000);
  r.set_seed(17);
  AliasCache cache(2);
  std::vector<double> w(60);
  for (int i = 0; i < 60; ++i) w[i] = i % 4;
  const samplers::Sample expected = samplers::AliasTable::Build(w)->SampleRows(17, 1000);
  for (int round = 0; round < 2; ++round) {  // the second round hits the cache
    absl::StatusOr<SpecResult> s = RunSampleSpec(r, t, 1, &cache, "table-1");
    ASSERT_TRUE(s.ok()) << s.status();
    ASSERT_TRUE(s->lazy);
    EXPECT_TRUE(s->rows.empty());
    ASSERT_EQ(s->size(), 1000u);
    const samplers::Sample got = ReadLazily(*s, 333);
    EXPECT_EQ(got.rows, expected.rows);
    for (size_t i = 0; i < got.rows.size(); ++i) {
      EXPECT_DOUBLE_EQ(got.ht_weights[i], 90.0 / (1000 * w[got.rows[i]]));  // W = 15 * (0+1+2+3)
    }
  }
  // Another table id is another entry; errors are not cached.
  r.mutable_weighted()->set_weight_column("label");
  EXPECT_EQ(RunSampleSpec(r, t, 1, &cache, "table-2").status().code(),
            absl::StatusCode::kInvalidArgument);
}

// Workers that start together and miss the cache together share one build; a failed build is
// not kept, so the next request builds again.
TEST(AliasCache, ConcurrentMissesShareOneBuildAndFailuresAreNotCached) {
  AliasCache cache(2);
  std::atomic<int> builds{0};
  absl::Notification release;
  const auto slow_build = [&]() -> absl::StatusOr<AliasCache::Entry> {
    ++builds;
    release.WaitForNotification();
    return AliasCache::Entry{.weights = {1, 2, 3},
                             .total = {.total = 6},
                             .passed = 3,
                             .alias = *samplers::AliasTable::Build(std::vector<double>{1, 2, 3})};
  };
  std::vector<std::shared_ptr<const AliasCache::Entry>> got(8);
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      absl::StatusOr<std::shared_ptr<const AliasCache::Entry>> e = cache.Get("t/w", slow_build);
      ASSERT_TRUE(e.ok()) << e.status();
      got[i] = *e;
    });
  }
  // Let every thread reach the cache before the build finishes.
  absl::SleepFor(absl::Milliseconds(100));
  release.Notify();
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(builds.load(), 1);
  for (int i = 1; i < 8; ++i) EXPECT_EQ(got[i], got[0]) << i;
  EXPECT_EQ(got[0]->total.total, 6);

  int failures = 0;
  const auto failing = [&]() -> absl::StatusOr<AliasCache::Entry> {
    ++failures;
    return absl::InvalidArgumentError("weight_column: not numeric");
  };
  EXPECT_FALSE(cache.Get("t/label", failing).ok());
  EXPECT_FALSE(cache.Get("t/label", failing).ok());
  EXPECT_EQ(failures, 2);
  // The good entry is still cached.
  EXPECT_EQ(*cache.Get("t/w", slow_build), got[0]);
  EXPECT_EQ(builds.load(), 1);
}

// Uniform draws with replacement are lazy too: any batching gives the core's rows and its
// Hansen-Hurwitz weights n / k, and n = kMaxSampleSize (2^31 draws, 16 GiB of row ids if
// materialized) costs nothing until batches are asked for.
TEST(SpecSampler, UniformDrawsWithReplacementAreLazyAndEqualToTheCore) {
  const table::Table t = MakeTable();
  v1::SampleRequest r;
  r.mutable_uniform()->set_replace(true);
  r.set_n(1000);
  r.set_seed(5);
  r.set_with_weight(true);
  const samplers::Sample expected = samplers::UniformWithReplacement(60, 5).Take(1000, true);
  absl::StatusOr<SpecResult> s = RunSampleSpec(r, t, 1);
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_TRUE(s->lazy);
  EXPECT_TRUE(s->rows.empty());
  ASSERT_EQ(s->size(), 1000u);
  const samplers::Sample got = ReadLazily(*s, 300);
  EXPECT_EQ(got.rows, expected.rows);
  EXPECT_EQ(got.ht_weights, expected.ht_weights);  // 60 / 1000, bit for bit

  r.set_n(kMaxSampleSize);
  s = RunSampleSpec(r, t, 1);
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_TRUE(s->lazy);
  EXPECT_EQ(s->size(), static_cast<uint64_t>(kMaxSampleSize));
  std::vector<uint64_t> last(4);
  std::vector<double> last_weights(4);
  s->lazy(kMaxSampleSize - 4, std::span<uint64_t>(last), last_weights.data());
  const samplers::UniformWithReplacement core(60, 5);
  for (uint64_t i = 0; i < 4; ++i) EXPECT_EQ(last[i], core.Draw(kMaxSampleSize - 4 + i));
  EXPECT_EQ(last_weights[0], 60.0 / static_cast<double>(kMaxSampleSize));
}

// A query's draws with replacement stream lazily too (LIMIT up to 2^27), with weights exactly
// when the query names them, whatever with_weight says, as for its materialized results.
TEST(SpecSampler, QueryDrawsWithReplacementAreLazyWithTheQuerysWeights) {
  const table::Table t = MakeTable();
  v1::SampleRequest r;
  r.set_seed(4);
  r.set_query("select * sample by w replace true limit 134217728");
  absl::StatusOr<SpecResult> s = RunSampleSpec(r, t, 1);
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_TRUE(s->lazy);
  EXPECT_EQ(s->size(), uint64_t{1} << 27);
  EXPECT_FALSE(s->lazy_weights);
  r.set_query("select * sample by w replace true limit 500 with weight as hh");
  s = RunSampleSpec(r, t, 1);
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_TRUE(s->lazy);
  EXPECT_TRUE(s->lazy_weights);
  const samplers::Sample got = ReadLazily(*s, 128);
  const query::QueryResult want = *query::RunQueryText(r.query(), t, 4);
  EXPECT_EQ(got.rows, want.rows);
  EXPECT_EQ(got.ht_weights, want.weights);
}

// With a cache, a query's weights and alias table are built once per (table, query text): later
// requests (other seeds too) draw from the cached entry and give exactly the uncached rows.
TEST(SpecSampler, QueryDrawsWithReplacementReuseTheCachedAliasTable) {
  const table::Table t = MakeTable();
  AliasCache cache(2);
  v1::SampleRequest r;
  r.set_query("select * where id > 5 sample by w replace true limit 700 with weight as hh");
  for (uint64_t seed : {1, 2, 1}) {
    r.set_seed(seed);
    absl::StatusOr<SpecResult> s = RunSampleSpec(r, t, 1, &cache, "table-q");
    ASSERT_TRUE(s.ok()) << s.status();
    ASSERT_TRUE(s->lazy);
    const samplers::Sample got = ReadLazily(*s, 256);
    const query::QueryResult want = *query::RunQueryText(r.query(), t, seed);
    EXPECT_EQ(got.rows, want.rows) << seed;
    EXPECT_EQ(got.ht_weights, want.weights) << seed;
  }
  // The entry is there (keyed "query:<table id>/<text>"): a lookup does not build.
  int builds = 0;
  absl::StatusOr<std::shared_ptr<const AliasCache::Entry>> entry =
      cache.Get("query:table-q/" + r.query(), [&]() -> absl::StatusOr<AliasCache::Entry> {
        ++builds;
        return absl::InternalError("built again");
      });
  ASSERT_TRUE(entry.ok()) << entry.status();
  EXPECT_EQ(builds, 0);
  EXPECT_EQ((*entry)->passed, 54u);  // ids 6..59
  // A query whose weights are all 0 gives an empty sample, cached or not.
  r.set_query("select * where id > 100 sample by w replace true limit 5");
  absl::StatusOr<SpecResult> none = RunSampleSpec(r, t, 1, &cache, "table-q");
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(none->size(), 0u);
}

// urnd computes a sample on gRPC's thread only when it cannot take long (spec_sampler.h): a
// small table, uniform draws with replacement, or draws with replacement whose alias table is
// cached (for this table). Everything else over a large table goes to the work pool.
TEST(SpecSampler, OnlyRequestsThatCannotTakeLongRunAtOnce) {
  const table::Table small = MakeTable();
  table::TableBuilder b{table::ReadOptions()};
  std::string text = "w\n";
  for (int64_t i = 0; i <= kAtOnceRows; ++i) text += std::to_string(1 + i % 3) + "\n";
  ASSERT_TRUE(b.Append(text).ok());
  absl::StatusOr<table::Table> big = b.Finish();
  ASSERT_TRUE(big.ok()) << big.status();
  ASSERT_EQ(big->num_rows(), kAtOnceRows + 1);
  AliasCache cache(4);

  v1::SampleRequest weighted;
  weighted.mutable_weighted()->set_weight_column("w");
  weighted.set_n(10);
  EXPECT_TRUE(SpecRunsAtOnce(weighted, small, &cache, "s"));
  EXPECT_FALSE(SpecRunsAtOnce(weighted, *big, &cache, "b"));
  v1::SampleRequest uniform;
  uniform.mutable_uniform();
  uniform.set_n(10);
  EXPECT_FALSE(SpecRunsAtOnce(uniform, *big, &cache, "b"));
  uniform.mutable_uniform()->set_replace(true);
  EXPECT_TRUE(SpecRunsAtOnce(uniform, *big, &cache, "b"));
  v1::SampleRequest bernoulli;
  bernoulli.mutable_bernoulli()->set_p(0.5);
  EXPECT_FALSE(SpecRunsAtOnce(bernoulli, *big, &cache, "b"));

  // Weighted draws with replacement: at once once their alias table is cached for this table.
  weighted.mutable_weighted()->set_replace(true);
  EXPECT_FALSE(SpecRunsAtOnce(weighted, *big, &cache, "b"));
  ASSERT_TRUE(RunSampleSpec(weighted, *big, 1, &cache, "b").ok());
  EXPECT_TRUE(SpecRunsAtOnce(weighted, *big, &cache, "b"));
  EXPECT_FALSE(SpecRunsAtOnce(weighted, *big, &cache, "another upload"));
  EXPECT_FALSE(SpecRunsAtOnce(weighted, *big, nullptr, "b"));

  v1::SampleRequest query;
  query.set_query("select * sample by w replace true limit 10");
  EXPECT_FALSE(SpecRunsAtOnce(query, *big, &cache, "b"));
  ASSERT_TRUE(RunSampleSpec(query, *big, 1, &cache, "b").ok());
  EXPECT_TRUE(SpecRunsAtOnce(query, *big, &cache, "b"));
  query.set_query("select * sample by w replace true limit 11");
  EXPECT_FALSE(SpecRunsAtOnce(query, *big, &cache, "b"));

  // The cells a request touches decide, not its rows alone: a keyed sample hashes each key
  // column of every row, a query evaluates its expressions on every row. So over a table of
  // kAtOnceRows / 2 + 1 rows one key column is at once, two are not; a short query is, one of
  // 64 bytes or more is not.
  table::TableBuilder hb{table::ReadOptions()};
  std::string half_text = "a\tb\n";
  for (int64_t i = 0; i <= kAtOnceRows / 2; ++i) half_text += std::to_string(i) + "\tx\n";
  ASSERT_TRUE(hb.Append(half_text).ok());
  absl::StatusOr<table::Table> half = hb.Finish();
  ASSERT_TRUE(half.ok()) << half.status();
  v1::SampleRequest keyed;
  keyed.mutable_universe()->set_p(0.5);
  keyed.mutable_universe()->add_key_columns("a");
  EXPECT_TRUE(SmallEnoughAtOnce(keyed, *half));
  EXPECT_TRUE(SpecRunsAtOnce(keyed, *half, &cache, "h"));
  keyed.mutable_universe()->add_key_columns("b");
  EXPECT_FALSE(SmallEnoughAtOnce(keyed, *half));
  EXPECT_FALSE(SpecRunsAtOnce(keyed, *half, &cache, "h"));
  v1::SampleRequest distinct;
  distinct.mutable_distinct()->set_p(0.5);
  distinct.mutable_distinct()->add_key_columns("a");
  EXPECT_TRUE(SmallEnoughAtOnce(distinct, *half));
  distinct.mutable_distinct()->add_key_columns("b");
  EXPECT_FALSE(SmallEnoughAtOnce(distinct, *half));
  v1::SampleRequest long_query;
  long_query.set_query("select * where a >= 0 limit 10");
  EXPECT_TRUE(SmallEnoughAtOnce(long_query, *half));
  long_query.set_query("select * where a >= 0 and a >= 1 and a >= 2 and a >= 3 and a >= 4 limit 1");
  ASSERT_GE(long_query.query().size(), 64u);
  EXPECT_FALSE(SmallEnoughAtOnce(long_query, *half));
  EXPECT_FALSE(SpecRunsAtOnce(long_query, *half, &cache, "h"));
  // Nor are its bytes, where the spec reads cells: one row of 4 MiB is not sampled at once by a
  // query (its contains() or a key's hash reads it all).
  table::TableBuilder wb{table::ReadOptions()};
  ASSERT_TRUE(wb.Append("s\n" + std::string(kAtOnceBytes, 'a') + "\n").ok());
  absl::StatusOr<table::Table> wide = wb.Finish();
  ASSERT_TRUE(wide.ok()) << wide.status();
  ASSERT_EQ(wide->num_rows(), 1);
  v1::SampleRequest short_query;
  short_query.set_query("select * where contains(s, 'b')");
  EXPECT_FALSE(SmallEnoughAtOnce(short_query, *wide));
  EXPECT_TRUE(SmallEnoughAtOnce(short_query, *half));
  // ... while specs that never read a cell's bytes still run at once on it.
  v1::SampleRequest coin;
  coin.mutable_bernoulli()->set_p(0.5);
  EXPECT_TRUE(SmallEnoughAtOnce(coin, *wide));

  // Without may_build, what is not cached (never, or evicted since SpecRunsAtOnce said yes) is
  // NotCachedError and builds nothing; what is cached gives the same rows as with it.
  AliasCache two(1);
  ASSERT_TRUE(RunSampleSpec(weighted, *big, 1, &two, "b").ok());
  ASSERT_TRUE(SpecRunsAtOnce(weighted, *big, &two, "b"));
  query.set_query("select * sample by w replace true limit 10");
  ASSERT_TRUE(RunSampleSpec(query, *big, 1, &two, "b").ok());  // evicts the weighted entry
  EXPECT_TRUE(IsNotCached(RunSampleSpec(weighted, *big, 1, &two, "b", false).status()));
  EXPECT_TRUE(IsNotCached(RunSampleSpec(weighted, *big, 1, nullptr, "b", false).status()));
  weighted.mutable_weighted()->set_replace(false);
  EXPECT_TRUE(IsNotCached(RunSampleSpec(weighted, *big, 1, &two, "b", false).status()));
  query.set_query("select * sample by w limit 10");  // without replacement: never cached
  EXPECT_TRUE(IsNotCached(RunSampleSpec(query, *big, 1, &two, "b", false).status()));
  query.set_query("select * sample by w replace true limit 10");
  absl::StatusOr<SpecResult> cached = RunSampleSpec(query, *big, 1, &two, "b", false);
  absl::StatusOr<SpecResult> built = RunSampleSpec(query, *big, 1, nullptr, "b");
  ASSERT_TRUE(cached.ok()) << cached.status();
  ASSERT_TRUE(built.ok()) << built.status();
  ASSERT_EQ(cached->size(), 10u);
  std::vector<uint64_t> from_cache(10), from_build(10);
  cached->lazy(0, std::span<uint64_t>(from_cache), nullptr);
  built->lazy(0, std::span<uint64_t>(from_build), nullptr);
  EXPECT_EQ(from_cache, from_build);
  int builds = 0;
  EXPECT_TRUE(IsNotCached(cache
                              .Get(
                                  "absent",
                                  [&]() -> absl::StatusOr<AliasCache::Entry> {
                                    ++builds;
                                    return absl::InternalError("built");
                                  },
                                  false)
                              .status()));
  EXPECT_EQ(builds, 0);
}

// A query's FROM must name the requested dataset (else it would silently sample another one);
// a U-SQL rowset variable (@name) stands for it, and FROM may be left out.
TEST(SpecSampler, QueryFromMustNameTheRequestedDataset) {
  const table::Table t = MakeTable();
  v1::SampleRequest r;
  r.set_dataset("d");
  for (const char* ok :
       {"select * from d sample by w limit 3", "select * from @x sample by w limit 3",
        "select * from \"d\" sample by w limit 3", "select * sample by w limit 3"}) {
    r.set_query(ok);
    absl::StatusOr<SpecResult> s = RunSampleSpec(r, t, 1);
    ASSERT_TRUE(s.ok()) << ok << ": " << s.status();
    EXPECT_EQ(s->size(), 3u) << ok;
  }
  r.set_query("select * from other sample by w limit 3");
  absl::StatusOr<SpecResult> s = RunSampleSpec(r, t, 1);
  ASSERT_TRUE(absl::IsInvalidArgument(s.status())) << s.status();
  EXPECT_NE(s.status().message().find("query: 1:15: FROM names 'other', but the request samples "
                                      "dataset 'd'"),
            std::string::npos)
      << s.status();
}

TEST(SpecSampler, BadFieldsAreNamed) {
  const table::Table t = MakeTable();
  struct Case {
    v1::SampleRequest request;
    std::string want;
  };
  std::vector<Case> cases(16);
  cases[0].want = "spec: one of";
  cases[1].request.mutable_weighted()->set_weight_column("label");
  cases[1].want = "weighted.weight_column: 'label' is not a number at row id 0";
  cases[2].request.mutable_weighted()->set_weight_column("nope");
  cases[2].want = "weighted.weight_column: no column 'nope'";
  cases[3].request.mutable_bernoulli()->set_p(1.5);
  cases[3].want = "bernoulli.p";
  cases[4].request.mutable_universe()->set_p(0.5);
  cases[4].want = "universe.key_columns: no key column";
  cases[5].request.mutable_uniform();
  cases[5].request.set_n(-1);
  cases[5].want = "n: must be between 0 and";
  cases[6].request.set_query("SELECT * WHERE nope > 1");
  cases[6].want = "query: 1:16: unknown column 'nope'";
  // A query says its size and weights itself: fields it would ignore are refused.
  cases[7].request.set_query("select * sample by w replace false");
  cases[7].request.set_n(2);
  cases[7].want = "n: not used with a query";
  cases[8].request.set_query("select * sample by w replace false");
  cases[8].request.set_with_weight(true);
  cases[8].want = "with_weight: not used with a query";
  // A repeated key column changes no key, but each one costs a pass over the rows.
  cases[9].request.mutable_universe()->set_p(0.5);
  for (const char* k : {"label", "id", "label"})
    cases[9].request.mutable_universe()->add_key_columns(k);
  cases[9].want = "universe.key_columns[2]: column 'label' is already a key column";
  cases[10].request.mutable_distinct()->set_p(0.5);
  for (const char* k : {"w", "w"}) cases[10].request.mutable_distinct()->add_key_columns(k);
  cases[10].want = "distinct.key_columns[1]: column 'w' is already a key column";
  // Fields a spec would otherwise ignore.
  cases[11].request.mutable_stratified()->set_stratum_column("label");
  cases[11].request.mutable_stratified()->set_per_stratum(2);
  cases[11].request.set_n(5);
  cases[11].want = "n: not used with stratified";
  cases[12].request.mutable_stratified()->set_stratum_column("label");
  cases[12].request.mutable_stratified()->set_per_stratum(-2);
  cases[12].request.mutable_stratified()->set_fraction(0.5);
  cases[12].want = "stratified.per_stratum: must be >= 0";
  cases[13].request.mutable_stratified()->set_stratum_column("label");
  cases[13].request.mutable_stratified()->set_per_stratum(2);
  cases[13].request.mutable_stratified()->set_fraction(std::nan(""));
  cases[13].want = "stratified.fraction: must be in (0, 1]";
  cases[14].request.mutable_stratified()->set_stratum_column("label");
  cases[14].request.mutable_stratified()->set_per_stratum(2);
  cases[14].request.mutable_stratified()->set_fraction(-0.5);
  cases[14].want = "stratified.fraction: must be in (0, 1]";
  cases[15].request.mutable_bernoulli()->set_p(0.5);
  cases[15].request.set_n(3);
  cases[15].request.set_with_weight(true);
  cases[15].want = "with_weight: the first n rows of a bernoulli, universe or distinct sample";
  for (const Case& c : cases) {
    absl::StatusOr<SpecResult> s = RunSampleSpec(c.request, t, 1);
    ASSERT_FALSE(s.ok()) << c.want;
    EXPECT_TRUE(absl::IsInvalidArgument(s.status())) << s.status();
    EXPECT_NE(std::string(s.status().message()).find(c.want), std::string::npos) << s.status();
  }
}

}  // namespace
}  // namespace urn::server
