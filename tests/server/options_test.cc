#include "options.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <string>
#include <vector>

#include "support/temp_dir.h"

namespace urn::server {
namespace {

absl::StatusOr<ServerOptions> Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "urnd");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  return ParseServerOptions(static_cast<int>(argv.size()), argv.data());
}

TEST(ServerOptions, DefaultsAreTheEmbeddedQuickStart) {
  absl::StatusOr<ServerOptions> o = Parse({});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->listen, "127.0.0.1:50051");
  EXPECT_EQ(o->data_dir, "./urn-data");
  EXPECT_EQ(o->log_format, LogFormat::kText);
}

TEST(ServerOptions, PlaintextOffLoopbackOnlyWhenAskedFor) {
  EXPECT_TRUE(Parse({"--listen", "127.0.0.1:7"}).ok());
  EXPECT_TRUE(Parse({"--listen", "localhost:7"}).ok());
  EXPECT_TRUE(Parse({"--listen", "[::1]:7"}).ok());
  absl::StatusOr<ServerOptions> o = Parse({"--listen", "0.0.0.0:7"});
  EXPECT_EQ(o.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(o.status().message()).find("--plaintext"), std::string::npos);
  o = Parse({"--listen", "0.0.0.0:7", "--plaintext"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_TRUE(o->plaintext);
}

TEST(ServerOptions, BadFlagsNameTheFlag) {
  struct Case {
    std::vector<std::string> args;
    std::string want;
  };
  for (const Case& c : std::vector<Case>{{{"--listen", "nocolon"}, "--listen"},
                                         {{"--listen", "h:70000"}, "--listen"},
                                         {{"--metrics-listen", "9090"}, "--metrics-listen"},
                                         {{"--log-level", "loud"}, "--log-level"},
                                         {{"--log-format", "xml"}, "--log-format"},
                                         {{"--tls-cert", "a.pem"}, "--tls-key"},
                                         {{"--no-such-flag"}, "no-such-flag"},
                                         {{"--config", "/nonexistent.yaml"}, "--config"}}) {
    absl::StatusOr<ServerOptions> o = Parse(c.args);
    ASSERT_FALSE(o.ok()) << c.args[0];
    EXPECT_TRUE(absl::IsInvalidArgument(o.status()));
    EXPECT_NE(o.status().message().find(c.want), std::string::npos) << o.status();
  }
}

TEST(ServerOptions, ConfigFileAppliesAndFlagsWin) {
  testing::TempDir dir;
  const std::string path = dir.Join("urnd.yaml");
  testing::WriteFileOrDie(path, "listen: 127.0.0.1:6000\nlog_level: debug\n");
  absl::StatusOr<ServerOptions> o = Parse({"--config", path, "--log-level", "warn"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->listen, "127.0.0.1:6000");
  EXPECT_EQ(o->log_level, "warn");
}

// Every flag beats the config file, and reads its URN_* variable.
TEST(ServerOptions, SnapshotLogBytesAndShutdownGraceFlagsBeatTheConfigFile) {
  testing::TempDir dir;
  const std::string path = dir.Join("urnd.yaml");
  testing::WriteFileOrDie(path, "snapshot_log_bytes: 1000\nshutdown_grace_seconds: 3\n");
  absl::StatusOr<ServerOptions> o =
      Parse({"--config", path, "--snapshot-log-bytes", "2000", "--shutdown-grace", "7"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->snapshot_log_bytes, 2000);
  EXPECT_EQ(o->shutdown_grace_seconds, 7);
  o = Parse({"--config", path});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->snapshot_log_bytes, 1000);
  EXPECT_EQ(o->shutdown_grace_seconds, 3);
  ::setenv("URN_SHUTDOWN_GRACE", "20", 1);
  o = Parse({});
  ::unsetenv("URN_SHUTDOWN_GRACE");
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->shutdown_grace_seconds, 20);
}

TEST(ServerOptions, WorkThreadsArePerCoreByDefaultAndComeFromFlagEnvOrConfig) {
  absl::StatusOr<ServerOptions> o = Parse({});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->work_threads, 0);
  o = Parse({"--work-threads", "6"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->work_threads, 6);
  testing::TempDir dir;
  const std::string path = dir.Join("urnd.yaml");
  testing::WriteFileOrDie(path, "work_threads: 3\n");
  o = Parse({"--config", path});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->work_threads, 3);
  ::setenv("URN_WORK_THREADS", "5", 1);
  o = Parse({});
  ::unsetenv("URN_WORK_THREADS");
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->work_threads, 5);
  for (const char* bad : {"-1", "257"}) {
    o = Parse({"--work-threads", bad});
    EXPECT_EQ(o.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(o.status().message(), "--work-threads: must be between 0 (one per core) and 256");
  }
  testing::WriteFileOrDie(path, "work_threads: many\n");
  EXPECT_EQ(Parse({"--config", path}).status().message(),
            path + ":1: work_threads must be an integer");
}

// The memory budget: none by default; from the flag, the environment or the config file, the
// flag winning over the file (as --work-threads now does too).
TEST(ServerOptions, MemoryBudgetIsNoneByDefaultAndComesFromFlagEnvOrConfig) {
  absl::StatusOr<ServerOptions> o = Parse({});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->memory_budget, 0);
  testing::TempDir dir;
  const std::string path = dir.Join("urnd.yaml");
  testing::WriteFileOrDie(path, "memory_budget: 3221225472\nwork_threads: 3\n");
  o = Parse({"--config", path});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->memory_budget, int64_t{3} << 30);
  o = Parse({"--config", path, "--memory-budget", "1000", "--work-threads", "4"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->memory_budget, 1000);
  EXPECT_EQ(o->work_threads, 4);
  ::setenv("URN_MEMORY_BUDGET", "2000", 1);
  o = Parse({});
  ::unsetenv("URN_MEMORY_BUDGET");
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->memory_budget, 2000);
  EXPECT_EQ(Parse({"--memory-budget", "-1"}).status().message(),
            "--memory-budget: must be 0 (no limit) or a number of bytes");
}

TEST(ServerOptions, MetricsListenIsOffByDefaultAndComesFromFlagEnvOrConfig) {
  absl::StatusOr<ServerOptions> o = Parse({});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->metrics_listen, "");
  o = Parse({"--metrics-listen", "0.0.0.0:9090"});  // metrics need no TLS off loopback
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->metrics_listen, "0.0.0.0:9090");
  ::setenv("URN_METRICS_LISTEN", "127.0.0.1:9091", 1);
  o = Parse({});
  ::unsetenv("URN_METRICS_LISTEN");
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->metrics_listen, "127.0.0.1:9091");
  testing::TempDir dir;
  testing::WriteFileOrDie(dir.Join("urnd.yaml"), "metrics_listen: 127.0.0.1:9092\n");
  o = Parse({"--config", dir.Join("urnd.yaml")});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->metrics_listen, "127.0.0.1:9092");
  o = Parse({"--config", dir.Join("urnd.yaml"), "--metrics-listen", "127.0.0.1:9093"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->metrics_listen, "127.0.0.1:9093");
  EXPECT_NE(Parse({"--help"}).status().message().find("--metrics-listen"), std::string::npos);
}

// The config file's keys are the flags' names (README): shutdown_grace, fsync_interval and
// plaintext too, besides the older shutdown_grace_seconds / fsync_interval_seconds.
TEST(ServerOptions, ConfigFileKeysAreTheFlagsNames) {
  testing::TempDir dir;
  const std::string path = dir.Join("urnd.yaml");
  testing::WriteFileOrDie(path,
                          "listen: 0.0.0.0:6000\nshutdown_grace: 4\nfsync_interval: 0.5\n"
                          "plaintext: true\n");
  absl::StatusOr<ServerOptions> o = Parse({"--config", path});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->shutdown_grace_seconds, 4);
  EXPECT_EQ(o->fsync_interval_seconds, 0.5);
  EXPECT_TRUE(o->plaintext);
  testing::WriteFileOrDie(path, "listen: 0.0.0.0:6000\nplaintext: false\n");
  o = Parse({"--config", path});
  ASSERT_FALSE(o.ok());  // plaintext beyond loopback, not asked for
  EXPECT_NE(o.status().message().find("--plaintext"), std::string::npos) << o.status();
  testing::WriteFileOrDie(path, "plaintext: yes\n");
  EXPECT_EQ(Parse({"--config", path}).status().message(),
            path + ":1: plaintext must be true or false");
}

TEST(ServerOptions, ConfigFileUnknownKeyNamesItsLine) {
  testing::TempDir dir;
  const std::string path = dir.Join("urnd.yaml");
  testing::WriteFileOrDie(path, "listen: 127.0.0.1:6000\n\nlisten_port: 7\n");
  absl::StatusOr<ServerOptions> o = Parse({"--config", path});
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.status().message().find(path + ":3: unknown key 'listen_port' (the keys are the "
                                             "flags' names with '_' for '-'"),
            std::string::npos)
      << o.status();
}

}  // namespace
}  // namespace urn::server
