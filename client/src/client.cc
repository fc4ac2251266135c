#include "urn/client.h"

#include <grpcpp/grpcpp.h>

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "urn/v1/server_info.grpc.pb.h"

namespace urn {
namespace {

absl::Status FromGrpc(const grpc::Status& s) {
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
}

absl::StatusOr<std::string> ReadPem(const std::string& what, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InvalidArgumentError(absl::StrCat(what, ": cannot read ", path));
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

}  // namespace

Client::Client(ClientOptions options, std::shared_ptr<grpc::Channel> channel)
    : options_(std::move(options)), channel_(std::move(channel)) {}

absl::StatusOr<Client> Client::Connect(const ClientOptions& options) {
  if (options.server.empty()) return absl::InvalidArgumentError("server address is empty");
  std::shared_ptr<grpc::ChannelCredentials> creds;
  if (options.tls_ca.empty() && options.tls_cert.empty()) {
    creds = grpc::InsecureChannelCredentials();
  } else {
    grpc::SslCredentialsOptions ssl;
    if (!options.tls_ca.empty()) {
      absl::StatusOr<std::string> ca = ReadPem("--tls-ca", options.tls_ca);
      if (!ca.ok()) return ca.status();
      ssl.pem_root_certs = *ca;
    }
    if (options.tls_cert.empty() != options.tls_key.empty()) {
      return absl::InvalidArgumentError("--tls-cert and --tls-key must be given together");
    }
    if (!options.tls_cert.empty()) {
      absl::StatusOr<std::string> cert = ReadPem("--tls-cert", options.tls_cert);
      if (!cert.ok()) return cert.status();
      absl::StatusOr<std::string> key = ReadPem("--tls-key", options.tls_key);
      if (!key.ok()) return key.status();
      ssl.pem_cert_chain = *cert;
      ssl.pem_private_key = *key;
    }
    creds = grpc::SslCredentials(ssl);
  }
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  return Client(options, grpc::CreateCustomChannel(options.server, creds, args));
}

void Client::Prepare(grpc::ClientContext& context) const {
  context.set_deadline(std::chrono::system_clock::now() + options_.timeout);
  if (!options_.key.empty()) context.AddMetadata("authorization", "Bearer " + options_.key);
}

absl::StatusOr<bool> Client::Healthy(const std::string& service) const {
  auto stub = grpc::health::v1::Health::NewStub(channel_);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + options_.timeout);
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  grpc::health::v1::HealthCheckResponse response;
  grpc::Status s = stub->Check(&context, request, &response);
  if (!s.ok()) return FromGrpc(s);
  return response.status() == grpc::health::v1::HealthCheckResponse::SERVING;
}

absl::StatusOr<ServerInfo> Client::GetServerInfo() const {
  auto stub = v1::ServerInfo::NewStub(channel_);
  grpc::ClientContext context;
  Prepare(context);
  v1::GetServerInfoResponse response;
  grpc::Status s = stub->GetServerInfo(&context, v1::GetServerInfoRequest(), &response);
  if (!s.ok()) return FromGrpc(s);
  return ServerInfo{response.version(), response.uptime_seconds(), response.tls()};
}

}  // namespace urn
