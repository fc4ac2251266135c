// HttpExporter: serves a Registry's text exposition at GET /metrics over plain HTTP/1.1, with
// civetweb (Debian's libcivetweb). HEAD gets the same headers without the body; any other
// method on /metrics is 405, any other path 404. Two worker threads; no keep-alive, no files,
// no TLS (put a proxy in front, or keep it on a private address: metrics name no user or key).
//
// Lifecycle: Start() binds and serves; destroying the exporter stops it (waits for requests in
// flight; civetweb's idle accept loop wakes every 2 s, so the destructor connects to the port to
// wake it at once). Thread safety: port() may be called from any thread.
#ifndef URN_SERVER_METRICS_HTTP_EXPORTER_H_
#define URN_SERVER_METRICS_HTTP_EXPORTER_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "metrics/registry.h"

struct mg_connection;
struct mg_context;

namespace urn::server::metrics {

class HttpExporter {
 public:
  // Serves `registry` on `address`, HOST:PORT with an IPv4 address or a host name (this
  // civetweb has no IPv6); port 0 picks a free port. Unavailable, naming the address and the
  // reason, when it cannot be bound (in use, not an address of this host, malformed).
  // REQUIRES: `registry` outlives the exporter.
  static absl::StatusOr<std::unique_ptr<HttpExporter>> Start(const std::string& address,
                                                             const Registry* registry);
  ~HttpExporter();
  HttpExporter(const HttpExporter&) = delete;
  HttpExporter& operator=(const HttpExporter&) = delete;

  // The port bound (the one picked for port 0).
  int port() const { return port_; }

 private:
  HttpExporter(std::string address, const Registry* registry)
      : address_(std::move(address)), registry_(registry) {}
  // civetweb's callbacks; `exporter` is this.
  static int Handle(mg_connection* conn, void* exporter);
  static int LogMessage(const mg_connection* conn, const char* message);

  const std::string address_;
  const Registry* const registry_;
  mg_context* context_ = nullptr;
  int port_ = 0;
  uint32_t wake_ipv4_ = 0;  // network order; an address of the listening socket, 0: unknown
  absl::Mutex mu_;
  // civetweb's messages while starting (why a bind failed); once started, messages are logged.
  std::string start_errors_ ABSL_GUARDED_BY(mu_);
  bool started_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace urn::server::metrics

#endif  // URN_SERVER_METRICS_HTTP_EXPORTER_H_
