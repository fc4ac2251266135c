// Every metric urnd exports on GET /metrics (--metrics-listen), defined here and nowhere else.
//
//   urn_grpc_requests_total{method,code}                                   counter
//       gRPC calls finished, by full method name ("/urn.v1.Sampling/Sample"; health and
//       reflection included; "unknown" for a method urnd does not serve) and status code name
//       ("OK", "UNAUTHENTICATED", "RESOURCE_EXHAUSTED", ...). Recorded by metrics/interceptor.h.
//   urn_grpc_request_duration_seconds{method}                              histogram
//       Time from a call's arrival to its status, buckets from 100 us to 60 s. For a stream,
//       its whole life.
//   urn_rows_sampled_total{plan}                                           counter
//       Rows granted to Sample and Shuffle streams and slots to SampleWeights: what is charged
//       to the caller's daily rows, batch by batch, just before it is sent (auth/admission.h).
//   urn_priority_updates_total{plan}                                       counter
//       Priorities applied by UpdatePriorities: the entries of every acknowledged batch.
//   urn_quota_rejections_total{plan,reason}                                counter
//       Calls or batches refused with RESOURCE_EXHAUSTED by a plan limit. `reason` is the
//       limit's key in the plan (auth/plans.h): requests_per_second, rows_per_day,
//       concurrent_streams, datasets, rows_per_dataset, bytes_per_dataset, weight_stores,
//       capacity_per_store, memory_bytes.
//   urn_datasets                                                           gauge
//       Datasets held, of every owner.
//   urn_weight_stores                                                      gauge
//       Weight stores held, of every owner (damaged ones included).
//   urn_build_info{version}                                                gauge
//       Always 1; the version of urnd.
//
// Labels are bounded: plans come from the config, methods from the services urnd serves,
// codes from gRPC. No metric is labelled by user, key or resource name.
#ifndef URN_SERVER_METRICS_METRICS_H_
#define URN_SERVER_METRICS_METRICS_H_

#include <functional>

#include "metrics/registry.h"

namespace urn::server::metrics {

// The registry and the families recorded while serving. Not copyable; its families live as
// long as it does.
struct ServerMetrics {
  ServerMetrics();
  ServerMetrics(const ServerMetrics&) = delete;
  ServerMetrics& operator=(const ServerMetrics&) = delete;

  // Adds the gauges read from urnd's state at each scrape (urn_datasets, urn_weight_stores).
  void AddStateGauges(std::function<double()> datasets, std::function<double()> weight_stores);

  Registry registry;                       // first: the families below live in it
  CounterFamily& grpc_requests;            // method, code
  HistogramFamily& grpc_request_duration;  // method
  CounterFamily& rows_sampled;             // plan
  CounterFamily& priority_updates;         // plan
  CounterFamily& quota_rejections;         // plan, reason
};

}  // namespace urn::server::metrics

#endif  // URN_SERVER_METRICS_METRICS_H_
