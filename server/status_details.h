// Rich error details: a google.rpc.Status (with QuotaFailure, RetryInfo or ErrorInfo) carried in
// an absl::Status payload, which ToGrpc() (call_auth.h) sends as `grpc-status-details-bin`.
#ifndef URN_SERVER_STATUS_DETAILS_H_
#define URN_SERVER_STATUS_DETAILS_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace urn::server {

// The payload key under which the serialized google.rpc.Status travels.
inline constexpr char kStatusDetailsUrl[] = "type.googleapis.com/google.rpc.Status";

// RESOURCE_EXHAUSTED with a QuotaFailure violation (subject, description) and a RetryInfo
// delay after which a retry can succeed. Without `retry_after` (a limit on resources held,
// which no wait lifts) there is no RetryInfo, and the message says what would.
absl::Status QuotaExceeded(const std::string& subject, const std::string& description,
                           std::optional<absl::Duration> retry_after);

// PERMISSION_DENIED with ErrorInfo{reason: FEATURE_NOT_IN_PLAN, domain: "urn"}.
absl::Status FeatureNotInPlan(const std::string& feature, const std::string& plan);

// The serialized google.rpc.Status of `status`, if it has one.
std::optional<std::string> StatusDetails(const absl::Status& status);

}  // namespace urn::server

#endif  // URN_SERVER_STATUS_DETAILS_H_
