#include "server_info_service.h"

namespace urn::server {

ServerInfoService::ServerInfoService(bool tls)
    : tls_(tls), started_(std::chrono::steady_clock::now()) {}

grpc::ServerUnaryReactor* ServerInfoService::GetServerInfo(grpc::CallbackServerContext* context,
                                                           const v1::GetServerInfoRequest*,
                                                           v1::GetServerInfoResponse* response) {
  response->set_version(URN_VERSION);
  response->set_uptime_seconds(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_)
          .count());
  response->set_tls(tls_);
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace urn::server
