#include "server_info_service.h"

#include "call_auth.h"

namespace urn::server {

ServerInfoService::ServerInfoService(const CallGate* gate, bool tls)
    : gate_(gate), tls_(tls), started_(std::chrono::steady_clock::now()) {
  ServeParsed(this, "GetServerInfo", GateEntry(gate, ""), &ServerInfoService::HandleGetServerInfo);
}

absl::Status ServerInfoService::HandleGetServerInfo(grpc::CallbackServerContext* context,
                                                    const v1::GetServerInfoRequest*,
                                                    v1::GetServerInfoResponse* response) {
  if (absl::StatusOr<auth::Principal> who = gate_->Enter(*context, ""); !who.ok()) {
    return who.status();
  }
  response->set_version(URN_VERSION);
  response->set_uptime_seconds(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_)
          .count());
  response->set_tls(tls_);
  return absl::OkStatus();
}

}  // namespace urn::server
