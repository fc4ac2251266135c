#include "work_pool.h"

#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

namespace urn::server {

WorkPool::WorkPool(int threads, int nice) {
  threads_.reserve(threads);
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this, nice] { Loop(nice); });
}

WorkPool::~WorkPool() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (std::thread& t : threads_) t.join();
}

void WorkPool::Run(absl::AnyInvocable<void() &&> work) {
  absl::MutexLock lock(&mu_);
  queue_.push_back(std::move(work));
}

size_t WorkPool::queued() const {
  absl::MutexLock lock(&mu_);
  return queue_.size();
}

void WorkPool::Loop(int nice) {
  // On Linux a thread's nice value is its own (PRIO_PROCESS with its thread id). Relative to
  // the thread's starting value: under `nice -n 5 urnd` the pool runs at 5 + nice (it set the
  // value absolutely, which could even raise the priority of a niced urnd's pool).
  const id_t self = static_cast<id_t>(::gettid());
  errno = 0;
  const int base = ::getpriority(PRIO_PROCESS, self);
  const int target = std::min(19, (errno == 0 ? base : 0) + nice);
  if (nice != 0 && ::setpriority(PRIO_PROCESS, self, target) != 0) {
    spdlog::warn("work pool: cannot lower the priority of a thread to nice {}: {}", target,
                 std::strerror(errno));
  }
  for (;;) {
    absl::AnyInvocable<void() &&> work;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](WorkPool* p)
               ABSL_EXCLUSIVE_LOCKS_REQUIRED(p->mu_) { return p->stopping_ || !p->queue_.empty(); },
          this));
      if (queue_.empty()) return;  // stopping, and nothing left to run
      work = std::move(queue_.front());
      queue_.pop_front();
    }
    std::move(work)();
  }
}

}  // namespace urn::server
