// The exit codes of `urn`, one per kind of failure a script may want to tell apart (printed by
// `urn --help` and listed in the README):
//
//   0  success
//   1  the request failed: no such dataset or store, a name taken, data the server rejected,
//      an error inside the server, output that could not be written (a full disk); `urn
//      health` when the server is NOT_SERVING
//   2  usage: a bad flag, option or profile, or a malformed input file for the server (the
//      message names file:line); nothing was sent
//   3  not authenticated (no key, or a key that is revoked or unknown) or permission denied
//      (an admin command without the admin key, or a feature the plan lacks)
//   4  quota exceeded: a plan limit; the message says when to retry (urnd's memory budget for
//      all users, not a plan's, is 1)
//   5  the server is unavailable or the call timed out: retrying later may succeed
//
// `urn sample` on local files: 0; 1 for bad input data (file:line) or a field name the input
// does not have; 2 for bad usage (tsv-sample exits 1 for both).
#ifndef URN_CLIENT_CLI_EXIT_CODES_H_
#define URN_CLIENT_CLI_EXIT_CODES_H_

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "urn/errors.h"

namespace urn::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitDenied = 3;
inline constexpr int kExitQuota = 4;
inline constexpr int kExitUnavailable = 5;

// The table above, for `urn --help`.
inline constexpr char kExitCodesHelp[] =
    "Exit codes: 0 success; 1 the request failed (not found, exists, rejected data, server "
    "error, NOT_SERVING, output not written); 2 usage (bad flags or input file; nothing sent); 3 "
    "not authenticated "
    "or permission denied; 4 quota exceeded (retry after the delay printed); 5 server "
    "unavailable or timed out. `urn sample` on local files: 1 bad input data, 2 usage.";

// Marks bad usage found by urn itself (a bad flag, key file or field list; a request it refuses
// to build): exit 2 whatever its code, where a server's INVALID_ARGUMENT is 1.
inline constexpr char kUsagePayload[] = "urn.cli/usage";
inline absl::Status UsageError(absl::Status status) {
  if (!status.ok()) status.SetPayload(kUsagePayload, absl::Cord("1"));
  return status;
}
inline bool IsUsageError(const absl::Status& status) {
  return status.GetPayload(kUsagePayload).has_value();
}

// The exit code for a failed call's status.
inline int ExitCodeFor(const absl::Status& status) {
  if (IsUsageError(status)) return kExitUsage;
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return kExitOk;
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kPermissionDenied:
      return kExitDenied;
    case absl::StatusCode::kResourceExhausted:
      // Only urnd's plan limits carry a QuotaFailure; any other (gRPC's message size limit,
      // urnd's --memory-budget) is a failed request.
      return GetQuotaDetails(status).has_value() ? kExitQuota : kExitFailed;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
      return kExitUnavailable;
    default:
      return kExitFailed;
  }
}

}  // namespace urn::cli

#endif  // URN_CLIENT_CLI_EXIT_CODES_H_
