// urn::Client's administration and usage calls.
#include <grpcpp/grpcpp.h>

#include "call.h"
#include "urn/client.h"
#include "urn/v1/admin.grpc.pb.h"
#include "urn/v1/usage.grpc.pb.h"

namespace urn {
namespace {

using client_internal::FromGrpc;

// One unary call of `method` on a fresh stub, with the client's deadline and key.
template <typename Stub, typename Request, typename Response, typename Method>
absl::StatusOr<Response> Call(const Client& client, Method method, const Request& request) {
  auto stub = Stub(client.channel());
  grpc::ClientContext context;
  client.Prepare(context);
  Response response;
  grpc::Status s = (stub.*method)(&context, request, &response);
  if (!s.ok()) return FromGrpc(s);
  return response;
}

using AdminStub = v1::Admin::Stub;

}  // namespace

absl::StatusOr<v1::CreateUserResponse> Client::CreateUser(const std::string& name,
                                                          const std::string& plan) const {
  v1::CreateUserRequest r;
  r.set_name(name);
  r.set_plan(plan);
  return Call<AdminStub, v1::CreateUserRequest, v1::CreateUserResponse>(*this,
                                                                        &AdminStub::CreateUser, r);
}

absl::StatusOr<v1::DeleteUserResponse> Client::DeleteUser(const std::string& name) const {
  v1::DeleteUserRequest r;
  r.set_name(name);
  return Call<AdminStub, v1::DeleteUserRequest, v1::DeleteUserResponse>(*this,
                                                                        &AdminStub::DeleteUser, r);
}

absl::Status Client::SetPlan(const std::string& name, const std::string& plan) const {
  v1::SetPlanRequest r;
  r.set_name(name);
  r.set_plan(plan);
  return Call<AdminStub, v1::SetPlanRequest, v1::SetPlanResponse>(*this, &AdminStub::SetPlan, r)
      .status();
}

absl::StatusOr<v1::CreateKeyResponse> Client::CreateKey(const std::string& user) const {
  v1::CreateKeyRequest r;
  r.set_user(user);
  return Call<AdminStub, v1::CreateKeyRequest, v1::CreateKeyResponse>(*this, &AdminStub::CreateKey,
                                                                      r);
}

absl::StatusOr<std::vector<v1::KeyInfo>> Client::ListKeys(const std::string& user) const {
  v1::ListKeysRequest r;
  r.set_user(user);
  AdminStub stub(channel_);
  absl::StatusOr<v1::ListKeysResponse> keys = client_internal::Retrying<v1::ListKeysResponse>(
      *this,
      [&](grpc::ClientContext& c, v1::ListKeysResponse* out) { return stub.ListKeys(&c, r, out); });
  if (!keys.ok()) return keys.status();
  return std::vector<v1::KeyInfo>(keys->keys().begin(), keys->keys().end());
}

absl::Status Client::RevokeKey(const std::string& key_id) const {
  v1::RevokeKeyRequest r;
  r.set_key_id(key_id);
  return Call<AdminStub, v1::RevokeKeyRequest, v1::RevokeKeyResponse>(*this, &AdminStub::RevokeKey,
                                                                      r)
      .status();
}

absl::StatusOr<v1::GetUsageResponse> Client::GetUsage() const {
  v1::Usage::Stub stub(channel_);
  return client_internal::Retrying<v1::GetUsageResponse>(
      *this, [&](grpc::ClientContext& c, v1::GetUsageResponse* out) {
        return stub.GetUsage(&c, v1::GetUsageRequest(), out);
      });
}

}  // namespace urn
