// Weight stores on a real urnd through the real `urn` command line and the client library:
// the weights commands, and kill -9 during streams of priority updates.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "e2e/urnd_process.h"
#include "random/counter_rng.h"
#include "support/subprocess.h"
#include "support/temp_dir.h"
#include "urn/client.h"

namespace urn {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class WeightStoresE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    port_ = testing::FreeLoopbackPort();
    Start();
  }
  // Snapshots are made small and frequent, so that kills land during them too.
  void Start() {
    urnd_ = testing::StartUrnd(
        Address(), dir_.Join("data"),
        {"--fsync-interval", "0.05", "--snapshot-log-bytes", "200000", "--log-level", "warn"},
        dir_.path());
  }
  std::string Address() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string AdminKey() const {
    std::string key = testing::ReadFileOrEmpty(dir_.Join("data") + "/admin.key");
    if (!key.empty()) key.pop_back();
    return key;
  }
  Client AdminClient() const {
    ClientOptions o;
    o.server = Address();
    o.key = AdminKey();
    return *Client::Connect(o);
  }
  testing::RunResult Urn(std::vector<std::string> args, const std::string& stdin_path = "") {
    args.insert(args.begin(), {URN_CLI_PATH, "--server", Address(), "--key-file",
                               dir_.Join("data") + "/admin.key"});
    return testing::Run(args, stdin_path);
  }
  std::string File(const std::string& name, const std::string& contents) {
    testing::WriteFileOrDie(dir_.Join(name), contents);
    return dir_.Join(name);
  }

  testing::TempDir dir_;
  int port_ = 0;
  std::unique_ptr<testing::Subprocess> urnd_;
};

TEST_F(WeightStoresE2E, CommandLineCreateUpdateGetSample) {
  testing::RunResult r = Urn({"weights", "create", "per", "--capacity", "6", "--alpha", "0.5"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "created weight store 'per': 6 slots, alpha 0.5\n");
  r = Urn({"weights", "update", "per", File("u.tsv", "1\t4\n3\t16\n5\t0.25\n1\t1\n")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "acknowledged 4 updates in 1 batches\n");
  r = Urn({"weights", "get", "per"});
  EXPECT_EQ(r.out, "0\t0\n1\t1\n2\t0\n3\t16\n4\t0\n5\t0.25\n");
  r = Urn({"weights", "get", "per", "--slots", "3-4"});
  EXPECT_EQ(r.out, "3\t16\n4\t0\n");
  // Numbers as written (shortest exact text), not 17 digits: 0.6 is not 0.59999999999999998.
  ASSERT_EQ(Urn({"weights", "create", "tenths", "--capacity", "2", "--alpha", "0.6"}).exit_code, 0);
  r = Urn({"weights", "describe", "tenths"});
  EXPECT_NE(r.out.find("\nalpha\t0.6\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\ntotal\t0\nmax_priority\t1\n"), std::string::npos) << r.out;
  // sqrt: 1, 4, 0.5 of 5.5; importance weights with beta 1 are P_min / P.
  r = Urn({"weights", "sample", "per", "-n", "300", "--seed", "1", "--beta", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  int lines = 0;
  for (size_t at = 0; at < r.out.size(); at = r.out.find('\n', at) + 1) {
    const std::string line = r.out.substr(at, r.out.find('\n', at) - at);
    ++lines;
    if (line.rfind("1\t", 0) == 0) {
      EXPECT_EQ(line, "1\t0.18181818181818182\t0.5");
    } else if (line.rfind("3\t", 0) == 0) {
      EXPECT_EQ(line, "3\t0.7272727272727273\t0.125");
    } else {
      EXPECT_EQ(line, "5\t0.09090909090909091\t1");
    }
  }
  EXPECT_EQ(lines, 300);
  EXPECT_EQ(Urn({"weights", "sample", "per", "-n", "300", "--seed", "1", "--beta", "1"}).out,
            r.out);

  // Errors: a bad line changes nothing (exit 2, file:line); a slot out of range is the server's
  // INVALID_ARGUMENT naming the field (exit 1); an unknown store is not found.
  r = Urn({"weights", "update", "per", File("bad.tsv", "0\t1\n2\tx\n")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("bad.tsv:2: priority 'x' is not a finite number >= 0 (nothing was sent)"),
            std::string::npos)
      << r.err;
  // Priorities are read as `urn sample -w` reads weights: no hexadecimal, nothing a double
  // cannot hold (1e-400 would be 0); spaces around the number are fine.
  r = Urn({"weights", "update", "per", File("tiny.tsv", "0\t1\n1\t1e-400\n")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("tiny.tsv:2: priority '1e-400' is out of the range of a double"),
            std::string::npos)
      << r.err;
  r = Urn({"weights", "update", "per", File("hex.tsv", "0\t0x1p1\n")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("hex.tsv:1: priority '0x1p1' is not a finite number >= 0"),
            std::string::npos)
      << r.err;
  // A priority's text is shown escaped, as a weight's is: a NUL does not cut the message.
  r = Urn({"weights", "update", "per", File("nul.tsv", std::string("0\t1\0x\n", 6))});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("nul.tsv:1: priority '1\\x00x' is not a finite number >= 0 (nothing was "
                       "sent)"),
            std::string::npos)
      << r.err;
  r = Urn({"weights", "update", "per", "--batch", "1", File("spaced.tsv", "5\t 2.5 \n")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Urn({"weights", "get", "per", "--slots", "5"}).out, "5\t2.5\n");
  r = Urn({"weights", "update", "per"}, File("range.tsv", "0\t1\n6\t1\n"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("slots[1]: 6 is outside [0, 6)"), std::string::npos) << r.err;
  EXPECT_EQ(Urn({"weights", "get", "per", "--slots", "0"}).out, "0\t0\n");
  r = Urn({"weights", "get", "nope"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "urn: name: no weight store named 'nope'\n");
  r = Urn({"admin", "users", "create", "bob", "--plan", "free"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("urn_", 0), 0u);
  EXPECT_EQ(r.out.size(), 4 + 16 + 1 + 32 + 1);
}

// Bad input to the weights commands names what is wrong, and nothing looks acknowledged that
// was not: a refused entry's file:line, the store of an empty update, a range past the capacity.
TEST_F(WeightStoresE2E, CommandLineNamesTheBadLineRangeOrStore) {
  ASSERT_EQ(Urn({"weights", "create", "ten", "--capacity", "10"}).exit_code, 0);
  // Batches of 2 with a blank line: the refused entry is batch 3's second, on line 6.
  testing::RunResult r = Urn({"weights", "update", "ten", "--batch", "2",
                              File("late.tsv", "0\t1\n1\t2\n\n2\t3\n3\t4\n4\t5\n50\t6\n")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("4 of 6 updates (the first 2 batches) were acknowledged"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("late.tsv:7: slots[1]: 50 is outside [0, 10)"), std::string::npos) << r.err;
  // A key that is not stored is skipped, by name and line; the others are applied.
  ASSERT_EQ(Urn({"weights", "insert", "ten", File("b.tsv", "b\n")}).exit_code, 0);
  r = Urn({"weights", "update", "ten", "--keys", File("keys.tsv", "a\t1\nb\t2\n")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("keys.tsv:1: key \"a\" is not stored (evicted, or never inserted); its "
                       "update was skipped"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("acknowledged 1 updates in 1 batches (1 keys not stored were skipped)"),
            std::string::npos)
      << r.err;
  r = Urn({"weights", "get", "ten", "--slots", "0"});  // b took the ring's first slot
  EXPECT_EQ(r.out, "0\t2\n") << r.err;
  // An empty update still names a store that does not exist.
  r = Urn({"weights", "update", "nope", File("empty.tsv", "")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no weight store named 'nope'"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("acknowledged 0 updates"), std::string::npos) << r.err;
  r = Urn({"weights", "update", "ten", dir_.Join("missing.tsv")});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  // Ranges past the capacity (even so large that their length would overflow) are refused whole.
  r = Urn({"weights", "get", "ten", "--slots", "8-20"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("--slots: 8-20 goes past the last slot of 'ten', 9"), std::string::npos)
      << r.err;
  r = Urn({"weights", "get", "ten", "--slots", "0-9223372036854775807"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(Urn({"weights", "get", "ten", "--slots", "8-9"}).out, "8\t0\n9\t0\n");
  // Seeds and counts are not wrapped or clamped into other values.
  for (const char* seed : {"-1", "18446744073709551616"}) {
    r = Urn({"weights", "sample", "ten", "-n", "1", "--seed", seed});
    EXPECT_EQ(r.exit_code, 2) << seed;
    EXPECT_NE(r.err.find("--seed: must be an integer from 0 to"), std::string::npos) << r.err;
  }
  r = Urn({"weights", "create", "huge", "--capacity", "99999999999999999999"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  // Keys of 1 KiB, 4096 to a batch, would make a 4 MiB message: batches are cut by bytes too.
  ASSERT_EQ(Urn({"weights", "create", "big", "--capacity", "5000"}).exit_code, 0);
  std::string lines;
  std::vector<std::string> keys;
  for (int i = 0; i < 5000; ++i) {
    keys.push_back(std::string(1000, 'k') + std::to_string(100000 + i));
  }
  absl::StatusOr<std::vector<int64_t>> inserted = AdminClient().Insert("big", keys);
  ASSERT_TRUE(inserted.ok()) << inserted.status();
  ASSERT_EQ(inserted->size(), keys.size());
  EXPECT_EQ(inserted->back(), 4999);
  for (const std::string& k : keys) lines += k + "\t2\n";
  r = Urn({"weights", "update", "big", "--keys", File("big.tsv", lines)});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("acknowledged 5000 updates in 3 batches"), std::string::npos) << r.err;
  // A local file that cannot be read is the caller's input (exit 2), not an unavailable server.
  r = Urn({"datasets", "create", "dir", dir_.path()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("is a directory"), std::string::npos) << r.err;
}

// Batch g sets 500 consecutive slots (from g * 997, wrapping) to priority g, so the store after
// batches 1..k is known exactly, and k is its largest priority.
constexpr int64_t kSlots = 20000;
constexpr int64_t kBatch = 500;

void ApplyBatch(int64_t g, std::vector<double>& state) {
  for (int64_t i = 0; i < kBatch; ++i) state[(g * 997 + i) % kSlots] = static_cast<double>(g);
}

TEST_F(WeightStoresE2E, KillNineDuringUpdatesLosesNoAcknowledgedUpdate) {
  {
    v1::CreateWeightStoreRequest r;
    r.set_name("replay");
    r.set_capacity(kSlots);
    ASSERT_TRUE(AdminClient().CreateWeightStore(r).ok());
  }
  std::vector<double> expected(kSlots, 0.0);  // the store after batches 1..applied
  int64_t applied = 0;
  const random::KeyedStream rng(2026, random::Stream::kSumTree);
  int kills = 0;
  for (int round = 0; round < 20; ++round) {
    std::atomic<int64_t> acked{applied};  // the last acknowledged batch (global number)
    const int64_t first = applied + 1;
    std::thread learner([&] {
      Client client = AdminClient();
      int64_t g = first;
      // Ends with an error when urnd is killed; bounded by 100000 batches otherwise.
      (void)client.UpdatePriorities(
          "replay",
          [&](v1::UpdatePrioritiesRequest* r) {
            if (g >= first + 100000) return false;
            for (int64_t i = 0; i < kBatch; ++i) {
              r->add_slots((g * 997 + i) % kSlots);
              r->add_priorities(static_cast<double>(g));
            }
            ++g;
            return true;
          },
          8,
          [&](const v1::UpdatePrioritiesResponse& ack) {
            acked = first + ack.acknowledged_sequence() - 1;
          });
    });
    std::this_thread::sleep_for(milliseconds(50 + rng.Bounded(round, 400)));
    urnd_->Signal(SIGKILL);
    urnd_->Wait(seconds(10));
    ++kills;
    learner.join();
    Start();
    absl::StatusOr<std::vector<double>> got = AdminClient().GetPriorities("replay", 0, kSlots);
    ASSERT_TRUE(got.ok()) << got.status() << urnd_->Stderr();
    // What survived is batches 1..k for some k >= the last acknowledged batch.
    double k = 0;
    for (double p : *got) k = std::max(k, p);
    ASSERT_GE(static_cast<int64_t>(k), acked.load()) << "round " << round;
    for (int64_t g = applied + 1; g <= static_cast<int64_t>(k); ++g) ApplyBatch(g, expected);
    applied = static_cast<int64_t>(k);
    ASSERT_EQ(*got, expected) << "round " << round << ", k = " << applied;
    ASSERT_GT(acked.load(), first) << "round " << round << ": too few updates to prove much";
  }
  EXPECT_EQ(kills, 20);
  std::printf("kill -9 rounds: %d, batches acknowledged and recovered: %lld (%lld updates)\n",
              kills, static_cast<long long>(applied), static_cast<long long>(applied * kBatch));
}

}  // namespace
}  // namespace urn
