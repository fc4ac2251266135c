#include "urn/client.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "call.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "urn/v1/datasets.grpc.pb.h"
#include "urn/v1/sampling.grpc.pb.h"
#include "urn/v1/server_info.grpc.pb.h"

namespace urn {
namespace {

using client_internal::FromGrpc;

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
  // The key goes in a header: a byte gRPC would refuse there (a line break, a CR from a file
  // saved on Windows, a tab, non-ASCII) aborts the process when the call is made. Refused here,
  // naming the byte but never the key (it is a secret).
  for (size_t i = 0; i < options.key.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(options.key[i]);
    if (c < 0x21 || c > 0x7e) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "the API key has byte 0x%02x at position %d; keys are printable ASCII without spaces "
          "(urn_<id>_<secret>)",
          c, i + 1));
    }
  }
  std::shared_ptr<grpc::ChannelCredentials> creds;
  // Any TLS file means TLS: a key alone must not fall back to plaintext.
  if (options.tls_cert.empty() != options.tls_key.empty()) {
    return absl::InvalidArgumentError("--tls-cert and --tls-key must be given together");
  }
  if (options.tls_ca.empty() && options.tls_cert.empty()) {
    creds = grpc::InsecureChannelCredentials();
  } else {
    grpc::SslCredentialsOptions ssl;
    if (!options.tls_ca.empty()) {
      absl::StatusOr<std::string> ca = ReadPem("--tls-ca", options.tls_ca);
      if (!ca.ok()) return ca.status();
      ssl.pem_root_certs = *ca;
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
  if (options.keepalive_time.count() > 0) {
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, static_cast<int>(options.keepalive_time.count()));
    args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, static_cast<int>(options.keepalive_timeout.count()));
    // Keep pinging a connection that carries no data (a stream waiting on a stalled server).
    args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  }
  // urnd's largest message: a SampleWeights batch of 65,536 draws with keys of up to 1 KiB
  // (~65 MiB), or a sample batch holding one row of several MiB.
  args.SetMaxReceiveMessageSize(kMaxReceiveBytes);
  return Client(options, grpc::CreateCustomChannel(options.server, creds, args));
}

void Client::Prepare(grpc::ClientContext& context) const {
  context.set_deadline(client_internal::DeadlineAfter(options_.timeout));
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
  absl::StatusOr<v1::GetServerInfoResponse> response =
      client_internal::Retrying<v1::GetServerInfoResponse>(
          *this, [&](grpc::ClientContext& c, v1::GetServerInfoResponse* r) {
            return stub->GetServerInfo(&c, v1::GetServerInfoRequest(), r);
          });
  if (!response.ok()) return response.status();
  return ServerInfo{response->version(), response->uptime_seconds(), response->tls()};
}

absl::StatusOr<v1::Dataset> Client::CreateDataset(
    const v1::CreateDatasetHeader& header, const std::string& path,
    const std::function<void(const UploadProgress&)>& progress) const {
  std::ifstream file;
  std::istream* in = &std::cin;
  UploadProgress done;
  if (path != "-") {
    file.open(path, std::ios::binary);
    if (!file) return absl::NotFoundError(absl::StrCat(path, ": cannot open for reading"));
    in = &file;
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (!ec) done.total_bytes = static_cast<int64_t>(size);
  }
  auto stub = v1::Datasets::NewStub(channel_);
  grpc::ClientContext context;
  if (!options_.key.empty()) context.AddMetadata("authorization", "Bearer " + options_.key);
  v1::Dataset response;
  std::unique_ptr<grpc::ClientWriter<v1::CreateDatasetRequest>> writer =
      stub->CreateDataset(&context, &response);
  v1::CreateDatasetRequest request;
  *request.mutable_header() = header;
  bool ok = writer->Write(request);
  std::string chunk(1 << 20, '\0');
  while (ok && *in) {
    in->read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    const std::streamsize n = in->gcount();
    if (n <= 0) break;
    request.set_data(chunk.data(), static_cast<size_t>(n));
    ok = writer->Write(request);
    if (!ok) break;  // the server ended the upload (its status comes from Finish)
    done.bytes_sent += n;
    if (progress) {
      done.lines_sent += std::count(chunk.data(), chunk.data() + n, '\n');
      progress(done);
    }
  }
  if (in->bad()) {
    context.TryCancel();
    // Local, not the server's: retrying would not help (so not Unavailable).
    return absl::DataLossError(
        absl::StrCat(path, ": read error; the upload was cancelled and nothing was stored"));
  }
  writer->WritesDone();
  grpc::Status s = writer->Finish();
  if (!s.ok()) return FromGrpc(s);
  return response;
}

absl::StatusOr<v1::Dataset> Client::GetDataset(const std::string& name) const {
  auto stub = v1::Datasets::NewStub(channel_);
  v1::GetDatasetRequest request;
  request.set_name(name);
  return client_internal::Retrying<v1::Dataset>(*this, [&](grpc::ClientContext& c, v1::Dataset* r) {
    return stub->GetDataset(&c, request, r);
  });
}

absl::StatusOr<std::vector<v1::Dataset>> Client::ListDatasets() const {
  auto stub = v1::Datasets::NewStub(channel_);
  std::vector<v1::Dataset> out;
  v1::ListDatasetsRequest request;
  request.set_page_size(1000);
  for (;;) {
    absl::StatusOr<v1::ListDatasetsResponse> response =
        client_internal::Retrying<v1::ListDatasetsResponse>(
            *this, [&](grpc::ClientContext& c, v1::ListDatasetsResponse* r) {
              return stub->ListDatasets(&c, request, r);
            });
    if (!response.ok()) return response.status();
    for (v1::Dataset& d : *response->mutable_datasets()) out.push_back(std::move(d));
    if (response->next_page_token().empty()) return out;
    request.set_page_token(response->next_page_token());
  }
}

absl::Status Client::DeleteDataset(const std::string& name) const {
  auto stub = v1::Datasets::NewStub(channel_);
  grpc::ClientContext context;
  Prepare(context);
  v1::DeleteDatasetRequest request;
  request.set_name(name);
  v1::DeleteDatasetResponse response;
  return FromGrpc(stub->DeleteDataset(&context, request, &response));
}

void StreamCanceller::Cancel() {
  absl::MutexLock lock(&mu_);
  cancelled_ = true;
  if (context_ != nullptr) context_->TryCancel();
}

bool StreamCanceller::cancelled() const {
  absl::MutexLock lock(&mu_);
  return cancelled_;
}

void StreamCanceller::Attach(grpc::ClientContext* context) {
  absl::MutexLock lock(&mu_);
  context_ = context;
  if (cancelled_) context->TryCancel();
}

void StreamCanceller::Detach() {
  absl::MutexLock lock(&mu_);
  context_ = nullptr;
}

namespace client_internal {

CancelScope::CancelScope(StreamCanceller* canceller, grpc::ClientContext* context)
    : canceller_(canceller) {
  if (canceller_ != nullptr) canceller_->Attach(context);
}

CancelScope::~CancelScope() {
  if (canceller_ != nullptr) canceller_->Detach();
}

absl::Status CancelScope::Status(absl::Status status) const {
  if (canceller_ != nullptr && canceller_->cancelled() && !status.ok()) {
    return absl::CancelledError("cancelled by the caller (StreamCanceller)");
  }
  return status;
}

}  // namespace client_internal

namespace {

template <typename Batch, typename Reader>
absl::Status Drain(grpc::ClientContext& context, Reader& reader,
                   const std::function<bool(const Batch&)>& on_batch) {
  Batch batch;
  while (reader->Read(&batch)) {
    if (!on_batch(batch)) {
      context.TryCancel();
      reader->Finish();
      return absl::CancelledError("stopped by the caller");
    }
  }
  return FromGrpc(reader->Finish());
}

}  // namespace

absl::Status Client::Sample(const v1::SampleRequest& request,
                            const std::function<bool(const v1::SampleBatch&)>& on_batch,
                            StreamCanceller* cancel) const {
  auto stub = v1::Sampling::NewStub(channel_);
  grpc::ClientContext context;
  if (!options_.key.empty()) context.AddMetadata("authorization", "Bearer " + options_.key);
  const client_internal::CancelScope scope(cancel, &context);
  auto reader = stub->Sample(&context, request);
  return scope.Status(Drain<v1::SampleBatch>(context, reader, on_batch));
}

absl::Status Client::Shuffle(const v1::ShuffleRequest& request,
                             const std::function<bool(const v1::ShuffleBatch&)>& on_batch,
                             StreamCanceller* cancel) const {
  auto stub = v1::Sampling::NewStub(channel_);
  grpc::ClientContext context;
  if (!options_.key.empty()) context.AddMetadata("authorization", "Bearer " + options_.key);
  const client_internal::CancelScope scope(cancel, &context);
  auto reader = stub->Shuffle(&context, request);
  return scope.Status(Drain<v1::ShuffleBatch>(context, reader, on_batch));
}

}  // namespace urn
