// The C++ client's streams against a real urnd: a StreamCanceller ends Sample, Shuffle and
// UpdatePriorities from another thread (or before they start), and keepalive pings end a
// stream whose server stopped answering (SIGSTOP) instead of leaving it waiting forever.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "e2e/urnd_process.h"
#include "support/subprocess.h"
#include "support/temp_dir.h"
#include "urn/client.h"

namespace urn {
namespace {

using Clock = std::chrono::steady_clock;

class ClientStreamsE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    port_ = testing::FreeLoopbackPort();
    urnd_ = testing::StartUrnd(Address(), dir_.Join("data"), {}, dir_.path());
  }
  void TearDown() override {
    urnd_->Signal(SIGCONT);  // in case a test stopped it
  }
  std::string Address() const { return absl::StrCat("127.0.0.1:", port_); }
  Client Connect(std::chrono::milliseconds keepalive = std::chrono::milliseconds(30000)) {
    ClientOptions o;
    o.server = Address();
    o.key = std::string(
        absl::StripAsciiWhitespace(testing::ReadFileOrEmpty(dir_.Join("data/admin.key"))));
    o.keepalive_time = keepalive;
    o.keepalive_timeout = keepalive;
    return *Client::Connect(o);
  }
  static v1::ShuffleRequest Endless() {
    v1::ShuffleRequest r;
    r.set_n(int64_t{1} << 40);  // far more ids than a test reads
    r.set_batch_size(1024);
    return r;
  }

  testing::TempDir dir_;
  int port_ = 0;
  std::unique_ptr<testing::Subprocess> urnd_;
};

TEST_F(ClientStreamsE2E, ACancellerEndsAStreamFromAnotherThread) {
  Client client = Connect();
  StreamCanceller cancel;
  std::atomic<int64_t> batches{0};
  std::thread canceller([&] {
    while (batches.load() < 3) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    cancel.Cancel();
  });
  const auto start = Clock::now();
  absl::Status s = client.Shuffle(
      Endless(),
      [&](const v1::ShuffleBatch&) {
        ++batches;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        return true;
      },
      &cancel);
  canceller.join();
  EXPECT_EQ(s.code(), absl::StatusCode::kCancelled) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "StreamCanceller")) << s;
  EXPECT_GE(batches.load(), 3);
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(20));

  // A token cancelled before the call: no batch at all, and it stays cancelled.
  int64_t after = 0;
  s = client.Shuffle(
      Endless(),
      [&](const v1::ShuffleBatch&) {
        ++after;
        return true;
      },
      &cancel);
  EXPECT_EQ(s.code(), absl::StatusCode::kCancelled) << s;
  EXPECT_EQ(after, 0);

  // UpdatePriorities: cancelled from its own acknowledgement callback after 5 batches.
  v1::CreateWeightStoreRequest store;
  store.set_name("s");
  store.set_capacity(16);
  ASSERT_TRUE(client.CreateWeightStore(store).ok());
  StreamCanceller stop_updates;
  int64_t acked = 0;
  s = client.UpdatePriorities(
      "s",
      [](v1::UpdatePrioritiesRequest* r) {
        r->add_slots(1);
        r->add_priorities(2.0);
        return true;  // never runs out
      },
      2,
      [&](const v1::UpdatePrioritiesResponse& ack) {
        acked = ack.acknowledged_sequence();
        if (acked == 5) stop_updates.Cancel();
      },
      &stop_updates);
  EXPECT_EQ(s.code(), absl::StatusCode::kCancelled) << s;
  EXPECT_GE(acked, 5);
}

// SIGSTOP: the server holds the connection open but answers nothing. With keepalive pings the
// stream fails UNAVAILABLE once a ping goes unanswered (before: it waited forever).
TEST_F(ClientStreamsE2E, KeepalivePingsEndAStreamWhoseServerStoppedAnswering) {
  Client client = Connect(std::chrono::milliseconds(1000));
  bool stopped = false;
  Clock::time_point stopped_at;
  // Without keepalive the call would never return: a watchdog cancels it after 60 s, which
  // then fails the test (CANCELLED, not UNAVAILABLE) instead of hanging it.
  StreamCanceller watchdog;
  std::atomic<bool> done{false};
  std::thread timer([&] {
    for (int i = 0; i < 600 && !done.load(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    watchdog.Cancel();
  });
  absl::Status s = client.Shuffle(
      Endless(),
      [&](const v1::ShuffleBatch&) {
        if (!stopped) {
          stopped = true;
          urnd_->Signal(SIGSTOP);
          stopped_at = Clock::now();
        }
        return true;
      },
      &watchdog);
  done = true;
  timer.join();
  ASSERT_TRUE(stopped);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_LT(Clock::now() - stopped_at, std::chrono::seconds(30));
}

}  // namespace
}  // namespace urn
