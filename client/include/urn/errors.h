// Errors from urnd, read as a person would: the quota that ran out and when a retry can
// succeed (from the google.rpc QuotaFailure and RetryInfo details urnd attaches), and a one-line
// sentence for any status.
//
//   absl::Status s = client.GetUsage().status();
//   if (std::optional<urn::QuotaDetails> q = urn::GetQuotaDetails(s)) { ... q->retry_after ... }
//   std::cerr << urn::ErrorSentence(s);
#ifndef URN_CLIENT_ERRORS_H_
#define URN_CLIENT_ERRORS_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace urn {

// The payload key under which the client keeps a status's google.rpc.Status details.
inline constexpr char kStatusDetailsUrl[] = "type.googleapis.com/google.rpc.Status";

struct QuotaDetails {
  std::string subject;      // e.g. "user:carol"
  std::string description;  // which limit, e.g. "daily rows of plan 'free' used up: ..."
  std::optional<absl::Duration> retry_after;
};

// The quota details of a RESOURCE_EXHAUSTED status, when urnd sent them.
std::optional<QuotaDetails> GetQuotaDetails(const absl::Status& status);

// When a retry can succeed, from the status's RetryInfo (any code).
std::optional<absl::Duration> RetryDelay(const absl::Status& status);

// One line for people: "quota exceeded: <which>; retry after 3h12m" (urnd's plan limits, with
// their QuotaFailure), "resource exhausted: ..." (any other RESOURCE_EXHAUSTED, such as gRPC's
// message size limit or urnd's --memory-budget), "not authenticated: ...", "permission denied:
// ...", "server unavailable: ...", "timed out: ...", or the message itself (which names the field
// or resource) for the rest.
std::string ErrorSentence(const absl::Status& status);

}  // namespace urn

#endif  // URN_CLIENT_ERRORS_H_
