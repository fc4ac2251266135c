#include "admin_service.h"

#include <spdlog/spdlog.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "auth/users.h"

namespace urn::server {
absl::StatusOr<auth::Principal> AdminService::EnterAsAdmin(
    grpc::CallbackServerContext* context) const {
  absl::StatusOr<auth::Principal> who = gate_->Enter(*context, "");
  if (!who.ok()) return who;
  if (!who->admin) {
    spdlog::warn("audit: user '{}' (key {}) was refused an admin call", who->user, who->key_id);
    return absl::PermissionDeniedError("this call needs an admin key");
  }
  return who;
}

absl::Status AdminService::Changed(const absl::Status& change) {
  if (!change.ok()) return change;
  return authenticator_->Invalidate();
}

absl::Status AdminService::HandleCreateUser(grpc::CallbackServerContext* context,
                                            const v1::CreateUserRequest* request,
                                            v1::CreateUserResponse* response) {
  absl::StatusOr<auth::Principal> who = EnterAsAdmin(context);
  if (!who.ok()) return who.status();
  if (!gate_->admission().HasPlan(request->plan())) {
    return absl::InvalidArgumentError(absl::StrCat("plan: '", request->plan(), "' is not defined"));
  }
  absl::StatusOr<auth::ApiKey> key = auth::GenerateApiKey();
  absl::Status s = key.status();
  if (s.ok()) s = Changed(auth::CreateUser(*store_, request->name(), request->plan(), false, *key));
  if (s.ok()) {
    response->set_name(request->name());
    response->set_plan(request->plan());
    response->set_key(key->ToString());
    response->set_key_id(key->key_id);
    spdlog::info("audit: '{}' created user '{}' on plan '{}' with key {}", who->user,
                 request->name(), request->plan(), key->key_id);
  }
  return s;
}

absl::StatusOr<RemovedUserData> RemoveDeletedUsersData(const std::string& name,
                                                       auth::Admission& admission,
                                                       storage::MetadataStore& store,
                                                       DatasetRegistry& datasets,
                                                       WeightStoreRegistry& weight_stores) {
  // A new user of this name starts with no rows used today.
  if (absl::Status s = admission.ForgetUser(name); !s.ok()) return s;
  RemovedUserData removed;
  absl::StatusOr<int> deleted = datasets.DeleteOwner(name);
  if (!deleted.ok()) return deleted.status();
  removed.datasets = *deleted;
  deleted = weight_stores.DeleteOwner(name);
  if (!deleted.ok()) return deleted.status();
  removed.weight_stores = *deleted;
  if (absl::Status s = auth::EndUserDeletion(store, name); !s.ok()) return s;
  return removed;
}

absl::Status AdminService::HandleDeleteUser(grpc::CallbackServerContext* context,
                                            const v1::DeleteUserRequest* request,
                                            v1::DeleteUserResponse* response) {
  absl::StatusOr<auth::Principal> who = EnterAsAdmin(context);
  if (!who.ok()) return who.status();
  // Keys first: from here on the user cannot start new calls.
  absl::StatusOr<int> keys = auth::DeleteUser(*store_, request->name());
  if (!keys.ok()) return keys.status();
  if (absl::Status s = Changed(absl::OkStatus()); !s.ok()) return s;
  absl::StatusOr<RemovedUserData> removed = RemoveDeletedUsersData(
      request->name(), gate_->admission(), *store_, *datasets_, *weight_stores_);
  if (!removed.ok()) return removed.status();
  response->set_keys_deleted(*keys);
  response->set_datasets_deleted(removed->datasets);
  response->set_weight_stores_deleted(removed->weight_stores);
  spdlog::info("audit: '{}' deleted user '{}' ({} keys, {} datasets, {} weight stores)", who->user,
               request->name(), *keys, removed->datasets, removed->weight_stores);
  return absl::OkStatus();
}

absl::Status AdminService::HandleSetPlan(grpc::CallbackServerContext* context,
                                         const v1::SetPlanRequest* request, v1::SetPlanResponse*) {
  absl::StatusOr<auth::Principal> who = EnterAsAdmin(context);
  if (!who.ok()) return who.status();
  if (!gate_->admission().HasPlan(request->plan())) {
    return absl::InvalidArgumentError(absl::StrCat("plan: '", request->plan(), "' is not defined"));
  }
  absl::Status s = Changed(auth::SetUserPlan(*store_, request->name(), request->plan()));
  if (s.ok()) {
    spdlog::info("audit: '{}' set the plan of '{}' to '{}'", who->user, request->name(),
                 request->plan());
  }
  return s;
}

absl::Status AdminService::HandleCreateKey(grpc::CallbackServerContext* context,
                                           const v1::CreateKeyRequest* request,
                                           v1::CreateKeyResponse* response) {
  absl::StatusOr<auth::Principal> who = EnterAsAdmin(context);
  if (!who.ok()) return who.status();
  absl::StatusOr<auth::ApiKey> key = auth::GenerateApiKey();
  absl::Status s = key.status();
  if (s.ok()) s = Changed(auth::AddKey(*store_, request->user(), *key));
  if (s.ok()) {
    response->set_key(key->ToString());
    response->set_key_id(key->key_id);
    response->set_user(request->user());
    spdlog::info("audit: '{}' created key {} for '{}'", who->user, key->key_id, request->user());
  }
  return s;
}

absl::Status AdminService::HandleListKeys(grpc::CallbackServerContext* context,
                                          const v1::ListKeysRequest* request,
                                          v1::ListKeysResponse* response) {
  absl::StatusOr<auth::Principal> who = EnterAsAdmin(context);
  if (!who.ok()) return who.status();
  absl::StatusOr<std::vector<auth::KeyListing>> keys = auth::ListKeys(*store_, request->user());
  if (!keys.ok()) return keys.status();
  for (const auth::KeyListing& k : *keys) {
    v1::KeyInfo* info = response->add_keys();
    info->set_key_id(k.key_id);
    info->set_user(k.user);
    info->set_created_unix(k.created_unix);
    info->set_revoked(k.revoked);
  }
  return absl::OkStatus();
}

absl::Status AdminService::HandleRevokeKey(grpc::CallbackServerContext* context,
                                           const v1::RevokeKeyRequest* request,
                                           v1::RevokeKeyResponse*) {
  absl::StatusOr<auth::Principal> who = EnterAsAdmin(context);
  if (!who.ok()) return who.status();
  absl::Status s = Changed(auth::RevokeKey(*store_, request->key_id()));
  if (s.ok()) spdlog::info("audit: '{}' revoked key {}", who->user, request->key_id());
  return s;
}

}  // namespace urn::server
