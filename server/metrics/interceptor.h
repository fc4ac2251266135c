// CallMetricsFactory: a gRPC server interceptor that records every call in
// urn_grpc_requests_total{method,code} and urn_grpc_request_duration_seconds{method}
// (metrics/metrics.h), whatever its service: urn.v1, health and reflection alike, and calls
// refused before their handler ran (UNAUTHENTICATED, RESOURCE_EXHAUSTED).
//
// It only observes: every hook proceeds unchanged, and nothing of a call is read but its method
// name and the code of the status it ends with. A call that ends without sending a status (gRPC
// gave up on it) counts as CANCELLED.
//
// Cost per call: one small allocation (the interceptor), two clock reads and two lock-free
// series lookups (metrics/registry.h).
#ifndef URN_SERVER_METRICS_INTERCEPTOR_H_
#define URN_SERVER_METRICS_INTERCEPTOR_H_

#include <grpcpp/support/server_interceptor.h>

#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "metrics/metrics.h"

namespace urn::server::metrics {

class CallMetricsFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  // `services`: full names of the services served (e.g. "urn.v1.Sampling"), whose methods are
  // labelled by their full names; any other method is labelled "unknown", so a client cannot
  // make up label values. REQUIRES: `metrics` outlives the server.
  CallMetricsFactory(ServerMetrics* metrics, const std::vector<std::string>& services);

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

 private:
  ServerMetrics* const metrics_;
  const absl::flat_hash_set<std::string> methods_;  // "/package.Service/Method"
};

}  // namespace urn::server::metrics

#endif  // URN_SERVER_METRICS_INTERCEPTOR_H_
