#include "metrics/metrics.h"

#include <utility>

namespace urn::server::metrics {

ServerMetrics::ServerMetrics()
    : grpc_requests(registry.AddCounter("urn_grpc_requests_total",
                                        "gRPC calls finished, by method and status code.",
                                        {"method", "code"})),
      grpc_request_duration(registry.AddHistogram(
          "urn_grpc_request_duration_seconds",
          "Time from a gRPC call's arrival to its status (a stream's whole life).", {"method"},
          {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
           5, 10, 30, 60})),
      rows_sampled(registry.AddCounter(
          "urn_rows_sampled_total",
          "Rows granted to Sample and Shuffle and slots to SampleWeights (charged to daily rows).",
          {"plan"})),
      priority_updates(registry.AddCounter(
          "urn_priority_updates_total",
          "Priorities applied by UpdatePriorities (entries of acknowledged batches).", {"plan"})),
      quota_rejections(registry.AddCounter(
          "urn_quota_rejections_total",
          "Calls or batches refused RESOURCE_EXHAUSTED by a plan limit, by the limit's key.",
          {"plan", "reason"})) {
  registry.AddGauge("urn_build_info", "Always 1; the version of urnd.", {{"version", URN_VERSION}},
                    [] { return 1.0; });
}

void ServerMetrics::AddStateGauges(std::function<double()> datasets,
                                   std::function<double()> weight_stores) {
  registry.AddGauge("urn_datasets", "Datasets held, of every owner.", {}, std::move(datasets));
  registry.AddGauge("urn_weight_stores", "Weight stores held, of every owner (damaged included).",
                    {}, std::move(weight_stores));
}

}  // namespace urn::server::metrics
