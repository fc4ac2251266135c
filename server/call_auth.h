// The one place where a gRPC call meets authentication and its plan: every handler calls
// CallGate::Enter() first and returns its error unchanged when it fails, before reading anything
// else of the request. Enter() authenticates (UNAUTHENTICATED) and then admits the call
// (feature in plan, request rate; see auth/admission.h).
#ifndef URN_SERVER_CALL_AUTH_H_
#define URN_SERVER_CALL_AUTH_H_

#include <grpcpp/grpcpp.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "auth/admission.h"
#include "auth/authenticator.h"
#include "memory_budget.h"

namespace urn::server {

class CallGate {
 public:
  // REQUIRES: both outlive the gate.
  CallGate(const auth::Authenticator* authenticator, auth::Admission* admission)
      : authenticator_(authenticator), admission_(admission) {}

  // Authenticates the call, then admits it: `feature` ("" when none is needed) must be in the
  // caller's plan, and the caller's request rate must have a token left.
  absl::StatusOr<auth::Principal> Enter(const grpc::ServerContextBase& context,
                                        std::string_view feature) const;

  // OK while the key that entered `who`'s call is still valid and its user exists
  // (Authenticator::StillValid); otherwise UNAUTHENTICATED: "the key of this <call> was revoked
  // or its user deleted<consequence>". For calls that outlive their entry (streams, a create
  // that registers later). Updates who.plan to the user's plan now, and checks that plan as
  // Enter did (Admission::CheckFeature: defined, with `feature`; PERMISSION_DENIED
  // "...<consequence>" otherwise), so that a plan changed meanwhile applies.
  absl::Status StillValid(auth::Principal& who, std::string_view call, std::string_view feature,
                          std::string_view consequence = "") const;

  auth::Admission& admission() const { return *admission_; }

  // The server-wide memory budget (MemoryBudget), set once before serving; none: no limit.
  void set_memory_budget(MemoryBudget* budget) { memory_budget_ = budget; }
  // May be null (no budget): MemoryBudget::Reservation then reserves nothing.
  MemoryBudget* memory_budget() const { return memory_budget_; }

 private:
  const auth::Authenticator* const authenticator_;
  auth::Admission* const admission_;
  MemoryBudget* memory_budget_ = nullptr;
};

// Finishes a unary callback call with `status` (see ToGrpc) and returns its reactor.
grpc::ServerUnaryReactor* FinishUnary(grpc::CallbackServerContext* context,
                                      const absl::Status& status);

// The gRPC status for an absl::Status: same code, and the message cut to kMaxStatusMessageBytes
// (StatusMessageForWire). Messages repeat what the client sent (a name, a column); uncut, an 8 KB
// name made a status larger than a client's metadata limit, which the client then reported as
// RESOURCE_EXHAUSTED instead of the real error.
// In UNAVAILABLE, INTERNAL, DATA_LOSS and UNKNOWN errors (those of urnd's storage) it also
// replaces each path given to HideOnWire, where it stands whole (not inside a longer name), with
// "<data dir>", and logs the message (cut and escaped).
grpc::Status ToGrpc(const absl::Status& status);

// Adds a directory (urnd's data directory, made absolute) that messages sent to clients must not
// show: a storage error names files there, and a tenant has no business with the server's
// layout. A path of fewer than two components is not hidden (it could be ordinary text); a
// relative --data-dir shows in messages only as given. Process-wide; thread-safe.
void HideOnWire(const std::string& path);

inline constexpr size_t kMaxStatusMessageBytes = 1024;
// `message` when it has at most kMaxStatusMessageBytes, else its start (whole UTF-8 characters)
// and "... (message cut: N bytes)", at most kMaxStatusMessageBytes in all.
std::string StatusMessageForWire(std::string message);

}  // namespace urn::server

#endif  // URN_SERVER_CALL_AUTH_H_
