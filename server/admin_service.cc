#include "admin_service.h"

#include <spdlog/spdlog.h>

#include "auth/users.h"
#include "call_auth.h"

namespace urn::server {

grpc::ServerUnaryReactor* AdminService::CreateUser(grpc::CallbackServerContext* context,
                                                   const v1::CreateUserRequest* request,
                                                   v1::CreateUserResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<auth::Principal> who = gate_->Enter(*context, "");
  if (!who.ok()) {
    reactor->Finish(ToGrpc(who.status()));
    return reactor;
  }
  if (!who->admin) {
    reactor->Finish(ToGrpc(absl::PermissionDeniedError("CreateUser needs an admin key")));
    return reactor;
  }
  absl::StatusOr<auth::ApiKey> key = auth::GenerateApiKey();
  absl::Status s = key.status();
  if (s.ok()) s = auth::CreateUser(*store_, request->name(), request->plan(), false, *key);
  if (s.ok()) s = authenticator_->Invalidate();
  if (s.ok()) {
    response->set_name(request->name());
    response->set_plan(request->plan());
    response->set_key(key->ToString());
    response->set_key_id(key->key_id);
    spdlog::info("user '{}' created by '{}' on plan '{}' with key {}", request->name(), who->user,
                 request->plan(), key->key_id);
  }
  reactor->Finish(ToGrpc(s));
  return reactor;
}

}  // namespace urn::server
