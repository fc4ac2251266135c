// TestHook: a function a test may set, for the code under test to run at one point (say, inside
// a window where a concurrent change may fall). Unset, Run() costs one atomic load and no lock.
//
// Thread safety: Set and Run may be called concurrently; Run calls a copy of the hook, without
// holding any lock.
#ifndef URN_SERVER_TEST_HOOK_H_
#define URN_SERVER_TEST_HOOK_H_

#include <atomic>
#include <functional>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace urn::server {

class TestHook {
 public:
  // Sets the hook; nullptr removes it.
  void Set(std::function<void()> hook) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    hook_ = std::move(hook);
    set_.store(static_cast<bool>(hook_), std::memory_order_release);
  }

  // Runs the hook, if one is set.
  void Run() const ABSL_LOCKS_EXCLUDED(mu_) {
    if (!set_.load(std::memory_order_acquire)) return;
    std::function<void()> hook;
    {
      absl::MutexLock lock(&mu_);
      hook = hook_;
    }
    if (hook) hook();
  }

 private:
  std::atomic<bool> set_{false};
  mutable absl::Mutex mu_;
  std::function<void()> hook_ ABSL_GUARDED_BY(mu_);
};

}  // namespace urn::server

#endif  // URN_SERVER_TEST_HOOK_H_
