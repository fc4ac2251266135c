#include "urn/errors.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "urn/rpc/google_rpc.pb.h"

namespace urn {
namespace {

std::optional<google::rpc::Status> Details(const absl::Status& status) {
  const auto payload = status.GetPayload(kStatusDetailsUrl);
  if (!payload) return std::nullopt;
  google::rpc::Status details;
  if (!details.ParseFromString(std::string(*payload))) return std::nullopt;
  return details;
}

// 3h12m, 41s, 250ms: the largest two units.
std::string Human(absl::Duration d) {
  const int64_t ms = absl::ToInt64Milliseconds(d);
  if (ms < 1000) return absl::StrCat(ms, "ms");
  const int64_t s = (ms + 999) / 1000;
  if (s < 60) return absl::StrCat(s, "s");
  if (s < 3600) return absl::StrCat(s / 60, "m", s % 60 ? absl::StrCat(s % 60, "s") : "");
  return absl::StrCat(s / 3600, "h", (s % 3600) / 60 ? absl::StrCat((s % 3600) / 60, "m") : "");
}

}  // namespace

std::optional<absl::Duration> RetryDelay(const absl::Status& status) {
  std::optional<google::rpc::Status> details = Details(status);
  if (!details) return std::nullopt;
  for (const auto& any : details->details()) {
    google::rpc::RetryInfo retry;
    if (any.UnpackTo(&retry)) {
      return absl::Seconds(retry.retry_delay().seconds()) +
             absl::Nanoseconds(retry.retry_delay().nanos());
    }
  }
  return std::nullopt;
}

std::optional<QuotaDetails> GetQuotaDetails(const absl::Status& status) {
  if (!absl::IsResourceExhausted(status)) return std::nullopt;
  std::optional<google::rpc::Status> details = Details(status);
  if (!details) return std::nullopt;
  for (const auto& any : details->details()) {
    google::rpc::QuotaFailure quota;
    if (any.UnpackTo(&quota) && quota.violations_size() > 0) {
      return QuotaDetails{quota.violations(0).subject(), quota.violations(0).description(),
                          RetryDelay(status)};
    }
  }
  return std::nullopt;
}

std::string ErrorSentence(const absl::Status& status) {
  const std::string message(status.message());
  if (std::optional<QuotaDetails> q = GetQuotaDetails(status)) {
    std::string out = absl::StrCat("quota exceeded: ", q->description);
    if (q->retry_after) absl::StrAppend(&out, "; retry after ", Human(*q->retry_after));
    return out;
  }
  // RESOURCE_EXHAUSTED without urnd's QuotaFailure: gRPC's message size limit, urnd's memory
  // budget, a parser's limit.
  if (absl::IsResourceExhausted(status)) return "resource exhausted: " + message;
  if (absl::IsUnauthenticated(status)) return "not authenticated: " + message;
  if (absl::IsPermissionDenied(status)) return "permission denied: " + message;
  if (absl::IsUnavailable(status)) return "server unavailable: " + message;
  if (absl::IsDeadlineExceeded(status)) return "timed out: " + message;
  return message;
}

}  // namespace urn
