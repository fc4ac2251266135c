// WorkPool: every item runs exactly once, in submission order on one thread, on several threads
// at once, and the destructor runs what is still queued; the threads run at the nice value asked.
#include "work_pool.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <vector>

#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"

namespace urn::server {
namespace {

TEST(WorkPoolTest, OneThreadRunsItemsInSubmissionOrder) {
  std::vector<int> order;
  absl::Mutex mu;
  {
    WorkPool pool(1);
    for (int i = 0; i < 100; ++i) {
      pool.Run([i, &order, &mu] {
        absl::MutexLock lock(&mu);
        order.push_back(i);
      });
    }
  }
  ASSERT_EQ(order.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(order[i], i);
}

TEST(WorkPoolTest, ItemsRunOnAllThreadsAtOnce) {
  WorkPool pool(3);
  EXPECT_EQ(pool.threads(), 3);
  // Each item waits until all three run: that finishes only if they run concurrently.
  absl::BlockingCounter running(3);
  absl::Notification all;
  std::atomic<int> done{0};
  for (int i = 0; i < 3; ++i) {
    pool.Run([&] {
      running.DecrementCount();
      all.WaitForNotification();
      done.fetch_add(1);
    });
  }
  running.Wait();
  EXPECT_EQ(pool.queued(), 0u);
  all.Notify();
  while (done.load() < 3) absl::SleepFor(absl::Milliseconds(1));
}

TEST(WorkPoolTest, QueuedCountsWaitingItemsAndDestructionRunsThem) {
  std::atomic<int> ran{0};
  absl::Notification started, release;
  {
    WorkPool pool(1);
    pool.Run([&] {
      started.Notify();
      release.WaitForNotification();
      ran.fetch_add(1);
    });
    started.WaitForNotification();
    for (int i = 0; i < 5; ++i) pool.Run([&] { ran.fetch_add(1); });
    EXPECT_EQ(pool.queued(), 5u);
    // Work may queue more work.
    pool.Run([&] { pool.Run([&] { ran.fetch_add(1); }); });
    EXPECT_EQ(pool.queued(), 6u);
    release.Notify();
  }
  EXPECT_EQ(ran.load(), 7);
}

TEST(WorkPoolTest, ThreadsRunAtTheNiceValueAsked) {
  const int base = ::getpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()));
  const int want = std::min(base + 5, 19);
  std::atomic<int> seen{-100};
  {
    WorkPool pool(1, want - base);
    pool.Run([&] { seen = ::getpriority(PRIO_PROCESS, static_cast<id_t>(::gettid())); });
  }
  EXPECT_EQ(seen.load(), want);
}

}  // namespace
}  // namespace urn::server
