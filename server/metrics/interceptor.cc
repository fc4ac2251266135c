#include "metrics/interceptor.h"

#include <google/protobuf/descriptor.h>

#include <atomic>
#include <chrono>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "grpc/health/v1/health.pb.h"

namespace urn::server::metrics {
namespace {

using grpc::experimental::InterceptionHookPoints;

// The methods of `services`, from the generated descriptor pool.
absl::flat_hash_set<std::string> MethodsOf(const std::vector<std::string>& services) {
  // gRPC serves health from its own code, so nothing else links the generated descriptor of
  // grpc.health.v1.Health into the pool; naming it here does.
  (void)grpc::health::v1::HealthCheckRequest::descriptor();
  absl::flat_hash_set<std::string> methods;
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  for (const std::string& name : services) {
    const google::protobuf::ServiceDescriptor* service = pool->FindServiceByName(name);
    if (service == nullptr) continue;
    for (int i = 0; i < service->method_count(); ++i) {
      methods.insert(absl::StrCat("/", name, "/", service->method(i)->name()));
    }
  }
  return methods;
}

// The canonical name of a gRPC status code ("OK", "NOT_FOUND", ...); gRPC's codes are
// absl's.
std::string CodeName(grpc::StatusCode code) {
  std::string name = absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
  return name.empty() ? "UNKNOWN" : name;
}

class CallMetrics final : public grpc::experimental::Interceptor {
 public:
  CallMetrics(ServerMetrics* metrics, std::string_view method)
      : metrics_(metrics), method_(method), start_(std::chrono::steady_clock::now()) {}

  ~CallMetrics() override {
    if (!recorded_.load(std::memory_order_relaxed)) Record(grpc::StatusCode::CANCELLED);
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      Record(methods->GetSendStatus().error_code());
    }
    methods->Proceed();
  }

 private:
  void Record(grpc::StatusCode code) {
    if (recorded_.exchange(true)) return;
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start_;
    metrics_->grpc_requests.With({method_, CodeName(code)}).Increment();
    metrics_->grpc_request_duration.With({method_}).Observe(elapsed.count());
  }

  ServerMetrics* const metrics_;
  const std::string_view method_;  // a factory's method name, or "unknown"
  const std::chrono::steady_clock::time_point start_;
  std::atomic<bool> recorded_{false};
};

}  // namespace

CallMetricsFactory::CallMetricsFactory(ServerMetrics* metrics,
                                       const std::vector<std::string>& services)
    : metrics_(metrics), methods_(MethodsOf(services)) {}

grpc::experimental::Interceptor* CallMetricsFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  const char* method = info->method();
  auto it = method == nullptr ? methods_.end() : methods_.find(absl::string_view(method));
  return new CallMetrics(metrics_, it == methods_.end() ? std::string_view("unknown") : *it);
}

}  // namespace urn::server::metrics
