// PendingMark and DeleteEach (server/delete_each.h), which both registries' Create, Delete and
// DeleteOwner rely on: a mark is erased on every way out (an error return, an exception, or
// Clear() under the caller's lock, after which the destructor leaves the set alone), and
// DeleteEach waits for a pending write of the same name before it tries that name again.
#include "delete_each.h"

#include <gtest/gtest.h>

#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"

namespace urn::server {
namespace {

using Key = std::pair<std::string, std::string>;  // (owner, name), as the registries key it

// What a registry's Create or Delete does: marks the key, then writes outside the lock, and
// may fail there by returning early or by throwing (a RocksDB or allocation failure).
absl::Status WriteMarked(absl::Mutex* mu, std::set<Key>* marks, const Key& key, bool fail,
                         bool throws) {
  {
    absl::MutexLock lock(mu);
    marks->insert(key);
  }
  PendingMark<std::set<Key>> mark(mu, marks, key);
  if (throws) throw std::runtime_error("write failed");
  if (fail) return absl::InternalError("write failed");
  absl::MutexLock lock(mu);
  mark.Clear();
  return absl::OkStatus();
}

TEST(PendingMarkTest, AnErrorReturnOrAnExceptionErasesTheMark) {
  absl::Mutex mu;
  std::set<Key> marks;
  const Key key{"alice", "replay"};
  EXPECT_EQ(WriteMarked(&mu, &marks, key, /*fail=*/true, /*throws=*/false).code(),
            absl::StatusCode::kInternal);
  {
    absl::MutexLock lock(&mu);
    EXPECT_TRUE(marks.empty());
  }
  EXPECT_THROW(WriteMarked(&mu, &marks, key, /*fail=*/false, /*throws=*/true), std::runtime_error);
  absl::MutexLock lock(&mu);
  EXPECT_TRUE(marks.empty());
}

TEST(PendingMarkTest, ClearErasesAtOnceAndTheDestructorThenLeavesTheSetAlone) {
  absl::Mutex mu;
  std::set<Key> marks;
  const Key key{"alice", "replay"};
  const Key other{"bob", "replay"};
  {
    absl::MutexLock lock(&mu);
    marks.insert(key);
    marks.insert(other);
  }
  {
    PendingMark<std::set<Key>> mark(&mu, &marks, key);
    absl::MutexLock lock(&mu);
    mark.Clear();
    EXPECT_EQ(marks, std::set<Key>{other});
    // The same key marked again by the next writer, after this one's change was made: the
    // cleared mark's destructor must not erase it.
    marks.insert(key);
  }
  absl::MutexLock lock(&mu);
  EXPECT_EQ(marks, (std::set<Key>{key, other}));
}

TEST(PendingMarkTest, OnlyItsOwnKeyIsErased) {
  absl::Mutex mu;
  std::set<Key> marks;
  const Key key{"alice", "replay"};
  {
    absl::MutexLock lock(&mu);
    marks.insert({"alice", "other"});
    marks.insert({"bob", "replay"});
  }
  EXPECT_FALSE(WriteMarked(&mu, &marks, key, /*fail=*/true, /*throws=*/false).ok());
  absl::MutexLock lock(&mu);
  EXPECT_EQ(marks, (std::set<Key>{{"alice", "other"}, {"bob", "replay"}}));
}

// DeleteEach over `names` with no write pending, where removing `failing` gives `status` and
// every other name is deleted; *tried gets the names it tried, in order.
absl::StatusOr<int> DeleteAllBut(const std::vector<std::string>& names, const std::string& failing,
                                 const absl::Status& status, std::vector<std::string>* tried) {
  absl::Mutex mu;
  const std::set<Key> deleting;
  const auto remove = [&](const std::string& name) {
    tried->push_back(name);
    return name == failing ? status : absl::OkStatus();
  };
  return DeleteEach("alice", names, remove, &mu, &deleting);
}

TEST(DeleteEachTest, CountsDeletedNamesAndSkipsNamesDeletedMeanwhile) {
  std::vector<std::string> tried;
  absl::StatusOr<int> deleted =
      DeleteAllBut({"a", "gone", "b"}, "gone", absl::NotFoundError("no such store"), &tried);
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_EQ(*deleted, 2);
  EXPECT_EQ(tried, (std::vector<std::string>{"a", "gone", "b"}));
}

TEST(DeleteEachTest, AnyOtherErrorEndsTheLoop) {
  std::vector<std::string> tried;
  absl::StatusOr<int> deleted =
      DeleteAllBut({"a", "bad", "b"}, "bad", absl::UnavailableError("disk gone"), &tried);
  EXPECT_EQ(deleted.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(tried, (std::vector<std::string>{"a", "bad"}));
}

// A Delete of "replay" by another call is writing (its key is marked) when DeleteOwner reaches
// it, so the first try is ABORTED. DeleteEach must wait until that write is done (the mark
// cleared) and try again, not spin or give up.
TEST(DeleteEachTest, AnAbortedNameIsTriedAgainOnlyAfterThePendingWriteIsDone) {
  absl::Mutex mu;
  std::set<Key> deleting;
  const Key key{"alice", "replay"};
  {
    absl::MutexLock lock(&mu);
    deleting.insert(key);
  }
  absl::Notification first_try;
  bool marked_at_second_try = true;
  int tries = 0;
  const auto remove = [&](const std::string& name) {
    EXPECT_EQ(name, "replay");
    if (++tries == 1) {
      first_try.Notify();
      return absl::AbortedError("another delete of it is writing");
    }
    absl::MutexLock lock(&mu);
    marked_at_second_try = deleting.count(key) > 0;
    return absl::NotFoundError("deleted by the other call");
  };
  std::thread other([&] {
    PendingMark<std::set<Key>> mark(&mu, &deleting, key);
    first_try.WaitForNotification();
    absl::SleepFor(absl::Milliseconds(50));  // the other call's write, still going
    // Done: the mark goes with the change, under the lock (the destructor's part is tested
    // above, where a broken one fails instead of leaving this test waiting for ever).
    absl::MutexLock lock(&mu);
    mark.Clear();
  });
  absl::StatusOr<int> deleted = DeleteEach("alice", {"replay"}, remove, &mu, &deleting);
  other.join();
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_EQ(*deleted, 0);  // the other call deleted it
  EXPECT_EQ(tries, 2);
  EXPECT_FALSE(marked_at_second_try);
}

}  // namespace
}  // namespace urn::server
