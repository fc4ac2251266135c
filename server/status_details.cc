#include "status_details.h"

#include "absl/strings/str_cat.h"
#include "urn/rpc/google_rpc.pb.h"

namespace urn::server {
namespace {

absl::Status WithDetails(absl::Status status, const google::rpc::Status& details) {
  status.SetPayload(kStatusDetailsUrl, absl::Cord(details.SerializeAsString()));
  return status;
}

}  // namespace

absl::Status QuotaExceeded(const std::string& subject, const std::string& description,
                           std::optional<absl::Duration> retry_after) {
  const std::string message =
      retry_after.has_value()
          ? absl::StrCat(description, "; retry in ",
                         absl::FormatDuration(absl::Ceil(*retry_after, absl::Seconds(1))))
          : absl::StrCat(description,
                         "; waiting does not lift it: free some, or ask for a larger plan");
  google::rpc::Status details;
  details.set_code(static_cast<int>(absl::StatusCode::kResourceExhausted));
  details.set_message(message);
  google::rpc::QuotaFailure quota;
  google::rpc::QuotaFailure::Violation* v = quota.add_violations();
  v->set_subject(subject);
  v->set_description(description);
  details.add_details()->PackFrom(quota);
  if (retry_after.has_value()) {
    google::rpc::RetryInfo retry;
    const int64_t nanos = absl::ToInt64Nanoseconds(*retry_after);
    retry.mutable_retry_delay()->set_seconds(nanos / 1'000'000'000);
    retry.mutable_retry_delay()->set_nanos(static_cast<int32_t>(nanos % 1'000'000'000));
    details.add_details()->PackFrom(retry);
  }
  return WithDetails(absl::ResourceExhaustedError(message), details);
}

absl::Status FeatureNotInPlan(const std::string& feature, const std::string& plan) {
  const std::string message =
      absl::StrCat("FEATURE_NOT_IN_PLAN: '", feature, "' is not in plan '", plan, "'");
  google::rpc::Status details;
  details.set_code(static_cast<int>(absl::StatusCode::kPermissionDenied));
  details.set_message(message);
  google::rpc::ErrorInfo info;
  info.set_reason("FEATURE_NOT_IN_PLAN");
  info.set_domain("urn");
  (*info.mutable_metadata())["feature"] = feature;
  (*info.mutable_metadata())["plan"] = plan;
  details.add_details()->PackFrom(info);
  return WithDetails(absl::PermissionDeniedError(message), details);
}

std::optional<std::string> StatusDetails(const absl::Status& status) {
  const auto payload = status.GetPayload(kStatusDetailsUrl);
  if (!payload) return std::nullopt;
  return std::string(*payload);
}

}  // namespace urn::server
