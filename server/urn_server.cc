#include "urn_server.h"

#include <grpcpp/health_check_service_interface.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>
#include <thread>

#include "absl/strings/str_cat.h"
#include "admin_service.h"
#include "auth/bootstrap.h"
#include "auth/users.h"
#include "call_auth.h"
#include "datasets/datasets_service.h"
#include "metrics/interceptor.h"
#include "reflection_service.h"
#include "sampling/sampling_service.h"
#include "server_info_service.h"
#include "usage_service.h"
#include "weights/weight_stores_service.h"

namespace urn::server {
namespace {

// Threads of the work pool (--work-threads): as many heavy samples run at once (each itself on
// up to two threads); the rest wait their turn, holding their stream quota. They run at nice 10
// (about a tenth of a nice-0 thread's CPU share when both want it), so that short calls keep
// their latency while long ones run.
int WorkThreads(int64_t requested) {
  if (requested > 0) return static_cast<int>(requested);
  return std::max(2, static_cast<int>(std::thread::hardware_concurrency()));
}
constexpr int kWorkNice = 10;

absl::StatusOr<std::string> ReadFile(const std::string& flag, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InvalidArgumentError(absl::StrCat(flag, ": cannot read ", path));
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

// The config file's modification time in nanoseconds (0 when there is none).
int64_t ConfigMtime(const std::string& path) {
  if (path.empty()) return 0;
  std::error_code ec;
  const auto t = std::filesystem::last_write_time(path, ec);
  return ec ? 0 : static_cast<int64_t>(t.time_since_epoch().count());
}

}  // namespace

UrnServer::UrnServer(ServerOptions options) : options_(std::move(options)) {}

UrnServer::~UrnServer() {
  metrics_http_.reset();
  if (grpc_server_) {
    grpc_server_->Shutdown(std::chrono::system_clock::now());
    grpc_server_->Wait();
  }
  StopMaintenance();
}

void UrnServer::Maintain() {
  const auto interval = absl::Seconds(options_.fsync_interval_seconds);
  absl::MutexLock lock(&maintenance_mu_);
  while (!maintenance_mu_.AwaitWithTimeout(absl::Condition(&stopping_), interval)) {
    maintenance_mu_.Unlock();
    if (absl::Status s = weight_stores_->SyncLog(); !s.ok()) {
      spdlog::error("fsync of the priority log failed: {}", std::string(s.message()));
    }
    if (!reported_broken_) {
      if (absl::Status broken = metadata_->broken(); !broken.ok()) {
        // Every write fails until a restart: health says so, so that an orchestrator restarts
        // urnd (and a load balancer sends callers elsewhere) instead of waiting.
        spdlog::critical("{}; health is NOT_SERVING", std::string(broken.message()));
        grpc_server_->GetHealthCheckService()->SetServingStatus(false);
        reported_broken_ = true;
      }
    }
    maintenance_mu_.Lock();
    // A changed config is read once its modification time held for a whole interval: a file
    // being rewritten (truncated, then written) is never read half-written. (An empty file
    // would otherwise load the default plans, taking custom plans from their users.)
    if (const int64_t mtime = ConfigMtime(options_.config); mtime != config_mtime_) {
      if (mtime != pending_config_mtime_) {
        pending_config_mtime_ = mtime;
      } else {
        config_mtime_ = mtime;
        maintenance_mu_.Unlock();
        ReloadPlans();
        maintenance_mu_.Lock();
      }
    }
  }
}

// Snapshots copy whole stores (seconds at 2^28 slots), so they run here, beside Maintain():
// on its thread they delayed the interval's fsync by as long, and acknowledged updates could
// wait several intervals to be synced.
void UrnServer::Snapshot() {
  const auto interval = absl::Seconds(options_.fsync_interval_seconds);
  absl::MutexLock lock(&maintenance_mu_);
  while (!maintenance_mu_.AwaitWithTimeout(absl::Condition(&stopping_), interval)) {
    maintenance_mu_.Unlock();
    weight_stores_->SnapshotDue();
    maintenance_mu_.Lock();
  }
}

void UrnServer::ReloadPlans() {
  if (options_.config.empty() || !admission_) return;
  absl::StatusOr<auth::Plans> plans = auth::LoadPlans(options_.config);
  if (!plans.ok()) {
    spdlog::error("plans not reloaded, the current ones stay: {}",
                  std::string(plans.status().message()));
    return;
  }
  const size_t count = plans->size();
  admission_->SetPlans(*std::move(plans));
  spdlog::info("plans reloaded from {}: {} plans", options_.config, count);
}

void UrnServer::StopMaintenance() {
  if (!maintenance_.joinable()) return;
  {
    absl::MutexLock lock(&maintenance_mu_);
    stopping_ = true;
  }
  maintenance_.join();
  snapshots_.join();
  // What was acknowledged survives a host crash after a clean stop, also with --fsync=interval.
  if (absl::Status s = weight_stores_->SyncLog(); !s.ok()) {
    spdlog::error("final fsync of the priority log failed: {}", std::string(s.message()));
  }
}

absl::Status UrnServer::PrepareDataDir() {
  namespace fs = std::filesystem;
  const fs::path dir(options_.data_dir);
  std::error_code ec;
  // The datasets, weight stores and usage of every tenant are readable by urnd's user only: a
  // data directory urnd creates, and the database's directory in any, are 0700.
  const bool created = fs::create_directories(dir, ec);
  if (created) fs::permissions(dir, fs::perms::owner_all, ec);
  if (ec || !fs::is_directory(dir)) {
    return absl::FailedPreconditionError(
        absl::StrCat("--data-dir ", options_.data_dir, ": not a usable directory",
                     ec ? absl::StrCat(" (", ec.message(), ")") : std::string()));
  }
  if (::access(dir.c_str(), R_OK | W_OK | X_OK) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("--data-dir ", options_.data_dir, ": not readable and writable by this user"));
  }
  HideOnWire(options_.data_dir);
  fs::create_directory(dir / "meta", ec);
  fs::permissions(dir / "meta", fs::perms::owner_all, ec);
  if (ec) {
    return absl::FailedPreconditionError(absl::StrCat(
        "--data-dir ", options_.data_dir, ": cannot make meta/ private (", ec.message(), ")"));
  }
  absl::StatusOr<std::unique_ptr<storage::MetadataStore>> store =
      storage::MetadataStore::Open((dir / "meta").string());
  if (!store.ok()) {
    if (absl::IsFailedPrecondition(store.status())) {
      return absl::FailedPreconditionError(absl::StrCat(
          "--data-dir ", options_.data_dir, ": already in use by another urnd process"));
    }
    return store.status();
  }
  metadata_ = *std::move(store);
  if (absl::Status s = auth::EnsureAdmin(*metadata_, options_.data_dir, options_.admin_key_file);
      !s.ok()) {
    return s;
  }
  authenticator_ = std::make_unique<auth::Authenticator>(metadata_.get());
  if (absl::Status s = authenticator_->Invalidate(); !s.ok()) return s;
  absl::StatusOr<auth::Plans> plans = auth::LoadPlans(options_.config);
  if (!plans.ok()) return plans.status();
  admission_ =
      std::make_unique<auth::Admission>(metadata_.get(), *std::move(plans), absl::Now, &metrics_);
  gate_ = std::make_unique<CallGate>(authenticator_.get(), admission_.get());
  // Read only while serving, after the registries below are loaded.
  memory_budget_ = std::make_unique<MemoryBudget>(options_.memory_budget, [this] {
    return datasets_->MemoryBytes() + weight_stores_->MemoryBytes() +
           (sampling_service_ != nullptr ? sampling_service_->AliasCacheBytes() : 0);
  });
  memory_budget_->SetPerUser(
      [this](const std::string& user) {
        return datasets_->MemoryBytes(user) + weight_stores_->MemoryBytes(user);
      },
      [this](const auth::Principal& who, int64_t more, std::string_view what,
             const std::function<int64_t()>& held) {
        return admission_->CheckMemory(who, more, what, held);
      });
  // Cached alias tables give way to whatever the budget would otherwise refuse.
  memory_budget_->SetShed([this](int64_t need, MemoryBudget::Graveyard* freed) {
    if (sampling_service_ != nullptr) sampling_service_->ShedAliasCache(need, freed);
  });
  gate_->set_memory_budget(memory_budget_.get());
  {
    absl::MutexLock lock(&maintenance_mu_);
    config_mtime_ = ConfigMtime(options_.config);
  }
  datasets_ = std::make_unique<DatasetRegistry>(metadata_.get());
  if (absl::Status s = datasets_->Load(); !s.ok()) return s;
  weight_stores_ = std::make_unique<WeightStoreRegistry>(
      metadata_.get(),
      storage::DurableWeightStore::Config{.sync_every_write = options_.fsync_always,
                                          .chunk_slots = uint64_t{1} << 16},
      static_cast<uint64_t>(options_.snapshot_log_bytes));
  if (absl::Status s = weight_stores_->Load(); !s.ok()) return s;
  // A user deletion that a crash cut short: its data goes before anyone can call.
  absl::StatusOr<std::vector<std::string>> unfinished = auth::UnfinishedUserDeletions(*metadata_);
  if (!unfinished.ok()) return unfinished.status();
  for (const std::string& name : *unfinished) {
    absl::StatusOr<RemovedUserData> removed =
        RemoveDeletedUsersData(name, *admission_, *metadata_, *datasets_, *weight_stores_);
    if (!removed.ok()) return removed.status();
    spdlog::info("finished deleting user '{}': {} datasets, {} weight stores", name,
                 removed->datasets, removed->weight_stores);
  }
  metrics_.AddStateGauges([this] { return static_cast<double>(datasets_->CountAll()); },
                          [this] { return static_cast<double>(weight_stores_->CountAll()); });
  return absl::OkStatus();
}

absl::Status UrnServer::Start() {
  if (absl::Status s = PrepareDataDir(); !s.ok()) return s;

  std::shared_ptr<grpc::ServerCredentials> creds;
  const bool tls = !options_.tls_cert.empty();
  if (tls) {
    absl::StatusOr<std::string> cert = ReadFile("--tls-cert", options_.tls_cert);
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key = ReadFile("--tls-key", options_.tls_key);
    if (!key.ok()) return key.status();
    grpc::SslServerCredentialsOptions ssl(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
    ssl.pem_key_cert_pairs.push_back({*key, *cert});
    if (!options_.tls_client_ca.empty()) {
      absl::StatusOr<std::string> ca = ReadFile("--tls-client-ca", options_.tls_client_ca);
      if (!ca.ok()) return ca.status();
      ssl.pem_root_certs = *ca;
      ssl.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
    }
    creds = grpc::SslServerCredentials(ssl);
  } else {
    creds = grpc::InsecureServerCredentials();
  }

  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  builder.SetMaxReceiveMessageSize(4 << 20);
  // gRPC sets SO_REUSEPORT by default, which would let a second urnd share a busy port.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  // Keepalive pings from clients with a call open (urn's send one after 30 s of silence) are
  // welcome every 10 s; faster ones still earn gRPC's strikes and a GOAWAY.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10000);
  builder.AddListeningPort(options_.listen, creds, &port_);
  // Every service with its full name, which reflection lists.
  std::vector<std::string> names = {
      "grpc.health.v1.Health", grpc::reflection::v1alpha::ServerReflection::service_full_name()};
  const auto add = [&](std::unique_ptr<grpc::Service> service, const char* name) {
    services_.push_back(std::move(service));
    names.push_back(name);
  };
  add(std::make_unique<ServerInfoService>(gate_.get(), tls), v1::ServerInfo::service_full_name());
  work_pool_ = std::make_unique<WorkPool>(WorkThreads(options_.work_threads), kWorkNice);
  add(std::make_unique<DatasetsService>(gate_.get(), datasets_.get(), work_pool_.get()),
      v1::Datasets::service_full_name());
  auto sampling_service = std::make_unique<SamplingService>(gate_.get(), datasets_.get(),
                                                            work_pool_.get(), /*threads=*/2);
  sampling_service_ = sampling_service.get();
  datasets_->SetOnDelete(
      [this](const std::string& upload_id) { sampling_service_->ForgetTable(upload_id); });
  add(std::move(sampling_service), v1::Sampling::service_full_name());
  add(std::make_unique<AdminService>(gate_.get(), authenticator_.get(), metadata_.get(),
                                     datasets_.get(), weight_stores_.get()),
      v1::Admin::service_full_name());
  add(std::make_unique<UsageService>(gate_.get(), datasets_.get(), weight_stores_.get()),
      v1::Usage::service_full_name());
  auto weight_stores_service = std::make_unique<WeightStoresService>(
      gate_.get(), weight_stores_.get(), options_.max_store_slots, &metrics_);
  weight_stores_service_ = weight_stores_service.get();
  add(std::move(weight_stores_service), v1::WeightStores::service_full_name());
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> observers;
  observers.push_back(std::make_unique<metrics::CallMetricsFactory>(&metrics_, names));
  builder.experimental().SetInterceptorCreators(std::move(observers));
  services_.push_back(std::make_unique<ReflectionService>(gate_.get(), names));
  for (auto& service : services_) {
    // urnd serves callback methods only (it runs no synchronous-server threads); a method left
    // synchronous, e.g. a unary one added to a proto but not to ServeParsed, would answer
    // UNIMPLEMENTED to every call.
    if (service->has_synchronous_methods()) {
      return absl::InternalError("a service has a method that is not served (synchronous)");
    }
    builder.RegisterService(service.get());
  }
  grpc_server_ = builder.BuildAndStart();
  if (!grpc_server_ || port_ == 0) {
    grpc_server_.reset();
    return absl::UnavailableError(absl::StrCat(
        "cannot listen on ", options_.listen,
        ": the address is in use or not available on this host (try another --listen)"));
  }
  if (!options_.metrics_listen.empty()) {
    absl::StatusOr<std::unique_ptr<metrics::HttpExporter>> http =
        metrics::HttpExporter::Start(options_.metrics_listen, &metrics_.registry);
    if (!http.ok()) {
      grpc_server_->Shutdown(std::chrono::system_clock::now());
      grpc_server_->Wait();
      grpc_server_.reset();
      return absl::UnavailableError(
          absl::StrCat("--metrics-listen: ", std::string(http.status().message())));
    }
    metrics_http_ = *std::move(http);
    metrics_port_ = metrics_http_->port();
    spdlog::info("metrics at http://{}:{}/metrics",
                 options_.metrics_listen.substr(0, options_.metrics_listen.rfind(':')),
                 metrics_port_);
  }
  maintenance_ = std::thread([this] { Maintain(); });
  snapshots_ = std::thread([this] { Snapshot(); });
  // The server as a whole ("") and each of its services by name (`urn health --service`).
  grpc_server_->GetHealthCheckService()->SetServingStatus(true);
  for (const std::string& name : names) {
    grpc_server_->GetHealthCheckService()->SetServingStatus(name, true);
  }
  if (tls) {
    spdlog::info("urnd {} serving on {} ({}), data in {}", URN_VERSION, options_.listen,
                 options_.tls_client_ca.empty() ? "TLS" : "mutual TLS", options_.data_dir);
  } else {
    spdlog::warn("urnd {} serving on {} in PLAINTEXT (no --tls-cert), data in {}", URN_VERSION,
                 options_.listen, options_.data_dir);
  }
  return absl::OkStatus();
}

void UrnServer::Shutdown(std::chrono::milliseconds grace) {
  if (!grpc_server_) return;
  grpc_server_->GetHealthCheckService()->SetServingStatus(false);
  grpc_server_->Shutdown(std::chrono::system_clock::now() + grace);
  metrics_http_.reset();  // scrapes see the calls of the grace period
}

void UrnServer::Wait() {
  if (grpc_server_) grpc_server_->Wait();
  StopMaintenance();
}

}  // namespace urn::server
