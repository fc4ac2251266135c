// UrnServer: urnd's process-level object. Opens the data directory, bootstraps the admin
// user, builds the gRPC server (urn.v1 services, grpc.health.v1.Health, reflection) and shuts
// it down gracefully. A maintenance thread fsyncs the priority log every --fsync-interval,
// and another snapshots weight stores whose log has grown (WeightStoreRegistry::SnapshotDue),
// so that a long snapshot never delays the fsync.
// Every call is counted by the metrics interceptor; with --metrics-listen, the metrics are
// served over HTTP from when gRPC is up until Shutdown() (metrics/metrics.h).
//
// Lifecycle: Start() once, then Shutdown() once from any thread; Wait() returns after
// Shutdown() has drained the server. Not copyable.
#ifndef URN_SERVER_URN_SERVER_H_
#define URN_SERVER_URN_SERVER_H_

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "auth/admission.h"
#include "auth/authenticator.h"
#include "call_auth.h"
#include "datasets/dataset_registry.h"
#include "metrics/http_exporter.h"
#include "metrics/metrics.h"
#include "options.h"
#include "sampling/sampling_service.h"
#include "storage/metadata_store.h"
#include "weights/weight_store_registry.h"
#include "weights/weight_stores_service.h"
#include "work_pool.h"

namespace urn::server {

class UrnServer {
 public:
  explicit UrnServer(ServerOptions options);
  ~UrnServer();
  UrnServer(const UrnServer&) = delete;
  UrnServer& operator=(const UrnServer&) = delete;

  // Prepares the data directory and starts serving. Errors name what is wrong: an unusable
  // data directory (FailedPrecondition), a directory held by another urnd, unreadable TLS
  // files (InvalidArgument), or a listen or metrics address that cannot be bound (Unavailable).
  absl::Status Start();

  // The port actually bound (useful with --listen HOST:0). REQUIRES: Start() succeeded.
  int port() const { return port_; }
  // The metrics port bound (--metrics-listen HOST:0 picks one); 0 without --metrics-listen.
  // REQUIRES: Start() succeeded.
  int metrics_port() const { return metrics_port_; }

  // Marks health NOT_SERVING, stops accepting calls, gives running calls `grace` to finish and
  // cancels the rest. Safe to call once from any thread.
  void Shutdown(std::chrono::milliseconds grace);

  // Reads the plans from --config again (SIGHUP, or the file changed); on error keeps the
  // current plans and logs why.
  void ReloadPlans();

  // Blocks until the server has shut down.
  void Wait();

  // The pool that runs work too long for gRPC's threads, so that a test can occupy it.
  // REQUIRES: Start() succeeded.
  WorkPool& work_pool_for_testing() { return *work_pool_; }
  // The datasets, so that a test can pause an upload's commit (SetBeforeCommitForTesting).
  DatasetRegistry& datasets_for_testing() { return *datasets_; }
  // The weight stores, so that a test can pause a creation (SetBeforeRegisterForTesting).
  WeightStoreRegistry& weight_stores_for_testing() { return *weight_stores_; }
  // The weight stores' service, so that a test can step into a draw (SetBeforeDrawForTesting).
  WeightStoresService& weight_stores_service_for_testing() { return *weight_stores_service_; }
  // The sampling service, so that a test can step into a sample (SetBeforeBeginForTesting).
  SamplingService& sampling_service_for_testing() { return *sampling_service_; }

 private:
  absl::Status PrepareDataDir();
  void Maintain();
  void Snapshot();
  void StopMaintenance();

  const ServerOptions options_;
  metrics::ServerMetrics metrics_;  // first: everything below may record into it
  std::unique_ptr<storage::MetadataStore> metadata_;
  std::unique_ptr<auth::Authenticator> authenticator_;
  std::unique_ptr<auth::Admission> admission_;
  std::unique_ptr<CallGate> gate_;
  std::unique_ptr<MemoryBudget> memory_budget_;
  int64_t config_mtime_ ABSL_GUARDED_BY(maintenance_mu_) = 0;
  // A new modification time seen once; reloaded when the next check sees it again.
  int64_t pending_config_mtime_ ABSL_GUARDED_BY(maintenance_mu_) = 0;
  std::unique_ptr<DatasetRegistry> datasets_;
  std::unique_ptr<WeightStoreRegistry> weight_stores_;
  absl::Mutex maintenance_mu_;
  bool stopping_ ABSL_GUARDED_BY(maintenance_mu_) = false;
  bool reported_broken_ = false;  // the maintenance thread's alone
  std::thread maintenance_;
  std::thread snapshots_;
  // Work too long for gRPC's callback threads (work_pool.h); idle once grpc_server_ has shut
  // down, so it may go after the services that use it.
  std::unique_ptr<WorkPool> work_pool_;
  std::vector<std::unique_ptr<grpc::Service>> services_;
  WeightStoresService* weight_stores_service_ = nullptr;  // one of services_
  SamplingService* sampling_service_ = nullptr;           // one of services_
  std::unique_ptr<grpc::Server> grpc_server_;
  int port_ = 0;
  std::unique_ptr<metrics::HttpExporter> metrics_http_;  // with --metrics-listen
  int metrics_port_ = 0;
};

}  // namespace urn::server

#endif  // URN_SERVER_URN_SERVER_H_
