#include "call_auth.h"

#include <spdlog/spdlog.h>

#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "status_details.h"

namespace urn::server {
namespace {

// The principal of `context`'s call, from its `authorization` metadata.
absl::StatusOr<auth::Principal> Authorize(const auth::Authenticator& authenticator,
                                          const grpc::ServerContextBase& context) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  const std::string_view value = it == metadata.end()
                                     ? std::string_view()
                                     : std::string_view(it->second.data(), it->second.size());
  return authenticator.Authenticate(value);
}

}  // namespace

absl::StatusOr<auth::Principal> CallGate::Enter(const grpc::ServerContextBase& context,
                                                std::string_view feature) const {
  absl::StatusOr<auth::Principal> who = Authorize(*authenticator_, context);
  if (!who.ok()) {
    // The authenticator's messages never contain a secret.
    spdlog::warn("audit: unauthenticated call from {}: {}", context.peer(),
                 std::string(who.status().message()));
    return who;
  }
  if (absl::Status s = admission_->Admit(*who, feature); !s.ok()) return s;
  return who;
}

absl::Status CallGate::StillValid(const auth::Principal& who, std::string_view call,
                                  std::string_view consequence) const {
  if (authenticator_->StillValid(who)) return absl::OkStatus();
  return absl::UnauthenticatedError(absl::StrCat("the key of this ", std::string(call),
                                                 " was revoked or its user deleted",
                                                 std::string(consequence)));
}

grpc::ServerUnaryReactor* FinishUnary(grpc::CallbackServerContext* context,
                                      const absl::Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpc(status));
  return reactor;
}

std::string StatusMessageForWire(std::string message) {
  if (message.size() <= kMaxStatusMessageBytes) return message;
  // Cut on a UTF-8 character boundary (never before a continuation byte).
  size_t keep = kMaxStatusMessageBytes - 64;
  while (keep > 0 && (static_cast<unsigned char>(message[keep]) & 0xC0) == 0x80) --keep;
  const size_t size = message.size();
  message.resize(keep);
  return absl::StrCat(message, "... (message cut: ", size, " bytes)");
}

grpc::Status ToGrpc(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  const auto code = static_cast<grpc::StatusCode>(status.code());
  std::string message = StatusMessageForWire(std::string(status.message()));
  if (std::optional<std::string> details = StatusDetails(status)) {
    return grpc::Status(code, std::move(message), *details);
  }
  return grpc::Status(code, std::move(message));
}

}  // namespace urn::server
