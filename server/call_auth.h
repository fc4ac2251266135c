// The one place where a gRPC call meets authentication: every handler calls Authorize() first
// and returns its error unchanged when it fails, before reading anything else of the request.
#ifndef URN_SERVER_CALL_AUTH_H_
#define URN_SERVER_CALL_AUTH_H_

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "auth/authenticator.h"

namespace urn::server {

// The principal of `context`'s call, from its `authorization` metadata.
absl::StatusOr<auth::Principal> Authorize(const auth::Authenticator& authenticator,
                                          const grpc::ServerContextBase& context);

// The gRPC status for an absl::Status (same code and message).
grpc::Status ToGrpc(const absl::Status& status);

}  // namespace urn::server

#endif  // URN_SERVER_CALL_AUTH_H_
