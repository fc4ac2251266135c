// urn.v1.Admin: users and keys, for admin keys only (others get PERMISSION_DENIED). Every
// change is a synced metadata write, logged as an audit line ("audit: ...", never a secret),
// and takes effect on the next call (the authenticator reloads).
#ifndef URN_SERVER_ADMIN_SERVICE_H_
#define URN_SERVER_ADMIN_SERVICE_H_

#include "auth/authenticator.h"
#include "call_auth.h"
#include "datasets/dataset_registry.h"
#include "parsed_unary.h"
#include "storage/metadata_store.h"
#include "urn/v1/admin.grpc.pb.h"
#include "weights/weight_store_registry.h"

namespace urn::server {

// What a deleted user owned, removed: today's usage, every dataset and weight store; then the
// user's deletion tombstone (auth::EndUserDeletion). Run by DeleteUser after the user and keys
// are gone, and by urnd at start for a deletion a crash cut short. Returns how many datasets
// and stores went; on an error the tombstone stays, so a later run finishes the job.
struct RemovedUserData {
  int datasets = 0;
  int weight_stores = 0;
};
absl::StatusOr<RemovedUserData> RemoveDeletedUsersData(const std::string& name,
                                                       auth::Admission& admission,
                                                       storage::MetadataStore& store,
                                                       DatasetRegistry& datasets,
                                                       WeightStoreRegistry& weight_stores);

class AdminService final : public ParsedUnaryMethods<v1::Admin> {
 public:
  // REQUIRES: all outlive the service.
  AdminService(const CallGate* gate, auth::Authenticator* authenticator,
               storage::MetadataStore* store, DatasetRegistry* datasets,
               WeightStoreRegistry* weight_stores)
      : gate_(gate),
        authenticator_(authenticator),
        store_(store),
        datasets_(datasets),
        weight_stores_(weight_stores) {
    // A request that does not parse is refused as a call of a non-admin would be, first.
    const Entry as_admin = [this](grpc::CallbackServerContext* context) {
      return EnterAsAdmin(context).status();
    };
    ServeParsed(this, "CreateUser", as_admin, &AdminService::HandleCreateUser);
    ServeParsed(this, "DeleteUser", as_admin, &AdminService::HandleDeleteUser);
    ServeParsed(this, "SetPlan", as_admin, &AdminService::HandleSetPlan);
    ServeParsed(this, "CreateKey", as_admin, &AdminService::HandleCreateKey);
    ServeParsed(this, "ListKeys", as_admin, &AdminService::HandleListKeys);
    ServeParsed(this, "RevokeKey", as_admin, &AdminService::HandleRevokeKey);
  }

  absl::Status HandleCreateUser(grpc::CallbackServerContext* context,
                                const v1::CreateUserRequest* request,
                                v1::CreateUserResponse* response);
  absl::Status HandleDeleteUser(grpc::CallbackServerContext* context,
                                const v1::DeleteUserRequest* request,
                                v1::DeleteUserResponse* response);
  absl::Status HandleSetPlan(grpc::CallbackServerContext* context,
                             const v1::SetPlanRequest* request, v1::SetPlanResponse* response);
  absl::Status HandleCreateKey(grpc::CallbackServerContext* context,
                               const v1::CreateKeyRequest* request,
                               v1::CreateKeyResponse* response);
  absl::Status HandleListKeys(grpc::CallbackServerContext* context,
                              const v1::ListKeysRequest* request, v1::ListKeysResponse* response);
  absl::Status HandleRevokeKey(grpc::CallbackServerContext* context,
                               const v1::RevokeKeyRequest* request,
                               v1::RevokeKeyResponse* response);

 private:
  // Authenticates and admits the call and requires the admin role.
  absl::StatusOr<auth::Principal> EnterAsAdmin(grpc::CallbackServerContext* context) const;
  // Reloads the authenticator after a change; the change's status otherwise.
  absl::Status Changed(const absl::Status& change);

  const CallGate* const gate_;
  auth::Authenticator* const authenticator_;
  storage::MetadataStore* const store_;
  DatasetRegistry* const datasets_;
  WeightStoreRegistry* const weight_stores_;
};

}  // namespace urn::server

#endif  // URN_SERVER_ADMIN_SERVICE_H_
