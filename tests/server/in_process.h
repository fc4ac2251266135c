// Helpers of the tests that run urnd in process (UrnServer on 127.0.0.1:0 with a temp data dir).
#ifndef URN_TESTS_SERVER_IN_PROCESS_H_
#define URN_TESTS_SERVER_IN_PROCESS_H_

#include <memory>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "support/temp_dir.h"
#include "urn/client.h"

namespace urn::testing {

// The admin key urnd wrote on first start into `data_dir`.
inline std::string AdminKeyIn(const std::string& data_dir) {
  return std::string(
      absl::StripAsciiWhitespace(ReadFileOrEmpty(absl::StrCat(data_dir, "/admin.key"))));
}

// A client of 127.0.0.1:`port` that makes every call once (no retries), so a test sees each
// error itself and the server counts each call once.
inline std::unique_ptr<Client> ConnectOnce(int port, const std::string& key) {
  ClientOptions o;
  o.server = absl::StrCat("127.0.0.1:", port);
  o.key = key;
  o.max_attempts = 1;
  return std::make_unique<Client>(*Client::Connect(o));
}

}  // namespace urn::testing

#endif  // URN_TESTS_SERVER_IN_PROCESS_H_
