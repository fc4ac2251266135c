// StartUrnd: runs the real urnd binary for an end-to-end test and waits, bounded, until its
// health check reports SERVING. The test fails (with urnd's stderr) if it exits or never
// becomes healthy.
#ifndef URN_TESTS_E2E_URND_PROCESS_H_
#define URN_TESTS_E2E_URND_PROCESS_H_

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "support/subprocess.h"
#include "urn/client.h"

namespace urn::testing {

// `address` is HOST:PORT; `data_dir` urnd's data directory; `extra` more flags. Output goes to
// files in `output_dir`.
inline std::unique_ptr<Subprocess> StartUrnd(const std::string& address,
                                             const std::string& data_dir,
                                             const std::vector<std::string>& extra,
                                             const std::string& output_dir) {
  std::vector<std::string> argv = {URND_PATH, "--listen", address, "--data-dir", data_dir};
  argv.insert(argv.end(), extra.begin(), extra.end());
  auto urnd = std::make_unique<Subprocess>(argv, output_dir);
  ClientOptions o;
  o.server = address;
  o.timeout = std::chrono::milliseconds(500);
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < end) {
    // A fresh channel per poll: one that saw "connection refused" backs off for seconds.
    absl::StatusOr<Client> c = Client::Connect(o);
    absl::StatusOr<bool> ok = c->Healthy();
    if (ok.ok() && *ok) return urnd;
    if (urnd->Wait(std::chrono::milliseconds(50)).has_value()) {
      ADD_FAILURE() << "urnd exited: " << urnd->Stderr();
      return urnd;
    }
  }
  ADD_FAILURE() << "urnd did not become healthy: " << urnd->Stderr();
  return urnd;
}

}  // namespace urn::testing

#endif  // URN_TESTS_E2E_URND_PROCESS_H_
