// Helpers of the tests that run urnd in process (UrnServer on 127.0.0.1:0 with a temp data dir).
#ifndef URN_TESTS_SERVER_IN_PROCESS_H_
#define URN_TESTS_SERVER_IN_PROCESS_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "support/temp_dir.h"
#include "urn/client.h"
#include "urn_server.h"

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

// urnd on 127.0.0.1:0 with its data in dir/data and `plans_yaml` as dir/urnd.yaml, started
// (the test fails at the caller's ASSERT if it is null).
inline std::unique_ptr<server::UrnServer> StartInProcess(const TempDir& dir,
                                                         const std::string& plans_yaml) {
  WriteFileOrDie(dir.Join("urnd.yaml"), plans_yaml);
  server::ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.data_dir = dir.Join("data");
  options.config = dir.Join("urnd.yaml");
  auto server = std::make_unique<server::UrnServer>(options);
  if (!server->Start().ok()) return nullptr;
  return server;
}

// Uploads, as `client`, the dataset `name`: a TSV with the header "w" and `rows` weights cycling
// through 1..5 (written to dir/<name>.tsv).
inline absl::Status CreateWeightedDataset(const Client& client, const TempDir& dir,
                                          const std::string& name, int64_t rows) {
  std::string text = "w\n";
  for (int64_t i = 0; i < rows; ++i) absl::StrAppend(&text, 1 + i % 5, "\n");
  const std::string path = dir.Join(name + ".tsv");
  WriteFileOrDie(path, text);
  v1::CreateDatasetHeader header;
  header.set_name(name);
  header.set_format(v1::DATA_FORMAT_TSV);
  header.set_has_header(true);
  return client.CreateDataset(header, path).status();
}

}  // namespace urn::testing

#endif  // URN_TESTS_SERVER_IN_PROCESS_H_
