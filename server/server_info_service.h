// urn.v1.ServerInfo: version and uptime.
#ifndef URN_SERVER_SERVER_INFO_SERVICE_H_
#define URN_SERVER_SERVER_INFO_SERVICE_H_

#include <chrono>

#include "call_auth.h"
#include "parsed_unary.h"
#include "urn/v1/server_info.grpc.pb.h"

namespace urn::server {

class ServerInfoService final : public ParsedUnaryMethods<v1::ServerInfo> {
 public:
  // REQUIRES: `gate` outlives the service.
  ServerInfoService(const CallGate* gate, bool tls);

  absl::Status HandleGetServerInfo(grpc::CallbackServerContext* context,
                                   const v1::GetServerInfoRequest* request,
                                   v1::GetServerInfoResponse* response);

 private:
  const CallGate* const gate_;
  const bool tls_;
  const std::chrono::steady_clock::time_point started_;
};

}  // namespace urn::server

#endif  // URN_SERVER_SERVER_INFO_SERVICE_H_
