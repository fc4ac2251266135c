// WorkPool: a fixed set of threads that run submitted work in submission order, for work too
// long for gRPC's callback threads. urnd's callback API runs every reaction on a few threads
// that gRPC owns (two on a 2-core machine): a request that computed a sample over 10^7 rows
// there would stall every other call of every client until it was done. Such work is handed
// here instead, and the call's reactor goes on when it is done.
//
// Order: first in, first out; with more than one thread, items may finish out of order.
// Thread safety: Run and queued() may be called from any thread, also from work in the pool.
// Destruction runs everything still queued, then joins the threads.
#ifndef URN_SERVER_WORK_POOL_H_
#define URN_SERVER_WORK_POOL_H_

#include <cstddef>
#include <deque>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"

namespace urn::server {

class WorkPool {
 public:
  // `nice` (0 to 19) lowers the threads' scheduling priority by that much from urnd's own
  // (Linux setpriority, at most nice 19; threads they start inherit it), so that on a busy
  // machine the threads serving short calls get the CPU first. REQUIRES: threads >= 1.
  explicit WorkPool(int threads, int nice = 0);
  WorkPool(const WorkPool&) = delete;
  WorkPool& operator=(const WorkPool&) = delete;
  ~WorkPool();

  void Run(absl::AnyInvocable<void() &&> work);
  // Items waiting for a thread (not those running).
  size_t queued() const;
  int threads() const { return static_cast<int>(threads_.size()); }

 private:
  void Loop(int nice);

  mutable absl::Mutex mu_;
  std::deque<absl::AnyInvocable<void() &&>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace urn::server

#endif  // URN_SERVER_WORK_POOL_H_
