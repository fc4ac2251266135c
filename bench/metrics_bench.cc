// The cost of recording a metric on the hot paths (metrics/registry.h): a counter increment and
// a histogram observation, on a series the caller holds and through a label lookup (what
// Admission::Charge and the call interceptor do), on one thread and on two racing for one
// series; and a scrape's Render.
//   ./build/bench/urn_bench --benchmark_filter=Metrics
#include <benchmark/benchmark.h>

#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "metrics/metrics.h"

namespace urn::server::metrics {
namespace {

ServerMetrics& Shared() {
  static auto* m = new ServerMetrics;
  return *m;
}

void BM_MetricsCounterIncrement(benchmark::State& state) {
  Counter& c = Shared().rows_sampled.With({"bench"});
  for (auto _ : state) c.Increment();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MetricsCounterIncrement)->Threads(1)->Threads(2);

// Admission's path: the plan's series by name, then the add.
void BM_MetricsCounterWithLabelIncrement(benchmark::State& state) {
  CounterFamily& family = Shared().rows_sampled;
  const std::string plan = "enterprise";
  for (auto _ : state) family.With({plan}).Increment(1024);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MetricsCounterWithLabelIncrement)->Threads(1)->Threads(2);

void BM_MetricsHistogramObserve(benchmark::State& state) {
  Histogram& h = Shared().grpc_request_duration.With({"/bench.B/Held"});
  double v = 0.0001;
  for (auto _ : state) {
    h.Observe(v);
    v = v < 30 ? v * 1.7 : 0.0001;  // walks the buckets
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MetricsHistogramObserve)->Threads(1)->Threads(2);

// The interceptor's per-call work: the code's counter and the method's histogram by label.
void BM_MetricsCallRecord(benchmark::State& state) {
  ServerMetrics& m = Shared();
  const std::string_view method = "/urn.v1.Sampling/Sample";
  for (auto _ : state) {
    m.grpc_requests.With({method, "OK"}).Increment();
    m.grpc_request_duration.With({method}).Observe(0.003);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MetricsCallRecord)->Threads(1)->Threads(2);

// A scrape of 40 methods x 3 codes, 5 plans.
void BM_MetricsRender(benchmark::State& state) {
  ServerMetrics m;
  for (int i = 0; i < 40; ++i) {
    const std::string method = absl::StrCat("/urn.v1.Service/Method", i);
    for (const char* code : {"OK", "NOT_FOUND", "UNAUTHENTICATED"}) {
      m.grpc_requests.With({method, code}).Increment();
    }
    m.grpc_request_duration.With({method}).Observe(0.01);
  }
  for (int p = 0; p < 5; ++p) m.rows_sampled.With({absl::StrCat("plan", p)}).Increment();
  size_t bytes = 0;
  for (auto _ : state) {
    const std::string text = m.registry.Render();
    bytes = text.size();
    benchmark::DoNotOptimize(text.data());
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_MetricsRender);

}  // namespace
}  // namespace urn::server::metrics
