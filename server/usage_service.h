// urn.v1.Usage: the caller's counters (rows today, datasets, weight stores) and plan limits.
#ifndef URN_SERVER_USAGE_SERVICE_H_
#define URN_SERVER_USAGE_SERVICE_H_

#include "call_auth.h"
#include "datasets/dataset_registry.h"
#include "parsed_unary.h"
#include "urn/v1/usage.grpc.pb.h"
#include "weights/weight_store_registry.h"

namespace urn::server {

class UsageService final : public ParsedUnaryMethods<v1::Usage> {
 public:
  // REQUIRES: all outlive the service.
  UsageService(const CallGate* gate, const DatasetRegistry* datasets,
               const WeightStoreRegistry* weight_stores)
      : gate_(gate), datasets_(datasets), weight_stores_(weight_stores) {
    ServeParsed(this, "GetUsage", GateEntry(gate, ""), &UsageService::HandleGetUsage);
  }

  absl::Status HandleGetUsage(grpc::CallbackServerContext* context,
                              const v1::GetUsageRequest* request, v1::GetUsageResponse* response);

 private:
  const CallGate* const gate_;
  const DatasetRegistry* const datasets_;
  const WeightStoreRegistry* const weight_stores_;
};

}  // namespace urn::server

#endif  // URN_SERVER_USAGE_SERVICE_H_
