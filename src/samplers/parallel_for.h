// ParallelFor: runs fn(chunk) for every chunk in [0, chunks) on up to `threads` threads.
//
// For samplers whose output is a pure function of (seed, position): the caller splits its work
// into chunks whose boundaries do not depend on the thread count, so the result is identical
// on 1, 2 or 64 threads; only the speed changes. Chunks are handed out in order through an
// atomic counter. `threads` <= 1 (or a single chunk) runs everything on the calling thread.
//
// Thread safety: fn is called concurrently from several threads with distinct chunk ids; it
// must only write state that belongs to its chunk.
#ifndef URN_SAMPLERS_PARALLEL_FOR_H_
#define URN_SAMPLERS_PARALLEL_FOR_H_

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

namespace urn::samplers {

template <typename Fn>
void ParallelFor(uint64_t chunks, int threads, const Fn& fn) {
  const uint64_t workers = std::min<uint64_t>(threads < 1 ? 1 : threads, chunks);
  if (workers <= 1) {
    for (uint64_t c = 0; c < chunks; ++c) fn(c);
    return;
  }
  std::atomic<uint64_t> next{0};
  auto work = [&] {
    for (uint64_t c = next.fetch_add(1); c < chunks; c = next.fetch_add(1)) fn(c);
  };
  std::vector<std::thread> pool;
  pool.reserve(workers - 1);
  for (uint64_t t = 1; t < workers; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
}

}  // namespace urn::samplers

#endif  // URN_SAMPLERS_PARALLEL_FOR_H_
