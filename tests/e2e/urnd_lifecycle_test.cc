// Starts the real urnd binary and checks its lifecycle: health SERVING over gRPC, the admin
// key bootstrap, a clean exit 0 on SIGTERM, metrics over HTTP, and clear failures for bad
// flags, a busy port (gRPC or metrics) and an unusable data directory.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "support/http_get.h"
#include "support/subprocess.h"
#include "support/temp_dir.h"
#include "urn/client.h"

namespace urn {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::Subprocess;
using testing::TempDir;

// Polls health until SERVING or the process dies; true on SERVING.
bool WaitServing(Subprocess& p, int port, seconds limit = seconds(20)) {
  ClientOptions o;
  o.server = "127.0.0.1:" + std::to_string(port);
  o.timeout = milliseconds(500);
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    // A fresh channel per attempt: a channel that saw "connection refused" backs off for
    // seconds before it tries again.
    absl::StatusOr<Client> c = Client::Connect(o);
    if (!c.ok()) return false;
    absl::StatusOr<bool> ok = c->Healthy();
    if (ok.ok() && *ok) return true;
    if (p.Wait(milliseconds(50))) return false;
  }
  return false;
}

TEST(UrndLifecycle, ServesHealthThenExitsZeroOnSigterm) {
  TempDir dir;
  const int port = testing::FreeLoopbackPort();
  const std::string data = dir.Join("data");
  Subprocess urnd({URND_PATH, "--listen", "127.0.0.1:" + std::to_string(port), "--data-dir", data},
                  dir.path());
  ASSERT_TRUE(WaitServing(urnd, port)) << urnd.Stderr();

  // First start: admin key written with mode 0600; the log names the file, not the key.
  const std::string key_path = data + "/admin.key";
  struct stat st {};
  ASSERT_EQ(::stat(key_path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  // Every tenant's data is for urnd's user only: a data directory urnd creates, and its
  // database directory, are 0700.
  for (const std::string& d : {data, data + "/meta"}) {
    ASSERT_EQ(::stat(d.c_str(), &st), 0) << d;
    EXPECT_EQ(st.st_mode & 0777, 0700) << d;
  }
  const std::string key = testing::ReadFileOrEmpty(key_path);
  ASSERT_EQ(key.rfind("urn_", 0), 0u);
  const std::string secret = key.substr(key.rfind('_') + 1, 32);
  EXPECT_NE(urnd.Stderr().find(key_path), std::string::npos) << urnd.Stderr();
  EXPECT_EQ(urnd.Stderr().find(secret), std::string::npos);

  urnd.Signal(SIGTERM);
  std::optional<int> code = urnd.Wait(seconds(5));
  ASSERT_TRUE(code.has_value()) << "urnd did not exit within 5 s of SIGTERM";
  EXPECT_EQ(*code, 0) << urnd.Stderr();

  // A restart keeps the same admin key.
  Subprocess again({URND_PATH, "--listen", "127.0.0.1:" + std::to_string(port), "--data-dir", data},
                   dir.path());
  ASSERT_TRUE(WaitServing(again, port)) << again.Stderr();
  EXPECT_EQ(testing::ReadFileOrEmpty(key_path), key);
  again.Signal(SIGINT);
  code = again.Wait(seconds(5));
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0);
}

TEST(UrndLifecycle, JsonLogsAreOneObjectPerLine) {
  TempDir dir;
  const int port = testing::FreeLoopbackPort();
  Subprocess urnd({URND_PATH, "--listen", "127.0.0.1:" + std::to_string(port), "--data-dir",
                   dir.Join("d"), "--log-format", "json"},
                  dir.path());
  ASSERT_TRUE(WaitServing(urnd, port)) << urnd.Stderr();
  urnd.Signal(SIGTERM);
  ASSERT_EQ(urnd.Wait(seconds(5)), 0);
  const std::string log = urnd.Stderr();
  ASSERT_FALSE(log.empty());
  size_t start = 0;
  while (start < log.size()) {
    const size_t end = log.find('\n', start);
    const std::string line = log.substr(start, end - start);
    EXPECT_EQ(line.front(), '{') << line;
    EXPECT_EQ(line.back(), '}') << line;
    EXPECT_NE(line.find("\"level\":"), std::string::npos) << line;
    if (end == std::string::npos) break;
    start = end + 1;
  }
}

TEST(UrndLifecycle, BadFlagExitsTwoWithMessage) {
  testing::RunResult r = testing::Run({URND_PATH, "--log-level", "loud"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--log-level"), std::string::npos) << r.err;
}

TEST(UrndLifecycle, BusyPortFailsClearly) {
  TempDir dir;
  const int port = testing::FreeLoopbackPort();
  const std::string listen = "127.0.0.1:" + std::to_string(port);
  Subprocess first({URND_PATH, "--listen", listen, "--data-dir", dir.Join("a")}, dir.path());
  ASSERT_TRUE(WaitServing(first, port)) << first.Stderr();
  testing::RunResult r = testing::Run({URND_PATH, "--listen", listen, "--data-dir", dir.Join("b")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("cannot listen on " + listen), std::string::npos) << r.err;
}

TEST(UrndLifecycle, ServesMetricsWhenAsked) {
  TempDir dir;
  const int port = testing::FreeLoopbackPort();
  const int metrics_port = testing::FreeLoopbackPort();
  Subprocess urnd({URND_PATH, "--listen", "127.0.0.1:" + std::to_string(port), "--data-dir",
                   dir.Join("d"), "--metrics-listen", "127.0.0.1:" + std::to_string(metrics_port)},
                  dir.path());
  ASSERT_TRUE(WaitServing(urnd, port)) << urnd.Stderr();
  absl::StatusOr<testing::HttpResponse> r = testing::HttpRequest(metrics_port, "GET", "/metrics");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("urn_build_info{version=\"" URN_VERSION "\"} 1\n"), std::string::npos)
      << r->body;
  EXPECT_NE(r->body.find("urn_grpc_requests_total{method=\"/grpc.health.v1.Health/Check\""),
            std::string::npos)
      << r->body;
  urnd.Signal(SIGTERM);
  EXPECT_EQ(urnd.Wait(seconds(5)), 0);
}

TEST(UrndLifecycle, BusyMetricsPortFailsClearly) {
  TempDir dir;
  // A socket of this test holds the port.
  const int holder = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::bind(holder, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(holder, 1), 0);
  ASSERT_EQ(::getsockname(holder, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::string busy = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  testing::RunResult r = testing::Run({URND_PATH, "--listen", "127.0.0.1:0", "--data-dir",
                                       dir.Join("d"), "--metrics-listen", busy});
  ::close(holder);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--metrics-listen: cannot serve metrics on " + busy), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("in use"), std::string::npos) << r.err;
}

TEST(UrndLifecycle, DataDirInUseFailsClearly) {
  TempDir dir;
  const int port = testing::FreeLoopbackPort();
  Subprocess first(
      {URND_PATH, "--listen", "127.0.0.1:" + std::to_string(port), "--data-dir", dir.Join("a")},
      dir.path());
  ASSERT_TRUE(WaitServing(first, port)) << first.Stderr();
  testing::RunResult r =
      testing::Run({URND_PATH, "--listen", "127.0.0.1:0", "--data-dir", dir.Join("a")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("already in use"), std::string::npos) << r.err;
}

TEST(UrndLifecycle, UnusableDataDirFailsClearly) {
  TempDir dir;
  testing::WriteFileOrDie(dir.Join("file"), "not a directory");
  testing::RunResult r =
      testing::Run({URND_PATH, "--listen", "127.0.0.1:0", "--data-dir", dir.Join("file")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--data-dir"), std::string::npos) << r.err;
}

TEST(UrndLifecycle, CliHealthCommandReportsServing) {
  TempDir dir;
  const int port = testing::FreeLoopbackPort();
  const std::string addr = "127.0.0.1:" + std::to_string(port);
  Subprocess urnd({URND_PATH, "--listen", addr, "--data-dir", dir.Join("d")}, dir.path());
  ASSERT_TRUE(WaitServing(urnd, port)) << urnd.Stderr();
  testing::RunResult r = testing::Run({URN_CLI_PATH, "--server", addr, "health"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "SERVING\n");
  // Every urn.v1 call needs a key; health does not.
  testing::RunResult anonymous = testing::Run({URN_CLI_PATH, "--server", addr, "info"});
  EXPECT_EQ(anonymous.exit_code, 3);
  EXPECT_NE(anonymous.err.find("missing authorization"), std::string::npos) << anonymous.err;
  const std::string key = testing::ReadFileOrEmpty(dir.Join("d") + "/admin.key");
  testing::RunResult info = testing::Run(
      {URN_CLI_PATH, "--server", addr, "--key", key.substr(0, key.size() - 1), "info"});
  EXPECT_EQ(info.exit_code, 0) << info.err;
  EXPECT_NE(info.out.find("version\t" URN_VERSION), std::string::npos) << info.out;
  urnd.Signal(SIGTERM);
  EXPECT_EQ(urnd.Wait(seconds(5)), 0);
  testing::RunResult down =
      testing::Run({URN_CLI_PATH, "--server", addr, "--timeout", "1", "health"});
  EXPECT_EQ(down.exit_code, 5);
}

}  // namespace
}  // namespace urn
