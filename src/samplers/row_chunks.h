// Splitting rows [0, n) into contiguous chunks scanned by parallel threads.
//
// Samplers whose per-chunk results merge exactly (top-k of keys, per-row decisions) use this
// to spread a scan over threads; the chunk count never changes their result. Chunks are at
// least `min_rows` rows (fewer threads for small inputs), and chunk boundaries are multiples of
// `align` (except n). The caller's thread scans chunk 0; threads are joined before returning.
// Thread safety: `scan` runs concurrently on distinct chunks and must only write per-chunk
// state.
#ifndef URN_SAMPLERS_ROW_CHUNKS_H_
#define URN_SAMPLERS_ROW_CHUNKS_H_

#include <algorithm>
#include <cstdint>
#include <thread>
#include <vector>

namespace urn::samplers {

// The number of chunks ForEachRowChunk uses.
inline uint64_t RowChunkCount(uint64_t n, int threads, uint64_t min_rows) {
  return std::clamp<uint64_t>(n / std::max<uint64_t>(min_rows, 1), 1,
                              static_cast<uint64_t>(std::max(threads, 1)));
}

// Calls scan(chunk, begin, end) for every chunk of RowChunkCount(n, threads, min_rows) chunks.
template <typename Scan>
void ForEachRowChunk(uint64_t n, int threads, uint64_t min_rows, uint64_t align, Scan scan) {
  const uint64_t chunks = RowChunkCount(n, threads, min_rows);
  auto bound = [&](uint64_t c) {
    return c == chunks ? n : n / chunks * c / std::max<uint64_t>(align, 1) * align;
  };
  std::vector<std::jthread> workers;
  workers.reserve(chunks - 1);
  for (uint64_t c = 1; c < chunks; ++c) {
    workers.emplace_back([&, c] { scan(c, bound(c), bound(c + 1)); });
  }
  scan(0, bound(0), bound(1));
}

}  // namespace urn::samplers

#endif  // URN_SAMPLERS_ROW_CHUNKS_H_
