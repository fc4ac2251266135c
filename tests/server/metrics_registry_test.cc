// The metrics registry: the exact text exposition (HELP/TYPE, label escaping, histogram buckets
// with +Inf, _sum and _count), exact counts under concurrent recording, and the bound on label
// sets.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "metrics/registry.h"

namespace urn::server::metrics {
namespace {

TEST(MetricsRegistry, RendersTheTextFormatExactly) {
  Registry registry;
  CounterFamily& requests = registry.AddCounter("urn_test_requests_total",
                                                "Requests, by plan and code.", {"plan", "code"});
  HistogramFamily& latency = registry.AddHistogram(
      "urn_test_latency_seconds", "Latency.\nIn seconds, C:\\ style.", {"method"}, {0.125, 1, 8});
  CounterFamily& plain = registry.AddCounter("urn_test_plain_total", "No labels.", {});
  registry.AddGauge("urn_test_info", "Constant.", {{"version", "1.2.3"}}, [] { return 1.0; });

  // Series render in label order, whatever the order they were first used in.
  requests.With({"pro", "NOT_FOUND"}).Increment();
  requests.With({"free", "OK"}).Increment(2);
  requests.With({"free", "OK"}).Increment();
  requests.With({"a\"b\\c\nd", "OK"}).Increment(7);
  // Bounds are inclusive ("le"): 0.125 falls in the first bucket, 8 in the third.
  for (double v : {0.0625, 0.125, 0.5, 8.0, 32.0}) latency.With({"/a.B/C"}).Observe(v);
  latency.With({"/a.B/Empty"});
  plain.With({}).Increment(5);

  EXPECT_EQ(registry.Render(),
            "# HELP urn_test_requests_total Requests, by plan and code.\n"
            "# TYPE urn_test_requests_total counter\n"
            "urn_test_requests_total{plan=\"a\\\"b\\\\c\\nd\",code=\"OK\"} 7\n"
            "urn_test_requests_total{plan=\"free\",code=\"OK\"} 3\n"
            "urn_test_requests_total{plan=\"pro\",code=\"NOT_FOUND\"} 1\n"
            "# HELP urn_test_latency_seconds Latency.\\nIn seconds, C:\\\\ style.\n"
            "# TYPE urn_test_latency_seconds histogram\n"
            "urn_test_latency_seconds_bucket{method=\"/a.B/C\",le=\"0.125\"} 2\n"
            "urn_test_latency_seconds_bucket{method=\"/a.B/C\",le=\"1\"} 3\n"
            "urn_test_latency_seconds_bucket{method=\"/a.B/C\",le=\"8\"} 4\n"
            "urn_test_latency_seconds_bucket{method=\"/a.B/C\",le=\"+Inf\"} 5\n"
            "urn_test_latency_seconds_sum{method=\"/a.B/C\"} 40.6875\n"
            "urn_test_latency_seconds_count{method=\"/a.B/C\"} 5\n"
            "urn_test_latency_seconds_bucket{method=\"/a.B/Empty\",le=\"0.125\"} 0\n"
            "urn_test_latency_seconds_bucket{method=\"/a.B/Empty\",le=\"1\"} 0\n"
            "urn_test_latency_seconds_bucket{method=\"/a.B/Empty\",le=\"8\"} 0\n"
            "urn_test_latency_seconds_bucket{method=\"/a.B/Empty\",le=\"+Inf\"} 0\n"
            "urn_test_latency_seconds_sum{method=\"/a.B/Empty\"} 0\n"
            "urn_test_latency_seconds_count{method=\"/a.B/Empty\"} 0\n"
            "# HELP urn_test_plain_total No labels.\n"
            "# TYPE urn_test_plain_total counter\n"
            "urn_test_plain_total 5\n"
            "# HELP urn_test_info Constant.\n"
            "# TYPE urn_test_info gauge\n"
            "urn_test_info{version=\"1.2.3\"} 1\n");
}

TEST(MetricsRegistry, EscapesLabelValues) {
  EXPECT_EQ(EscapeLabelValue("plain"), "plain");
  EXPECT_EQ(EscapeLabelValue("q\"b\\n\nend"), "q\\\"b\\\\n\\nend");
}

TEST(MetricsRegistry, ConcurrentRecordingLosesNothing) {
  Registry registry;
  CounterFamily& counter = registry.AddCounter("urn_test_total", "Test.", {"shard"});
  HistogramFamily& histogram = registry.AddHistogram("urn_test_seconds", "Test.", {}, {1, 2});
  constexpr int kThreads = 8;
  constexpr int kIncrements = 200000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Every thread creates its own series and races the others on a shared one.
      Counter& own = counter.With({absl::StrCat("t", t)});
      for (int i = 0; i < kIncrements; ++i) {
        counter.With({"shared"}).Increment();
        own.Increment(2);
        histogram.With({}).Observe(i % 3);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(counter.With({"shared"}).value(), uint64_t{kThreads} * kIncrements);
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(counter.With({absl::StrCat("t", t)}).value(), 2 * uint64_t{kIncrements});
  }
  const Histogram::Snapshot s = histogram.With({}).Read();
  EXPECT_EQ(s.cumulative.back(), uint64_t{kThreads} * kIncrements);
  // Per thread, i % 3 is 0 and 1 third + 1 times each, 2 third times (kIncrements = 3 third + 2).
  const uint64_t third = kIncrements / 3;
  EXPECT_EQ(s.cumulative[0], kThreads * (2 * third + 2));  // 0 and 1 (le 1)
  EXPECT_EQ(s.cumulative[1], kThreads * (3 * third + 2));  // and 2 (le 2)
  EXPECT_EQ(s.sum, kThreads * (3.0 * third + 1));
}

TEST(MetricsRegistry, LabelSetsBeyondTheBoundGoToOverflow) {
  Registry registry;
  CounterFamily& family = registry.AddCounter("urn_test_total", "Test.", {"k"});
  for (size_t i = 0; i < CounterFamily::kMaxSeries + 10; ++i) {
    family.With({absl::StrCat("v", i)}).Increment();
  }
  EXPECT_EQ(family.With({"v0"}).value(), 1u);
  EXPECT_EQ(family.With({"v1"}).value(), 1u);
  EXPECT_EQ(family.With({"another"}).value(), 10u);  // the overflow series
  const std::string text = registry.Render();
  EXPECT_NE(text.find("urn_test_total{k=\"overflow\"} 10\n"), std::string::npos);
  EXPECT_EQ(text.find(absl::StrCat("v", CounterFamily::kMaxSeries)), std::string::npos);
}

}  // namespace
}  // namespace urn::server::metrics
