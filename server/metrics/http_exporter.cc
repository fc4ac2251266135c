#include "metrics/http_exporter.h"

#include <arpa/inet.h>
#include <civetweb.h>
#include <netdb.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string_view>
#include <thread>

#include "absl/strings/str_cat.h"

namespace urn::server::metrics {
namespace {

constexpr char kContentType[] = "text/plain; version=0.0.4; charset=utf-8";

// Sends a whole response; the body only when `with_body` (not for HEAD).
void Reply(mg_connection* conn, int status, const char* content_type, std::string_view body,
           bool with_body, const char* allow = nullptr) {
  const std::string length = absl::StrCat(body.size());
  mg_response_header_start(conn, status);
  mg_response_header_add(conn, "Content-Type", content_type, -1);
  mg_response_header_add(conn, "Content-Length", length.c_str(), -1);
  if (allow != nullptr) mg_response_header_add(conn, "Allow", allow, -1);
  mg_response_header_send(conn);
  if (with_body) mg_write(conn, body.data(), body.size());
}

// The IPv4 address to connect to to reach a socket listening on `host` (loopback for
// 0.0.0.0); 0 when it does not resolve.
uint32_t WakeAddress(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), nullptr, &hints, &found) != 0 || found == nullptr) return 0;
  const uint32_t ip = reinterpret_cast<const sockaddr_in*>(found->ai_addr)->sin_addr.s_addr;
  ::freeaddrinfo(found);
  return ip == htonl(INADDR_ANY) ? htonl(INADDR_LOOPBACK) : ip;
}

// Opens and closes one connection to ip:port, which returns civetweb's accept loop from its
// poll().
void Wake(uint32_t ip, int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = ip;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  (void)::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
  ::close(fd);
}

}  // namespace

absl::StatusOr<std::unique_ptr<HttpExporter>> HttpExporter::Start(const std::string& address,
                                                                  const Registry* registry) {
  static std::once_flag library;
  std::call_once(library, [] { mg_init_library(0); });  // no TLS
  if (address.find(',') != std::string::npos) {         // civetweb would read a list of ports
    return absl::UnavailableError(
        absl::StrCat("cannot serve metrics on ", address, ": not one HOST:PORT"));
  }
  if (address.rfind('[', 0) == 0 && mg_check_feature(MG_FEATURES_IPV6) == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot serve metrics on ", address,
                     ": this civetweb has no IPv6; give an IPv4 address or a host name"));
  }
  std::unique_ptr<HttpExporter> exporter(new HttpExporter(address, registry));
  // A scrape sends its request at once: 2 s for it (10 s let a few idle half-requests hold
  // every worker, so that scrapes timed out), and 8 workers, each only a thread.
  const char* options[] = {"listening_ports",    address.c_str(), "num_threads", "8",
                           "request_timeout_ms", "2000",          nullptr};
  static const mg_callbacks callbacks = [] {
    mg_callbacks c{};
    c.log_message = &HttpExporter::LogMessage;
    return c;
  }();
  mg_init_data init{&callbacks, exporter.get(), options};
  char text[256] = "";
  unsigned code = 0;
  mg_error_data error{&code, text, sizeof(text)};
  exporter->context_ = mg_start2(&init, &error);
  absl::MutexLock lock(&exporter->mu_);
  if (exporter->context_ == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("cannot serve metrics on ", address, ": ",
                     exporter->start_errors_.empty() ? text : exporter->start_errors_));
  }
  exporter->started_ = true;
  mg_set_request_handler(exporter->context_, "/", &HttpExporter::Handle, exporter.get());
  mg_server_port ports[1];
  if (mg_get_server_ports(exporter->context_, 1, ports) == 1) exporter->port_ = ports[0].port;
  exporter->wake_ipv4_ = WakeAddress(address.substr(0, address.rfind(':')));
  return exporter;
}

HttpExporter::~HttpExporter() {
  if (context_ == nullptr) return;
  // mg_stop() returns once the accept loop sees the stop flag, which it checks between polls
  // of 2 s; connections until then end the poll early.
  std::atomic<bool> stopped{false};
  std::thread waker([&] {
    while (wake_ipv4_ != 0 && !stopped.load()) {
      Wake(wake_ipv4_, port_);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  mg_stop(context_);
  stopped = true;
  waker.join();
}

int HttpExporter::Handle(mg_connection* conn, void* self) {
  const mg_request_info* request = mg_get_request_info(conn);
  const std::string_view method = request->request_method;
  const bool with_body = method != "HEAD";
  if (request->local_uri == nullptr || std::string_view(request->local_uri) != "/metrics") {
    Reply(conn, 404, "text/plain", "not found: metrics are at /metrics\n", with_body);
    return 404;
  }
  if (method != "GET" && method != "HEAD") {
    Reply(conn, 405, "text/plain", "method not allowed: GET or HEAD\n", true, "GET, HEAD");
    return 405;
  }
  const std::string text = static_cast<HttpExporter*>(self)->registry_->Render();
  Reply(conn, 200, kContentType, text, with_body);
  return 200;
}

int HttpExporter::LogMessage(const mg_connection* conn, const char* message) {
  auto* self = conn == nullptr ? nullptr
                               : static_cast<HttpExporter*>(mg_get_user_data(mg_get_context(conn)));
  if (self != nullptr) {
    absl::MutexLock lock(&self->mu_);
    if (!self->started_) {
      // The first message says why (e.g. "cannot bind to ...: Address already in use").
      if (self->start_errors_.empty()) self->start_errors_ = message;
      return 1;
    }
  }
  spdlog::warn("metrics http server: {}", message);
  return 1;
}

}  // namespace urn::server::metrics
