// Users, keys, plans and usage through the real `urn` command line against a real urnd, with
// its audit log: admin actions and authentication failures are logged, and no secret (of any
// key used, right or wrong) ever appears in the log. Plans reload on SIGHUP.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "e2e/urnd_process.h"
#include "support/subprocess.h"
#include "support/temp_dir.h"
#include "urn/client.h"

namespace urn {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class AdminE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    port_ = testing::FreeLoopbackPort();
    testing::WriteFileOrDie(dir_.Join("urnd.yaml"),
                            "plans:\n  free:\n    rows_per_day: 1000\n    features: [sample]\n"
                            "  pro:\n    features: [all]\n");
    urnd_ = testing::StartUrnd(Address(), dir_.Join("data"), {"--config", dir_.Join("urnd.yaml")},
                               dir_.path());
  }
  std::string Address() const { return "127.0.0.1:" + std::to_string(port_); }
  testing::RunResult Urn(std::vector<std::string> args, const std::string& key = "") {
    std::vector<std::string> head = {URN_CLI_PATH, "--server", Address()};
    if (key.empty()) {
      head.insert(head.end(), {"--key-file", dir_.Join("data") + "/admin.key"});
    } else {
      head.insert(head.end(), {"--key", key});
    }
    args.insert(args.begin(), head.begin(), head.end());
    return testing::Run(args);
  }
  static std::string Line(const std::string& out) { return out.substr(0, out.find('\n')); }

  testing::TempDir dir_;
  int port_ = 0;
  std::unique_ptr<testing::Subprocess> urnd_;
};

TEST_F(AdminE2E, UsersKeysPlansUsageAndAnAuditLogWithoutSecrets) {
  testing::RunResult r = Urn({"admin", "users", "create", "carol", "--plan", "free"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string carol = Line(r.out);
  ASSERT_EQ(carol.size(), 53u);
  r = Urn({"usage"}, carol);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("plan\tfree\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("rows_today\t0 of 1000\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("features\tsample\n"), std::string::npos) << r.out;

  r = Urn({"admin", "keys", "create", "carol"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string second = Line(r.out);
  r = Urn({"admin", "keys", "list", "carol"});
  EXPECT_NE(r.out.find(carol.substr(4, 16) + "\tcarol\t"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find(carol.substr(21)), std::string::npos) << "a secret in the listing";

  // Non-admins cannot administer; bad keys are refused (exit 3).
  r = Urn({"admin", "users", "create", "dave", "--plan", "free"}, carol);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("permission denied"), std::string::npos) << r.err;
  const std::string wrong = carol.substr(0, 21) + std::string(32, 'a');
  EXPECT_EQ(Urn({"usage"}, wrong).exit_code, 3);
  EXPECT_EQ(Urn({"usage"}, "urn_nonsense").exit_code, 3);

  // Revocation takes effect on the next call; the other key still works.
  ASSERT_EQ(Urn({"admin", "keys", "revoke", carol.substr(4, 16)}).exit_code, 0);
  r = Urn({"usage"}, carol);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("not authenticated"), std::string::npos) << r.err;
  EXPECT_EQ(Urn({"usage"}, second).exit_code, 0);

  // A plan change, and a plan reload on SIGHUP.
  ASSERT_EQ(Urn({"admin", "users", "set-plan", "carol", "pro"}).exit_code, 0);
  EXPECT_NE(Urn({"usage"}, second).out.find("plan\tpro\n"), std::string::npos);
  testing::WriteFileOrDie(dir_.Join("urnd.yaml"),
                          "plans:\n  free:\n    features: [sample]\n"
                          "  pro:\n    rows_per_day: 5\n    features: [all]\n");
  urnd_->Signal(SIGHUP);
  bool reloaded = false;
  for (int i = 0; i < 100 && !reloaded; ++i) {
    reloaded = Urn({"usage"}, second).out.find("rows_today\t0 of 5\n") != std::string::npos;
    if (!reloaded) std::this_thread::sleep_for(milliseconds(50));
  }
  EXPECT_TRUE(reloaded);
  EXPECT_EQ(Urn({"admin", "users", "set-plan", "carol", "gold"}).exit_code, 1);

  r = Urn({"admin", "users", "delete", "carol"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "deleted user 'carol': 2 keys, 0 datasets, 0 weight stores\n");
  EXPECT_EQ(Urn({"usage"}, second).exit_code, 3);

  urnd_->Signal(SIGTERM);
  ASSERT_EQ(urnd_->Wait(seconds(10)), 0);
  const std::string log = urnd_->Stderr();
  const std::string admin_key = testing::ReadFileOrEmpty(dir_.Join("data") + "/admin.key");
  for (const std::string& key : {carol, second, wrong, admin_key.substr(0, 53)}) {
    EXPECT_EQ(log.find(key.substr(21)), std::string::npos) << "secret of " << key.substr(0, 20);
  }
  for (const char* audit :
       {"audit: 'admin' created user 'carol'", "audit: 'admin' created key",
        "audit: 'admin' revoked key", "audit: 'admin' set the plan of 'carol' to 'pro'",
        "audit: 'admin' deleted user 'carol'", "was refused an admin call",
        "audit: unauthenticated call from", "plans reloaded"}) {
    EXPECT_NE(log.find(audit), std::string::npos) << audit << "\n" << log;
  }
}

// Connection settings from a profile file: no --server or key flags needed.
TEST_F(AdminE2E, ProfilesSupplyServerAndKey) {
  testing::WriteFileOrDie(dir_.Join("profiles.yaml"),
                          "profiles:\n  lab:\n    server: " + Address() +
                              "\n    key_file: " + dir_.Join("data") +
                              "/admin.key\n"
                              "  broken:\n    colour: blue\n");
  testing::RunResult r = testing::Run(
      {URN_CLI_PATH, "--profile-file", dir_.Join("profiles.yaml"), "--profile", "lab", "usage"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("user\tadmin\n"), std::string::npos) << r.out;
  r = testing::Run(
      {URN_CLI_PATH, "--profile-file", dir_.Join("profiles.yaml"), "--profile", "nope", "usage"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("has no profile 'nope'"), std::string::npos) << r.err;
  // Profiles are connection settings: a sample of local files reads none (tsv-sample has
  // none), while a sample of a dataset needs the profile it names.
  const std::string lines = dir_.Join("lines.txt");
  testing::WriteFileOrDie(lines, "a\nb\nc\n");
  r = testing::Run({URN_CLI_PATH, "--profile-file", dir_.Join("profiles.yaml"), "--profile", "nope",
                    "sample", "-s", "-n", "1", lines});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.size(), 2u) << r.out;
  r = testing::Run({URN_CLI_PATH, "--profile-file", dir_.Join("profiles.yaml"), "--profile", "nope",
                    "sample", "--dataset", "d", "-n", "1"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("has no profile 'nope'"), std::string::npos) << r.err;
  r = testing::Run({URN_CLI_PATH, "sample", "-s", "-n", "1", "--", "--profile", "nope"});
  EXPECT_EQ(r.exit_code, 1) << "--profile after sample is a file name";
  EXPECT_NE(r.err.find("--profile"), std::string::npos) << r.err;
  r = testing::Run(
      {URN_CLI_PATH, "--profile-file", dir_.Join("profiles.yaml"), "--profile", "broken", "usage"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("profiles.yaml:6: unknown or malformed profile key 'colour'"),
            std::string::npos)
      << r.err;
}

// URN_KEY_FILE beats the profile's key whatever the command, also `urn sample` first: there the
// profile's (wrong) key was sent.
TEST_F(AdminE2E, TheEnvironmentsKeyFileBeatsTheProfilesKeyAlsoForSampleFirst) {
  const std::string profiles = dir_.Join("profiles.yaml");
  testing::WriteFileOrDie(
      profiles, "profiles:\n  lab:\n    server: " + Address() + "\n    key: urn_not_a_valid_key\n");
  const std::string env_key_file = "URN_KEY_FILE=" + dir_.Join("data") + "/admin.key";
  for (const std::vector<std::string>& command : {std::vector<std::string>{"usage"},
                                                  {"datasets", "list"},
                                                  {"sample", "--dataset", "none", "-n", "1"}}) {
    std::vector<std::string> argv = {"/usr/bin/env", "URN_PROFILE_FILE=" + profiles,
                                     "URN_PROFILE=lab", env_key_file, URN_CLI_PATH};
    argv.insert(argv.end(), command.begin(), command.end());
    const testing::RunResult r = testing::Run(argv);
    // Authenticated: usage and list succeed, the sample finds no such dataset (exit 1, not 3).
    EXPECT_EQ(r.exit_code, command[0] == "sample" ? 1 : 0) << command[0] << ": " << r.err;
    EXPECT_EQ(r.err.find("not authenticated"), std::string::npos) << command[0] << ": " << r.err;
  }
}

// Output that cannot be written fails the command (exit 1, not 0, and not 5, which says the
// server is unreachable): a list, a sample of a dataset, and a key shown only once, which the
// message says how to revoke.
TEST_F(AdminE2E, AFailedWriteOfTheOutputFailsTheCommand) {
  const auto to_full = [&](const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"/bin/sh", "-c",         "exec \"$@\" > /dev/full",
                                     "sh",      URN_CLI_PATH, "--server",
                                     Address(), "--key-file", dir_.Join("data") + "/admin.key"};
    argv.insert(argv.end(), args.begin(), args.end());
    return testing::Run(argv);
  };
  testing::RunResult r = to_full({"datasets", "list"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("write error"), std::string::npos) << r.err;
  const std::string file = dir_.Join("d.tsv");
  testing::WriteFileOrDie(file, "x\n1\n2\n");
  ASSERT_EQ(Urn({"datasets", "create", "d", file, "-H"}).exit_code, 0);
  r = to_full({"sample", "--dataset", "d", "-n", "2"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("write error"), std::string::npos) << r.err;
  r = to_full({"shuffle", "--dataset", "d"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("write error"), std::string::npos) << r.err;
  r = to_full({"admin", "keys", "create", "admin"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("was created but not written"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("urn admin keys revoke "), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("write error on standard output"), std::string::npos) << "said once";
  // A pipe whose reader has gone: the key is reported too (not a silent SIGPIPE).
  const std::string closed_pipe =
      "import os, subprocess, sys\n"
      "r, w = os.pipe()\n"
      "os.close(r)\n"
      "p = subprocess.run(sys.argv[1:], stdout=w, stderr=subprocess.PIPE)\n"
      "sys.stderr.write(p.stderr.decode())\n"
      "sys.exit(p.returncode if p.returncode >= 0 else 128 - p.returncode)\n";
  r = testing::Run({"/usr/bin/python3", "-c", closed_pipe, URN_CLI_PATH, "--server", Address(),
                    "--key-file", dir_.Join("data") + "/admin.key", "admin", "keys", "create",
                    "admin"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("was created but not written"), std::string::npos) << r.err;
  // Standard output closed: refused before anything is sent.
  r = testing::Run({"/bin/sh", "-c", "exec \"$@\" >&-", "sh", URN_CLI_PATH, "--server", Address(),
                    "--key-file", dir_.Join("data") + "/admin.key", "admin", "keys", "create",
                    "admin"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err, "urn: standard output is closed; nothing was sent\n");
}

}  // namespace
}  // namespace urn
