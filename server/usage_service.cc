#include "usage_service.h"

#include "memory_budget.h"

namespace urn::server {

absl::Status UsageService::HandleGetUsage(grpc::CallbackServerContext* context,
                                          const v1::GetUsageRequest*,
                                          v1::GetUsageResponse* response) {
  absl::StatusOr<auth::Principal> who = gate_->Enter(*context, "");
  absl::StatusOr<auth::Usage> usage =
      who.ok() ? gate_->admission().GetUsage(*who) : absl::StatusOr<auth::Usage>(who.status());
  if (!usage.ok()) return usage.status();
  const auth::Plan& p = usage->limits;
  response->set_user(who->user);
  response->set_plan(usage->plan);
  response->set_day(usage->day);
  response->set_rows_today(usage->rows_today);
  response->set_rows_per_day(p.rows_per_day);
  response->set_requests_per_second(p.requests_per_second);
  response->set_burst(p.burst);
  response->set_datasets(static_cast<int64_t>(datasets_->Count(who->user)));
  response->set_datasets_limit(p.datasets);
  response->set_rows_per_dataset(p.rows_per_dataset);
  response->set_bytes_per_dataset(p.bytes_per_dataset);
  response->set_weight_stores(static_cast<int64_t>(weight_stores_->Count(who->user)));
  response->set_weight_stores_limit(p.weight_stores);
  response->set_capacity_per_store(p.capacity_per_store);
  response->set_concurrent_streams(p.concurrent_streams);
  response->set_memory_bytes(datasets_->MemoryBytes(who->user) +
                             weight_stores_->MemoryBytes(who->user));
  response->set_memory_bytes_limit(p.memory_bytes);
  for (const std::string& f : p.features) response->add_features(f);
  return absl::OkStatus();
}

}  // namespace urn::server
