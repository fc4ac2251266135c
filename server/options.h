// ServerOptions: everything urnd is configured with, from flags and an optional YAML config
// file (`--config`). Flags given on the command line win over the file.
#ifndef URN_SERVER_OPTIONS_H_
#define URN_SERVER_OPTIONS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace urn::server {

enum class LogFormat { kText, kJson };

struct ServerOptions {
  // host:port to serve gRPC on. Default: loopback only.
  std::string listen = "127.0.0.1:50051";
  // host:port to serve Prometheus metrics on over plain HTTP (GET /metrics,
  // metrics/metrics.h). Empty: no metrics endpoint.
  std::string metrics_listen;
  // Where metadata, datasets and weight stores live; created if missing.
  std::string data_dir = "./urn-data";
  // Optional YAML file with the same keys as the flags (listen, data_dir, log_level,
  // log_format, tls_cert, tls_key, tls_client_ca, admin_key_file, shutdown_grace_seconds, fsync,
  // fsync_interval_seconds, max_store_slots, snapshot_log_bytes, metrics_listen, work_threads,
  // memory_budget).
  std::string config;
  // trace, debug, info, warn, error, critical, off.
  std::string log_level = "info";
  LogFormat log_format = LogFormat::kText;
  // PEM server certificate and private key; both or neither. Neither means plaintext.
  std::string tls_cert;
  std::string tls_key;
  // Serve without TLS on an address other than loopback (plaintext on loopback needs no flag).
  bool plaintext = false;
  // PEM CA bundle: require client certificates signed by it (mutual TLS). Needs --tls-cert.
  std::string tls_client_ca;
  // A file holding the admin key to install on first start instead of generating one.
  std::string admin_key_file;
  // How long running streams may take to finish after SIGTERM before they are cancelled.
  double shutdown_grace_seconds = 5.0;
  // Priority updates: fsync every acknowledged batch (always), or every fsync_interval_seconds
  // (interval; a host crash may lose that much, a process crash nothing).
  bool fsync_always = false;
  double fsync_interval_seconds = 1.0;
  // A weight store is snapshotted (and its log truncated) once its log since the last snapshot
  // exceeds this many bytes, or twice the size of a snapshot of it if that is more.
  int64_t snapshot_log_bytes = int64_t{64} << 20;
  // The largest weight store capacity accepted (memory is ~26 bytes per slot).
  int64_t max_store_slots = int64_t{1} << 28;
  // Bytes that all users' datasets and weight stores may hold together (MemoryBudget); 0: no
  // limit beyond each plan's.
  int64_t memory_budget = 0;
  // Threads of the work pool, which runs samples that may take O(rows) time and upload parsing
  // at low priority (so that short calls keep their latency); 0: one per core, at least 2.
  int64_t work_threads = 0;
};

// Parses argv (and the config file it names). Returns InvalidArgument with a message fit for
// the user on bad input. `--help` yields Cancelled with the help text as the message.
absl::StatusOr<ServerOptions> ParseServerOptions(int argc, char** argv);

}  // namespace urn::server

#endif  // URN_SERVER_OPTIONS_H_
