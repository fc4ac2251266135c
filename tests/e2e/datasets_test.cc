// Datasets on a real urnd through the real `urn` command line: upload, list, describe,
// delete, errors, and restoration after a restart (including after kill -9).
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "support/subprocess.h"
#include "support/temp_dir.h"
#include "urn/client.h"

namespace urn {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class DatasetsE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    port_ = testing::FreeLoopbackPort();
    Start();
  }
  void Start() {
    urnd_ = std::make_unique<testing::Subprocess>(
        std::vector<std::string>{URND_PATH, "--listen", Address(), "--data-dir", dir_.Join("data")},
        dir_.path());
    ClientOptions o;
    o.server = Address();
    o.timeout = milliseconds(500);
    const auto end = std::chrono::steady_clock::now() + seconds(20);
    while (std::chrono::steady_clock::now() < end) {
      absl::StatusOr<Client> c = Client::Connect(o);
      absl::StatusOr<bool> ok = c->Healthy();
      if (ok.ok() && *ok) return;
      ASSERT_FALSE(urnd_->Wait(milliseconds(50)).has_value()) << urnd_->Stderr();
    }
    FAIL() << "urnd did not become healthy: " << urnd_->Stderr();
  }
  std::string Address() const { return "127.0.0.1:" + std::to_string(port_); }
  testing::RunResult Urn(std::vector<std::string> args) {
    args.insert(args.begin(), {URN_CLI_PATH, "--server", Address(), "--key-file",
                               dir_.Join("data") + "/admin.key"});
    return testing::Run(args);
  }
  std::string File(const std::string& name, const std::string& contents) {
    testing::WriteFileOrDie(dir_.Join(name), contents);
    return dir_.Join(name);
  }

  testing::TempDir dir_;
  int port_ = 0;
  std::unique_ptr<testing::Subprocess> urnd_;
};

TEST_F(DatasetsE2E, CreateListDescribeDelete) {
  const std::string tsv = File("d.tsv", "id\tlabel\tw\n1\ta\t0.5\n2\tb\t\n3\ta\t2\n");
  testing::RunResult r = Urn({"datasets", "create", "d1", tsv, "-H"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "created dataset 'd1': 3 rows, 3 columns\n");
  r = Urn({"datasets", "list"});
  EXPECT_EQ(r.out, "name\towner\trows\tcolumns\nd1\tadmin\t3\t3\n");
  r = Urn({"datasets", "describe", "d1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("id\tint64\t0\nlabel\tstring\t0\nw\tdouble\t1\n"), std::string::npos)
      << r.out;
  r = Urn({"datasets", "delete", "d1"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = Urn({"datasets", "describe", "d1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "urn: dataset 'd1' not found\n");
}

TEST_F(DatasetsE2E, ErrorsNameTheProblem) {
  const std::string tsv = File("d.tsv", "a\tb\n1\t2\n");
  ASSERT_EQ(Urn({"datasets", "create", "d", tsv, "-H"}).exit_code, 0);
  testing::RunResult r = Urn({"datasets", "create", "d", tsv, "-H"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "urn: dataset 'd' already exists\n");
  r = Urn({"datasets", "create", "bad", File("bad.tsv", "a\tb\n1\n"), "-H"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "urn: line 2: field 'b': expected 2 fields, got 1\n");
  r = Urn({"datasets", "create", "no/slash", tsv});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("header.name"), std::string::npos) << r.err;
  // A failed upload leaves nothing behind: the name is free.
  EXPECT_EQ(Urn({"datasets", "create", "bad", tsv, "-H"}).exit_code, 0);
  r = testing::Run({URN_CLI_PATH, "--server", Address(), "datasets", "list"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("not authenticated"), std::string::npos) << r.err;
}

TEST_F(DatasetsE2E, RestartAndKillNineRestoreEveryCommittedDataset) {
  std::string big = "k\tv\n";
  for (int i = 0; i < 200000; ++i)
    big += "key" + std::to_string(i % 97) + "\t" + std::to_string(i) + "\n";
  ASSERT_EQ(Urn({"datasets", "create", "big", File("big.tsv", big), "-H"}).exit_code, 0);
  ASSERT_EQ(Urn({"datasets", "create", "small", File("s.tsv", "x\n1\n2\n"), "-H"}).exit_code, 0);
  urnd_->Signal(SIGTERM);
  ASSERT_EQ(urnd_->Wait(seconds(10)), 0);
  Start();
  EXPECT_EQ(Urn({"datasets", "list"}).out,
            "name\towner\trows\tcolumns\nbig\tadmin\t200000\t2\nsmall\tadmin\t2\t1\n");
  urnd_->Signal(SIGKILL);
  urnd_->Wait(seconds(10));
  Start();
  EXPECT_EQ(Urn({"datasets", "list"}).out,
            "name\towner\trows\tcolumns\nbig\tadmin\t200000\t2\nsmall\tadmin\t2\t1\n");
}

}  // namespace
}  // namespace urn
