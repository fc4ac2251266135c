// Every `urn` subcommand against a real urnd: its success, and its main errors with the
// sentence printed and the documented exit code (client/cli/exit_codes.h): 1 the request
// failed, 2 usage, 3 not authenticated or permission denied, 4 quota exceeded, 5 server
// unavailable.
#include <gtest/gtest.h>
#include <signal.h>

#include <memory>
#include <string>
#include <vector>

#include "e2e/urnd_process.h"
#include "support/subprocess.h"
#include "support/temp_dir.h"

namespace urn {
namespace {

// Whose key a step runs with.
// kAdminFileOverEnvKey: --key-file of the admin key while URN_KEY holds a bad key (the flag
// must win).
enum class As { kAdmin, kUser, kRevoked, kNone, kAdminFileOverEnvKey };

struct Step {
  std::vector<std::string> args;
  As as;
  int exit_code;
  // Expected in stdout (exit 0) or stderr (otherwise); empty: not checked.
  std::string text;
};

class CommandLineE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    port_ = testing::FreeLoopbackPort();
    testing::WriteFileOrDie(dir_.Join("urnd.yaml"),
                            "plans:\n"
                            "  small:\n    rows_per_day: 300\n    datasets: 2\n"
                            "    features: [sample, shuffle, weights]\n"
                            "  big:\n    features: [all]\n");
    urnd_ = testing::StartUrnd(Address(), dir_.Join("data"), {"--config", dir_.Join("urnd.yaml")},
                               dir_.path());
  }
  std::string Address() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string File(const std::string& name, const std::string& text) {
    testing::WriteFileOrDie(dir_.Join(name), text);
    return dir_.Join(name);
  }
  testing::RunResult Urn(std::vector<std::string> args, As as) {
    std::vector<std::string> head = {URN_CLI_PATH, "--server", Address()};
    if (as == As::kAdminFileOverEnvKey) {
      head.insert(head.begin(), {"/usr/bin/env", "URN_KEY=urn_not_a_key"});
      as = As::kAdmin;
    }
    if (as == As::kAdmin) head.insert(head.end(), {"--key-file", dir_.Join("data/admin.key")});
    if (as == As::kUser) head.insert(head.end(), {"--key", user_key_});
    if (as == As::kRevoked) head.insert(head.end(), {"--key", revoked_key_});
    args.insert(args.begin(), head.begin(), head.end());
    return testing::Run(args);
  }
  void Check(const Step& s) {
    std::string line;
    for (const std::string& a : s.args) line += a + " ";
    SCOPED_TRACE(line);
    testing::RunResult r = Urn(s.args, s.as);
    EXPECT_EQ(r.exit_code, s.exit_code) << "stdout: " << r.out << "\nstderr: " << r.err;
    const std::string& where = s.exit_code == 0 ? r.out : r.err;
    EXPECT_NE(where.find(s.text), std::string::npos) << "expected '" << s.text << "' in: " << where;
    if (s.exit_code != 0) {
      EXPECT_EQ(r.err.rfind("urn", 0), 0u) << "errors start with the program's name: " << r.err;
    }
  }
  static std::string Line(const std::string& out) { return out.substr(0, out.find('\n')); }

  testing::TempDir dir_;
  int port_ = 0;
  std::unique_ptr<testing::Subprocess> urnd_;
  std::string user_key_;
  std::string revoked_key_;
};

TEST_F(CommandLineE2E, EverySubcommandSucceedsAndFailsWithItsExitCode) {
  const std::string rows = File("rows.tsv", [] {
    std::string t = "id\tlabel\tw\n";
    for (int i = 0; i < 100; ++i) {
      t += std::to_string(i) + "\tl" + std::to_string(i % 3) + "\t" + std::to_string(i % 5) + "\n";
    }
    return t;
  }());
  const std::string bad_rows = File("bad.tsv", "a\tb\n1\t2\n3\n");
  const std::string updates = File("updates.tsv", "0\t1\n1\t3\n");

  // Users and keys first: the rest of the steps run as this user.
  testing::RunResult made =
      Urn({"admin", "users", "create", "dana", "--plan", "small"}, As::kAdmin);
  ASSERT_EQ(made.exit_code, 0) << made.err;
  user_key_ = Line(made.out);
  made = Urn({"admin", "keys", "create", "dana"}, As::kAdmin);
  ASSERT_EQ(made.exit_code, 0) << made.err;
  revoked_key_ = Line(made.out);
  const std::string revoked_id = revoked_key_.substr(4, 16);

  const std::vector<Step> steps = {
      // health, info
      {{"health"}, As::kNone, 0, "SERVING"},
      {{"health", "--service", "urn.v1.Sampling"}, As::kNone, 0, "SERVING"},
      {{"health", "--service", "urn.v1.Nothing"}, As::kNone, 1, "service name unknown"},
      {{"info"}, As::kUser, 0, URN_VERSION},
      // admin users
      {{"admin", "users", "create", "erin", "--plan", "small"}, As::kAdmin, 0, "urn_"},
      {{"admin", "users", "create", "erin", "--plan", "small"}, As::kAdmin, 1, "erin"},
      {{"admin", "users", "create", "fay", "--plan", "gold"}, As::kAdmin, 1, "gold"},
      {{"admin", "users", "create", "gus", "--plan", "small"}, As::kUser, 3, "permission denied: "},
      {{"admin", "users", "set-plan", "erin", "big"}, As::kAdmin, 0, ""},
      {{"admin", "users", "set-plan", "nobody", "big"}, As::kAdmin, 1, "nobody"},
      {{"admin", "users", "delete", "erin"}, As::kAdmin, 0, ""},
      {{"admin", "users", "delete", "erin"}, As::kAdmin, 1, "erin"},
      // admin keys
      {{"admin", "keys", "list", "dana"}, As::kAdmin, 0, revoked_id},
      {{"admin", "keys", "list"}, As::kUser, 3, "permission denied: "},
      {{"admin", "keys", "revoke", revoked_id}, As::kAdmin, 0, ""},
      {{"admin", "keys", "revoke", "0000000000000000"}, As::kAdmin, 1, "0000000000000000"},
      {{"admin", "keys", "create", "nobody"}, As::kAdmin, 1, "nobody"},
      {{"admin", "keys", "list", "nobody"}, As::kAdmin, 1, "urn: user: no user named 'nobody'\n"},
      {{"usage"}, As::kRevoked, 3, "not authenticated: "},
      {{"usage"}, As::kNone, 3, "not authenticated: "},
      {{"datasets", "list"}, As::kAdminFileOverEnvKey, 0, ""},
      // usage
      {{"usage"}, As::kUser, 0, "plan\tsmall\n"},
      // datasets
      {{"datasets", "create", "rows", rows, "-H"}, As::kUser, 0, "rows"},
      {{"datasets", "create", "rows", rows, "-H"}, As::kUser, 1, "rows"},
      {{"datasets", "create", "bad", bad_rows, "-H"}, As::kUser, 1, "bad.tsv:3: field 'b'"},
      {{"datasets", "create", "x", rows, "-H", "--list-delimiter", "\t"},
       As::kUser,
       2,
       "--list-delimiter must be one character other than the field delimiter"},
      {{"datasets", "create", "x", rows, "-d", "ab"}, As::kUser, 2, "-d/--delimiter must be one"},
      {{"datasets", "create", "missing", dir_.Join("nope.tsv"), "-H"}, As::kUser, 2, "nope.tsv"},
      {{"datasets", "create", "x", rows, "--format", "xml"},
       As::kUser,
       2,
       "--format: 'xml' is not tsv, csv or jsonl"},
      // A JSONL line's keys name its columns: -H and -d would be silently ignored.
      {{"datasets", "create", "x", rows, "--format", "jsonl", "-H"},
       As::kUser,
       2,
       "urn: -H/--header describes TSV and CSV files; JSONL has none (keys name the columns)\n"},
      {{"datasets", "create", "x", rows, "--format", "jsonl", "-d", ","},
       As::kUser,
       2,
       "urn: -d/--delimiter describes TSV and CSV files"},
      {{"datasets", "list"}, As::kUser, 0, "rows"},
      {{"datasets", "describe", "rows"}, As::kUser, 0, "label"},
      {{"datasets", "describe", "nope"}, As::kUser, 1, "name: no dataset named 'nope'"},
      {{"datasets", "create", "second", rows, "-H"}, As::kUser, 0, "second"},
      {{"datasets", "create", "third", rows, "-H"}, As::kUser, 4, "quota exceeded: "},
      {{"datasets", "delete", "second"}, As::kUser, 0, ""},
      {{"datasets", "delete", "second"}, As::kUser, 1, "name: no dataset named 'second'"},
      // stats
      {{"stats", "--dataset", "rows", "--by", "label"}, As::kUser, 0, "l0"},
      {{"stats", "--dataset", "rows", "--by", "nope"}, As::kUser, 1, "nope"},
      {{"stats", "--dataset", "nope", "--by", "label"},
       As::kUser,
       1,
       "--dataset: no dataset named 'nope'"},
      // shuffle
      {{"shuffle", "--n", "10", "--seed", "3"}, As::kUser, 0, "\n"},
      {{"shuffle", "--n", "10", "--dataset", "rows"}, As::kUser, 2, "exactly one of"},
      // urnd's errors name the request's field; the command line names the flag (or, below,
      // the positional argument `name`) it came from
      {{"shuffle", "--dataset", "rows", "--offset", "101"},
       As::kUser,
       1,
       "urn: --offset: must be between 0 and this rank's 100 rows\n"},
      {{"shuffle", "--dataset", "nope"}, As::kUser, 1, "urn: --dataset: no dataset named 'nope'\n"},
      {{"shuffle", "--n", "3", "--world", "0"},
       As::kUser,
       2,
       "--world: must be an integer from 1 to 9223372036854775807, not 0"},
      {{"shuffle", "--n", "-5"}, As::kUser, 2, "--n"},
      {{"shuffle", "--dataset", "rows", "--n", "-1"}, As::kUser, 2, "--n"},
      {{"shuffle", "--n", "3", "--offset", "-1"}, As::kUser, 2, "--offset"},
      {{"shuffle", "--n", "10", "--offset", "20"}, As::kUser, 2, "--offset 20 is past the end"},
      {{"shuffle", "--n", "10", "--world", "2", "--offset", "6"},
       As::kUser,
       2,
       "--offset 6 is past the end of the rank's slice, 5 of --n 10 values over --world 2"},
      {{"shuffle", "--n", "9", "--world", "2", "--offset", "5"}, As::kUser, 0, ""},  // padded: 5
      {{"shuffle", "--n", "9", "--world", "2", "--offset", "5", "--drop-last"},
       As::kUser,
       2,
       "slice, 4 of --n 9"},
      {{"shuffle", "--n", "3", "--timeout", "60"}, As::kUser, 0, "\n"},  // a flag of urn after
      {{"shuffle", "--n", "3", "--rank", "2", "--world", "2"},
       As::kUser,
       2,
       "--rank 2 must be below --world 2"},
      // weights
      {{"weights", "create", "per", "--capacity", "4"}, As::kUser, 0, "per"},
      {{"weights", "create", "per", "--capacity", "4"}, As::kUser, 1, "per"},
      {{"weights", "create", "huge", "--capacity", "-1"},
       As::kUser,
       1,
       "urn: --capacity: -1 is not between 1 and "},
      {{"weights", "create", "neg", "--capacity", "4", "--alpha", "-1"},
       As::kUser,
       1,
       "urn: --alpha: -1 is not a finite number >= 0\n"},
      {{"weights", "create", "neg", "--capacity", "4", "--default-priority", "-2"},
       As::kUser,
       1,
       "urn: --default-priority: -2 is not a finite number >= 0"},
      {{"weights", "sample", "nope", "-n", "2"},
       As::kUser,
       1,
       "urn: name: no weight store named 'nope'\n"},
      {{"weights", "update", "nope", updates},
       As::kUser,
       1,
       "urn: name: no weight store named 'nope'\n"},
      {{"weights", "insert", "nope", File("nokeys.tsv", "a\n")},
       As::kUser,
       1,
       "urn: name: no weight store named 'nope'\n"},
      {{"weights", "list"}, As::kUser, 0, "per"},
      {{"weights", "describe", "per"}, As::kUser, 0, "per"},
      {{"weights", "describe", "nope"}, As::kUser, 1, "nope"},
      {{"weights", "update", "per", updates}, As::kUser, 0, ""},
      {{"weights", "update", "per", File("range.tsv", "9\t1\n")}, As::kUser, 1, "slots[0]"},
      {{"weights", "update", "per", File("nan.tsv", "0\tx\n")}, As::kUser, 2, "nan.tsv:1"},
      {{"weights", "get", "per"}, As::kUser, 0, "1\t3\n"},
      {{"weights", "get", "per", "--slots", "7"}, As::kUser, 1, "7"},
      {{"weights", "sample", "per", "-n", "5", "--seed", "1"}, As::kUser, 0, "\t"},
      {{"weights", "sample", "per", "-n", "5", "--beta", "2"},
       As::kUser,
       2,
       "--beta: must be in [0, 1], not 2"},
      {{"weights", "sample", "per", "-n", "5", "--stratified", "--without-replacement"},
       As::kUser,
       2,
       "choose one"},
      // sample (remote): stats, shuffle and weights sample used 100 + 10 + 5 of the plan's 300
      // rows a day; 100 more fit, then the quota
      {{"sample", "--dataset", "rows", "-n", "100", "-v", "1"}, As::kUser, 0, "\n"},
      {{"sample", "--dataset", "nope", "-n", "3"},
       As::kUser,
       1,
       "--dataset: no dataset named 'nope'"},
      {{"sample", "--dataset", "rows", "-n", "2", "--print-random"}, As::kUser, 2, "local only"},
      {{"sample", "--dataset", "rows", "-n", "2", "--csv"},
       As::kUser,
       2,
       "urn sample: --csv describes input files; a dataset on urnd was parsed when it was created"},
      {{"sample", "--dataset", "rows", "-n", "2", "-d", ","},
       As::kUser,
       2,
       "urn sample: -d/--delimiter describes input files"},
      {{"sample", "--dataset", "rows", "-H"}, As::kUser, 2, "urn shuffle --dataset NAME"},
      {{"sample", "--dataset", "rows", "-n", "2", "--timeout", "5"},
       As::kUser,
       2,
       "--timeout is a flag of urn, not of its sample command"},
      {{"sample", "--dataset", "rows", "-n", "100", "-v", "1"},
       As::kUser,
       4,
       "quota exceeded: daily rows of plan 'small' used up"},
      {{"sample", "--dataset", "rows", "--no-such-flag"}, As::kUser, 2, "no-such-flag"},
      {{"sample", "--dataset", "rows", "-n", "5", "rows.tsv"},
       As::kUser,
       2,
       "'rows.tsv' would not be read: give --dataset or files, not both"},
      // insert: keys fill the FIFO ring from slot 0 and print key<TAB>slot; a file that mixes
      // keys with and without a priority is bad usage, naming the line; a stored key exists
      {{"weights", "insert", "per", File("mixed.tsv", "a\nb\t2\n")}, As::kUser, 2, "mixed.tsv:2"},
      // keys are text: bytes that are no UTF-8 are refused naming the line, before urnd
      {{"weights", "insert", "per", File("latin1.tsv", "a\nb\xe9t\n")},
       As::kUser,
       2,
       "latin1.tsv:2: key is not valid UTF-8 at its byte 2"},
      {{"weights", "update", "per", "--keys", File("latin1b.tsv", "\xff\t1\n")},
       As::kUser,
       2,
       "latin1b.tsv:1: key is not valid UTF-8 at its byte 1"},
      // a key longer than a store takes: its line, before urnd (which names its index only)
      {{"weights", "insert", "per", File("long.tsv", "a\n" + std::string(1025, 'k') + "\n")},
       As::kUser,
       2,
       "long.tsv:2: key has 1025 bytes; at most 1024 (nothing was sent)"},
      {{"weights", "insert", "per", File("five.tsv", "a\nb\nc\nd\ne\n")},
       As::kUser,
       2,
       "five.tsv: 5 keys, more than 'per' holds (capacity 4): its FIFO ring would evict the first "
       "of them for the last (nothing was sent)"},
      {{"weights", "insert", "per", File("keys.tsv", "a\nb\n")}, As::kUser, 0, "a\t0\nb\t1\n"},
      {{"weights", "insert", "per", File("again.tsv", "c\t5\na\t1\n")},
       As::kUser,
       1,
       "key \"a\" at index 1 is already stored in slot 0"},
      {{"weights", "update", "per", "--keys", File("bykey.tsv", "b\t7\n")}, As::kUser, 0, ""},
      {{"weights", "get", "per", "--slots", "1"}, As::kUser, 0, "1\t7\n"},
      {{"weights", "delete", "per"}, As::kUser, 0, ""},
      {{"weights", "delete", "per"}, As::kUser, 1, "per"},
      // usage errors
      {{"frobnicate"}, As::kUser, 2, "'frobnicate' is not a command"},
      {{"--servr", "127.0.0.1:1", "health"}, As::kUser, 2, "--servr"},  // not "is not a command"
      {{"datasets", "frobnicate"}, As::kUser, 2, "A subcommand is required"},
      {{"datasets", "create", "x"}, As::kUser, 2, "file is required"},
      {{"--timeout", "soon", "health"}, As::kUser, 2, "soon"},
      {{"--timeout", "-1", "health"}, As::kUser, 2, "--timeout: must be a number above 0"},
      // nothing is sent without a key the file holds or a CA that can be read
      {{"--key-file", dir_.Join("none.key"), "datasets", "list"},
       As::kNone,
       2,
       "none.key: cannot read it"},
      {{"--key-file", File("empty.key", ""), "datasets", "list"},
       As::kNone,
       2,
       "empty.key: its first line is empty"},
      {{"--key-file", dir_.path(), "datasets", "list"},
       As::kNone,
       2,
       "urn: key file " + dir_.path() + ": is a directory, not a file; nothing was sent\n"},
      {{"weights", "update", "per", dir_.path()},
       As::kUser,
       2,
       "urn: " + dir_.path() + ": is a directory, not a file (nothing was sent)\n"},
      {{"weights", "update", "per", dir_.Join("missing.tsv")},
       As::kUser,
       2,
       "missing.tsv: cannot open it (No such file or directory) (nothing was sent)\n"},
      {{"--tls-ca", dir_.Join("none.crt"), "health"}, As::kNone, 2, "none.crt"},
  };
  for (const Step& s : steps) Check(s);

  // A sample the server refuses prints nothing on stdout, not even the header (as the admin,
  // whose plan has rows left).
  ASSERT_EQ(Urn({"datasets", "create", "rows", rows, "-H"}, As::kAdmin).exit_code, 0);
  testing::RunResult refused =
      Urn({"sample", "--dataset", "rows", "-H", "-n", "2", "-w", "label"}, As::kAdmin);
  EXPECT_EQ(refused.exit_code, 1) << refused.err;
  EXPECT_NE(refused.err.find("'label' is not a number at row id 0"), std::string::npos)
      << refused.err;
  EXPECT_EQ(refused.out, "");
  testing::RunResult empty =
      Urn({"sample", "--dataset", "rows", "-H", "-p", "0.000001", "-v", "1"}, As::kAdmin);
  EXPECT_EQ(empty.exit_code, 0) << empty.err;
  EXPECT_EQ(empty.out, "id\tlabel\tw\n");  // an empty sample still has its header
  // -n cuts a sample without a size short on purpose: that is success, as for a local file.
  for (const std::vector<std::string>& mode :
       {std::vector<std::string>{"-p", "0.5"}, std::vector<std::string>{"-k", "id", "-p", "0.5"}}) {
    std::vector<std::string> args = {"sample", "--dataset", "rows", "-H", "-n", "3", "-v", "1"};
    args.insert(args.end(), mode.begin(), mode.end());
    testing::RunResult cut = Urn(args, As::kAdmin);
    EXPECT_EQ(cut.exit_code, 0) << cut.err;
    EXPECT_EQ(std::count(cut.out.begin(), cut.out.end(), '\n'), 4) << cut.out;
  }

  // With the server gone every call is "server unavailable" (5).
  urnd_->Signal(SIGTERM);
  ASSERT_TRUE(urnd_->Wait(std::chrono::seconds(30)).has_value());
  Check({{"--timeout", "2", "datasets", "list"}, As::kUser, 5, "server unavailable: "});
  Check({{"--timeout", "2", "health"}, As::kNone, 5, "server unavailable: "});
}

// A key file saved by a Windows editor (a byte-order mark, CR LF) still works. A key with a byte
// that cannot go in a header is refused before anything is sent (exit 2), naming the byte and
// never the key, instead of gRPC aborting the process with the key in its message.
TEST_F(CommandLineE2E, AWindowsKeyFileWorksAndAnUnsendableKeyIsRefusedWithoutShowingIt) {
  const std::string key = Line(testing::ReadFileOrEmpty(dir_.Join("data/admin.key")));
  ASSERT_FALSE(key.empty());
  testing::RunResult r =
      testing::Run({URN_CLI_PATH, "--server", Address(), "--key-file",
                    File("windows.key", "\xEF\xBB\xBF" + key + "\r\n"), "datasets", "list"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "name\towner\trows\tcolumns\n");
  for (const std::string& bad : {key + "\nmore", key + " ", "\t" + key, key + "\xC3\xA9"}) {
    SCOPED_TRACE(bad);
    r = testing::Run({URN_CLI_PATH, "--server", Address(), "--key", bad, "datasets", "list"});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(r.err.rfind("urn: the API key has byte 0x", 0), 0u) << r.err;
    EXPECT_EQ(r.err.find(key.substr(key.rfind('_') + 1)), std::string::npos) << "secret shown";
  }
}

// A profile file that cannot be read fails the commands that connect, with the reason (exit 2),
// and nothing else: --version, --help and a sample of local files read no profile.
TEST_F(CommandLineE2E, AnUnreadableProfileFailsOnlyTheCommandsThatConnect) {
  const std::string dir = dir_.Join("data");  // a directory where the profile should be
  testing::RunResult r =
      testing::Run({URN_CLI_PATH, "--profile-file", dir, "--server", Address(), "health"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "urn: profile file " + dir + ": is a directory, not a file\n");
  r = testing::Run({URN_CLI_PATH, "--profile-file", dir, "--version"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("urn ", 0), 0u) << r.out;
  r = testing::Run({"/usr/bin/env", "URN_PROFILE_FILE=" + dir, URN_CLI_PATH, "sample", "-n", "1",
                    File("one.txt", "x\n")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "x\n");
}

}  // namespace
}  // namespace urn
