// Internal to urn_client: turning gRPC statuses into absl ones (with their details), and retrying
// idempotent unary calls.
#ifndef URN_CLIENT_SRC_CALL_H_
#define URN_CLIENT_SRC_CALL_H_

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/strings/cord.h"
#include "urn/client.h"
#include "urn/errors.h"

namespace urn::client_internal {

// Ties a StreamCanceller (may be null) to a call's context for the call's lifetime.
class CancelScope {
 public:
  CancelScope(StreamCanceller* canceller, grpc::ClientContext* context);
  ~CancelScope();
  CancelScope(const CancelScope&) = delete;
  CancelScope& operator=(const CancelScope&) = delete;
  // `status`, or CANCELLED naming the canceller when the call failed after Cancel().
  absl::Status Status(absl::Status status) const;

 private:
  StreamCanceller* canceller_;
};

// Now plus `times` x `timeout`; beyond a century, no deadline (the clock's nanoseconds would
// overflow). REQUIRES: times >= 1.
inline std::chrono::system_clock::time_point DeadlineAfter(std::chrono::milliseconds timeout,
                                                           int64_t times = 1) {
  if (timeout > std::chrono::milliseconds(std::chrono::hours(24 * 36525)) / times) {
    return std::chrono::system_clock::time_point::max();
  }
  return std::chrono::system_clock::now() + timeout * times;
}

// The same code and message; the google.rpc.Status details, if any, as a payload.
inline absl::Status FromGrpc(const grpc::Status& s) {
  absl::Status out(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
  if (!s.ok() && !s.error_details().empty()) {
    out.SetPayload(kStatusDetailsUrl, absl::Cord(s.error_details()));
  }
  return out;
}

// Runs `call(context, response)` (an idempotent unary call) until it succeeds or may not be
// retried: UNAVAILABLE is retried with exponential backoff, RESOURCE_EXHAUSTED after its
// RetryInfo delay when that is at most options.max_backoff; at most options.max_attempts calls.
template <typename Response>
absl::StatusOr<Response> Retrying(
    const Client& client,
    const std::function<grpc::Status(grpc::ClientContext&, Response*)>& call) {
  const ClientOptions& o = client.options();
  std::chrono::milliseconds backoff = o.initial_backoff;
  for (int attempt = 1;; ++attempt) {
    grpc::ClientContext context;
    client.Prepare(context);
    Response response;
    const absl::Status s = FromGrpc(call(context, &response));
    if (s.ok()) return response;
    if (attempt >= o.max_attempts) return s;
    std::chrono::milliseconds wait{0};
    if (absl::IsUnavailable(s)) {
      wait = backoff;
      backoff = std::min(o.max_backoff, backoff * 2);
    } else if (absl::IsResourceExhausted(s)) {
      const std::optional<absl::Duration> delay = RetryDelay(s);
      if (!delay || *delay > absl::FromChrono(o.max_backoff)) return s;
      wait = std::chrono::milliseconds(absl::ToInt64Milliseconds(*delay) + 1);
    } else {
      return s;
    }
    std::this_thread::sleep_for(wait);
  }
}

}  // namespace urn::client_internal

#endif  // URN_CLIENT_SRC_CALL_H_
