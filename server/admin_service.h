// urn.v1.Admin: user administration, for admin keys only (others get PERMISSION_DENIED).
#ifndef URN_SERVER_ADMIN_SERVICE_H_
#define URN_SERVER_ADMIN_SERVICE_H_

#include "auth/authenticator.h"
#include "call_auth.h"
#include "storage/metadata_store.h"
#include "urn/v1/admin.grpc.pb.h"

namespace urn::server {

class AdminService final : public v1::Admin::CallbackService {
 public:
  // REQUIRES: both outlive the service.
  AdminService(const CallGate* gate, auth::Authenticator* authenticator,
               storage::MetadataStore* store)
      : gate_(gate), authenticator_(authenticator), store_(store) {}

  grpc::ServerUnaryReactor* CreateUser(grpc::CallbackServerContext* context,
                                       const v1::CreateUserRequest* request,
                                       v1::CreateUserResponse* response) override;

 private:
  const CallGate* const gate_;
  auth::Authenticator* const authenticator_;
  storage::MetadataStore* const store_;
};

}  // namespace urn::server

#endif  // URN_SERVER_ADMIN_SERVICE_H_
