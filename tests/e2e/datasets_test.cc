// Datasets on a real urnd through the real `urn` command line: upload, list, describe,
// delete, errors, and restoration after a restart (including after kill -9).
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_join.h"
#include "e2e/urnd_process.h"
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
  void Start() { urnd_ = testing::StartUrnd(Address(), dir_.Join("data"), {}, dir_.path()); }
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
  EXPECT_EQ(r.err, "urn: name: no dataset named 'd1'\n");
}

// The upload progress bar appears only on a terminal: under a pseudo-terminal (script(1)) it
// shows the bar, rows, rate and ETA; into a pipe, nothing.
TEST_F(DatasetsE2E, ProgressBarOnATerminalOnly) {
  std::string big = "k\tv\n";
  for (int i = 0; i < 300000; ++i)
    big += "key" + std::to_string(i) + "\t" + std::to_string(i) + "\n";
  const std::string file = File("big.tsv", big);
  const std::string command = std::string(URN_CLI_PATH) + " --server " + Address() +
                              " --key-file " + dir_.Join("data") +
                              "/admin.key datasets create on_tty " + file + " -H";
  testing::RunResult r = testing::Run({"/usr/bin/script", "-qec", command, "/dev/null"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("uploading on_tty [########################] 100%"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("300,000 rows"), std::string::npos) << r.out;  // the header not counted
  EXPECT_NE(r.out.find("/s"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("created dataset 'on_tty': 300000 rows"), std::string::npos) << r.out;
  r = Urn({"datasets", "create", "in_pipe", file, "-H"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
}

// urn stats: exact class counts as bars, and before/after a rebalancing query side by side.
TEST_F(DatasetsE2E, StatsDrawsClassCountsBeforeAndAfterAQuery) {
  std::string tsv = "id\tlabel\n";
  for (int i = 0; i < 100; ++i) tsv += std::to_string(i) + (i < 80 ? "\tcat\n" : "\tdog\n");
  ASSERT_EQ(Urn({"datasets", "create", "pets", File("pets.tsv", tsv), "-H"}).exit_code, 0);
  testing::RunResult r = Urn({"stats", "--dataset", "pets", "--by", "label"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string cat_bar, dog_bar;
  for (int i = 0; i < 40; ++i) cat_bar += "\u2588";
  for (int i = 0; i < 10; ++i) dog_bar += "\u2588";
  EXPECT_NE(r.out.find("cat    " + cat_bar + "         80\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("dog    " + dog_bar + std::string(30, ' ') + "         20\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("total  " + std::string(40, ' ') + "        100\n"), std::string::npos)
      << r.out;
  // Keeping only dogs: after the query, every row is a dog.
  r = Urn({"stats", "--dataset", "pets", "--by", "label", "--query",
           "select * where label == 'dog' sample by 1 replace false limit 20"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("after the query"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("         80   " + std::string(40, ' ') + "          0\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("         20   " + cat_bar + "         20\n"), std::string::npos) << r.out;
  r = Urn({"stats", "--dataset", "pets", "--by", "nope"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "urn: --by: dataset 'pets' has no column 'nope'\n");
}

// A multi-label list column counts each label of a row once (the X-ray findings of the README).
TEST_F(DatasetsE2E, StatsCountsEachLabelOfAListColumn) {
  const std::string tsv = "id\tfindings\n1\tHernia|Edema\n2\tEdema\n3\tNo Finding\n4\t\n";
  ASSERT_EQ(Urn({"datasets", "create", "xr", File("xr.tsv", tsv), "-H", "--list-delimiter", "|"})
                .exit_code,
            0);
  testing::RunResult r = Urn({"stats", "--dataset", "xr", "--by", "findings"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string full, half;
  for (int i = 0; i < 40; ++i) full += "\u2588";
  for (int i = 0; i < 20; ++i) half += "\u2588";
  EXPECT_NE(r.out.find("\nEdema       " + full + "          2\n"), std::string::npos) << r.out;
  for (const std::string one : {"Hernia     ", "No Finding ", "(null)     "}) {
    EXPECT_NE(r.out.find("\n" + one + " " + half + std::string(20, ' ') + "          1\n"),
              std::string::npos)
        << one << " in " << r.out;
  }
  EXPECT_EQ(r.out.find("Hernia|Edema"), std::string::npos) << "lists are split: " << r.out;
}

// Nulls of a scalar column count as "(null)", once per row, in batches of any size (a mask per
// batch; the null list was scanned for every row).
TEST_F(DatasetsE2E, StatsCountsTheNullsOfAScalarColumn) {
  std::string tsv = "id\tc\n";
  for (int i = 0; i < 70000; ++i) tsv += std::to_string(i) + "\t" + (i % 10 == 3 ? "v" : "") + "\n";
  ASSERT_EQ(Urn({"datasets", "create", "sparse", File("sparse.tsv", tsv), "-H"}).exit_code, 0);
  testing::RunResult r = Urn({"stats", "--dataset", "sparse", "--by", "c"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("      63000\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\n(null) "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("       7000\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\nv "), std::string::npos) << r.out;
  // An empty string is a value (JSON keeps it apart from null): "(empty)", not "(null)".
  ASSERT_EQ(
      Urn({"datasets", "create", "json",
           File("e.jsonl", "{\"c\": \"\"}\n{\"c\": null}\n{\"c\": \"\"}\n"), "--format", "jsonl"})
          .exit_code,
      0);
  r = Urn({"stats", "--dataset", "json", "--by", "c"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\n(empty) "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("          2\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\n(null) "), std::string::npos) << r.out;
}

// A weight a double cannot hold is refused on a dataset as in a file, not sampled as 0: the
// column keeps its text ("1e-400"), and -w on it names the row.
TEST_F(DatasetsE2E, AWeightOutOfADoublesRangeIsRefusedAsInAFile) {
  const std::string tsv = File("tiny.tsv", "id\tw\na\t1\nb\t1e-400\n");
  testing::RunResult local =
      testing::Run({URN_CLI_PATH, "sample", "-H", "-n", "1", "-w", "w", "-v", "1", tsv});
  EXPECT_EQ(local.exit_code, 1);
  EXPECT_NE(local.err.find(tsv + ":3: weight '1e-400'"), std::string::npos) << local.err;
  ASSERT_EQ(Urn({"datasets", "create", "tiny", tsv, "-H"}).exit_code, 0);
  testing::RunResult r = Urn({"datasets", "describe", "tiny"});
  EXPECT_NE(r.out.find("w\tstring\t0"), std::string::npos) << r.out;
  r = Urn({"sample", "--dataset", "tiny", "-H", "-n", "1", "-w", "w", "-v", "1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("'w' is out of the range of a double at row id 1 ('1e-400')"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.out, "");
}

// Spaces around a weight are allowed on a dataset as in a file (the column keeps its text), and
// the sample is the file's.
TEST_F(DatasetsE2E, SpacesAroundAWeightAreReadAsInAFile) {
  const std::string tsv = File("spaced.tsv", "id\tw\na\t 3\nb\t1 \nc\t0\nd\t2\n");
  const testing::RunResult local =
      testing::Run({URN_CLI_PATH, "sample", "-H", "-n", "2", "-w", "w", "-v", "5", tsv});
  ASSERT_EQ(local.exit_code, 0) << local.err;
  ASSERT_EQ(Urn({"datasets", "create", "spaced", tsv, "-H"}).exit_code, 0);
  const testing::RunResult r =
      Urn({"sample", "--dataset", "spaced", "-H", "-n", "2", "-w", "w", "-v", "5"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, local.out);
}

TEST_F(DatasetsE2E, ErrorsNameTheProblem) {
  const std::string tsv = File("d.tsv", "a\tb\n1\t2\n");
  ASSERT_EQ(Urn({"datasets", "create", "d", tsv, "-H"}).exit_code, 0);
  testing::RunResult r = Urn({"datasets", "create", "d", tsv, "-H"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "urn: name: dataset 'd' already exists\n");
  const std::string bad = File("bad.tsv", "a\tb\n1\n");
  r = Urn({"datasets", "create", "bad", bad, "-H"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "urn: " + bad + ":2: field 'b': expected 2 fields, got 1\n");
  // A field over urnd's size limit is named by file:line too (its code is RESOURCE_EXHAUSTED,
  // not a plan quota: exit 1).
  const std::string huge = File("huge.tsv", "a\tb\n1\t" + std::string((16 << 20) + 1, 'x') + "\n");
  r = Urn({"datasets", "create", "huge", huge, "-H"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "urn: resource exhausted: " + huge +
                       ":2: field 'b': field longer than max_field_bytes (16777216)\n");
  r = Urn({"datasets", "create", "no/slash", tsv});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "urn: name: 'no/slash' may only use letters, digits, '_', '.' and '-'\n");
  // A failed upload leaves nothing behind: the name is free.
  EXPECT_EQ(Urn({"datasets", "create", "bad", tsv, "-H"}).exit_code, 0);
  r = testing::Run({URN_CLI_PATH, "--server", Address(), "datasets", "list"});
  EXPECT_EQ(r.exit_code, 3);
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

std::vector<std::string> FirstColumn(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = text.find('\n', start);
    const std::string line = text.substr(start, end - start);
    out.push_back(line.substr(0, line.find('\t')));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

// SIGTERM during a stream whose reader is slow: urnd cancels it after --shutdown-grace and
// exits 0; the client sees the stream end with an error, not a hang.
TEST_F(DatasetsE2E, SigtermCancelsASlowStreamAfterTheGraceAndExitsZero) {
  urnd_->Signal(SIGTERM);
  ASSERT_EQ(urnd_->Wait(seconds(10)), 0);
  urnd_ = std::make_unique<testing::Subprocess>(
      std::vector<std::string>{URND_PATH, "--listen", Address(), "--data-dir", dir_.Join("data"),
                               "--shutdown-grace", "1"},
      dir_.path());
  ClientOptions o;
  o.server = Address();
  o.key = testing::ReadFileOrEmpty(dir_.Join("data") + "/admin.key");
  o.key.pop_back();
  absl::StatusOr<Client> client = Client::Connect(o);
  ASSERT_TRUE(client.ok());
  for (int i = 0; i < 200; ++i) {
    absl::StatusOr<bool> ok = client->Healthy();
    if (ok.ok() && *ok) break;
    std::this_thread::sleep_for(milliseconds(50));
  }
  // 100M ids in batches of 64Ki: far more than transport buffers hold.
  v1::ShuffleRequest request;
  request.set_n(100000000);
  request.set_batch_size(65536);
  int batches = 0;
  const auto start = std::chrono::steady_clock::now();
  absl::Status s = client->Shuffle(request, [&](const v1::ShuffleBatch&) {
    if (++batches == 1) urnd_->Signal(SIGTERM);
    std::this_thread::sleep_for(milliseconds(20));
    return true;
  });
  EXPECT_FALSE(s.ok()) << "the stream was cut short";
  EXPECT_LT(batches, 100000000 / 65536);
  std::optional<int> code = urnd_->Wait(seconds(10));
  ASSERT_TRUE(code.has_value()) << "urnd hung after SIGTERM";
  EXPECT_EQ(*code, 0) << urnd_->Stderr();
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(30));
}

// The same flags and seed give the same rows on the server as `urn sample` on the file.
TEST_F(DatasetsE2E, RemoteSampleEqualsLocalSample) {
  std::string text = "id\tlabel\tweight\tuser\n";
  for (int i = 0; i < 20000; ++i) {
    text += std::to_string(i) + "\tl" + std::to_string(i % 5) + "\t" + std::to_string(i % 13) +
            ".25\tu" + std::to_string(i % 777) + "\n";
  }
  const std::string file = File("rows.tsv", text);
  ASSERT_EQ(Urn({"datasets", "create", "rows", file, "-H"}).exit_code, 0);
  for (const std::vector<std::string>& flags : std::vector<std::vector<std::string>>{
           {"-n", "50"},
           {"-n", "50", "-i"},
           {"-n", "50", "--compat"},
           {"-n", "40", "-w", "weight"},
           {"-r", "-n", "60"},
           {"-r", "-n", "60", "-w", "3"},
           {"-p", "0.01"},
           {"-p", "0.01", "--compat"},
           {"-k", "user", "-p", "0.02"},
           {"-k", "user", "-p", "0.02", "--min-per-key", "1"},
           {"--query", "SELECT * WHERE label != 'l2' SAMPLE BY weight REPLACE false LIMIT 30"}}) {
    std::vector<std::string> remote = {"sample", "-H", "-v", "2026", "--dataset", "rows"};
    remote.insert(remote.end(), flags.begin(), flags.end());
    testing::RunResult r = Urn(remote);
    std::vector<std::string> local = {URN_CLI_PATH, "sample", "-H", "-v", "2026"};
    local.insert(local.end(), flags.begin(), flags.end());
    local.push_back(file);
    testing::RunResult l = testing::Run(local);
    ASSERT_EQ(r.exit_code, 0) << flags[0] << ": " << r.err;
    ASSERT_EQ(l.exit_code, 0) << l.err;
    EXPECT_GT(FirstColumn(r.out).size(), 2u) << flags[0];
    EXPECT_EQ(FirstColumn(r.out), FirstColumn(l.out)) << flags[0] << " " << flags[1];
  }
  // With --with-weight the weight column is the file's too, byte for byte, for every sampler.
  for (const std::vector<std::string>& flags :
       std::vector<std::vector<std::string>>{{"-n", "50"},
                                             {"-n", "50", "--compat"},
                                             {"-n", "50", "--compat", "-i"},
                                             {"-n", "40", "-w", "weight"},
                                             {"-p", "0.01"},
                                             {"-p", "0.01", "--compat"},
                                             {"-k", "user", "-p", "0.02", "--min-per-key", "1"},
                                             {"-n", "30000", "--compat"}}) {
    std::vector<std::string> remote = {"sample", "-H", "-v", "11", "--dataset", "rows"};
    remote.insert(remote.end(), flags.begin(), flags.end());
    remote.insert(remote.end(), {"--with-weight", "ht"});
    std::vector<std::string> local = {URN_CLI_PATH, "sample", "-H", "-v", "11"};
    local.insert(local.end(), flags.begin(), flags.end());
    local.insert(local.end(), {"--with-weight", "ht", file});
    testing::RunResult r = Urn(remote);
    testing::RunResult l = testing::Run(local);
    ASSERT_EQ(r.exit_code, 0) << absl::StrJoin(flags, " ") << ": " << r.err;
    ASSERT_EQ(l.exit_code, 0) << l.err;
    EXPECT_NE(r.out.find("\tht\n"), std::string::npos) << absl::StrJoin(flags, " ");
    EXPECT_EQ(r.out, l.out) << absl::StrJoin(flags, " ");
  }
  // A query's WITH WEIGHT AS column comes back too, header and values, as for the file; also
  // for draws with replacement, which urnd streams lazily, and for uniform draws with weights.
  const std::string q = "SAMPLE ON user DISTINCT (0.02, 1) WITH WEIGHT AS _Weight";
  testing::RunResult remote_q =
      Urn({"sample", "-H", "-v", "2026", "--dataset", "rows", "--query", q});
  testing::RunResult local_q =
      testing::Run({URN_CLI_PATH, "sample", "-H", "-v", "2026", "--query", q, file});
  ASSERT_EQ(remote_q.exit_code, 0) << remote_q.err;
  EXPECT_EQ(remote_q.out.substr(0, remote_q.out.find('\n')), "id\tlabel\tweight\tuser\t_Weight");
  EXPECT_EQ(remote_q.out, local_q.out);
  for (const std::vector<std::string>& flags : std::vector<std::vector<std::string>>{
           {"--query",
            "SELECT * WHERE label != 'l2' SAMPLE BY weight REPLACE true LIMIT 3000 WITH WEIGHT AS "
            "_Weight"},
           {"--query", "SELECT * SAMPLE BY weight REPLACE true LIMIT 3000"},
           {"-r", "-n", "3000", "--with-weight", "hh"}}) {
    std::vector<std::string> remote = {"sample", "-H", "-v", "7", "--dataset", "rows"};
    remote.insert(remote.end(), flags.begin(), flags.end());
    std::vector<std::string> local = {URN_CLI_PATH, "sample", "-H", "-v", "7"};
    local.insert(local.end(), flags.begin(), flags.end());
    local.push_back(file);
    testing::RunResult r = Urn(remote);
    testing::RunResult l = testing::Run(local);
    ASSERT_EQ(r.exit_code, 0) << flags[1] << ": " << r.err;
    ASSERT_EQ(l.exit_code, 0) << l.err;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 3001) << flags[1];
    EXPECT_EQ(r.out, l.out) << flags[1];
  }
  testing::RunResult bad = Urn({"sample", "--dataset", "rows", "-n", "3", "-w", "label"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("weighted.weight_column: 'label' is not a number at row id 0"),
            std::string::npos)
      << bad.err;
  bad = Urn({"sample", "--dataset", "nope", "-n", "3"});
  EXPECT_EQ(bad.err, "urn: --dataset: no dataset named 'nope'\n");
}

// Four ranks of one epoch cover [0, 1M) exactly once; a resumed rank continues exactly.
TEST_F(DatasetsE2E, ShuffleRanksCoverEveryRowOnceAndResume) {
  std::vector<int> seen(1000000, 0);
  std::vector<std::string> rank0;
  for (int rank = 0; rank < 4; ++rank) {
    testing::RunResult r = Urn({"shuffle", "--n", "1000000", "--seed", "9", "--epoch", "3",
                                "--rank", std::to_string(rank), "--world", "4"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::vector<std::string> ids = FirstColumn(r.out);
    ASSERT_EQ(ids.size(), 250000u);
    for (const std::string& id : ids) ++seen[std::stoi(id)];
    if (rank == 0) rank0 = ids;
  }
  EXPECT_EQ(std::count(seen.begin(), seen.end(), 1), 1000000);
  testing::RunResult resumed = Urn({"shuffle", "--n", "1000000", "--seed", "9", "--epoch", "3",
                                    "--rank", "0", "--world", "4", "--offset", "123456"});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  const std::vector<std::string> tail = FirstColumn(resumed.out);
  ASSERT_EQ(tail.size(), 250000u - 123456u);
  EXPECT_TRUE(std::equal(tail.begin(), tail.end(), rank0.begin() + 123456));
  testing::RunResult other_epoch =
      Urn({"shuffle", "--n", "1000000", "--seed", "9", "--epoch", "4", "--world", "4"});
  EXPECT_NE(FirstColumn(other_epoch.out), rank0);
  // A rank outside the world is refused before anything is sent (exit 2, naming the flags).
  testing::RunResult bad = Urn({"shuffle", "--n", "10", "--rank", "4", "--world", "4"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--rank 4 must be below --world 4"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace urn
