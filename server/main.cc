// urnd: the urn sampling service.
//
// Exit codes: 0 after a clean shutdown (SIGTERM or SIGINT), 2 for bad flags or config, 1 when
// the server cannot start (data directory, port, TLS files).
#include <signal.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "logging.h"
#include "options.h"
#include "urn_server.h"

int main(int argc, char** argv) {
#ifdef NDEBUG
  // Debian's Abseil is built with Mutex deadlock detection on, which keeps a lock graph on
  // every acquisition (about 1% of the CPU of a Sample stream). Release builds of urnd run
  // without it, as Abseil's own release builds do; tests and debug builds keep it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
#endif
  absl::StatusOr<urn::server::ServerOptions> options = urn::server::ParseServerOptions(argc, argv);
  if (!options.ok()) {
    if (absl::IsCancelled(options.status())) {  // --help / --version
      std::fputs(std::string(options.status().message()).c_str(), stdout);
      return 0;
    }
    std::fprintf(stderr, "urnd: %s\n", std::string(options.status().message()).c_str());
    return 2;
  }
  urn::server::ConfigureLogging(options->log_level, options->log_format);

  // Block the shutdown signals before any thread starts, so only the waiter below sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  urn::server::UrnServer server(*options);
  if (absl::Status s = server.Start(); !s.ok()) {
    spdlog::critical("urnd cannot start: {}", std::string(s.message()));
    return 1;
  }

  for (;;) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig == SIGHUP) {
      spdlog::info("SIGHUP: reloading the plans");
      server.ReloadPlans();
      continue;
    }
    spdlog::info("{} received: shutting down (grace {:.1f}s)",
                 sig == SIGTERM ? "SIGTERM" : "SIGINT", options->shutdown_grace_seconds);
    break;
  }
  server.Shutdown(
      std::chrono::milliseconds(static_cast<int64_t>(options->shutdown_grace_seconds * 1000)));
  server.Wait();
  spdlog::info("urnd stopped");
  return 0;
}
