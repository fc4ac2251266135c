#include "record_arena.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>
#include <vector>

namespace urn::cli {
namespace {

constexpr size_t kHugePage = 2 << 20;

size_t RoundUp(size_t n) { return (n + kHugePage - 1) / kHugePage * kHugePage; }

}  // namespace

HugeBuffer::~HugeBuffer() {
  if (data_ != nullptr) ::munmap(data_, capacity_);
}

void HugeBuffer::Reserve(size_t bytes) {
  if (bytes <= capacity_) return;
  const size_t capacity = RoundUp(std::max<size_t>(bytes, kHugePage));
  // MAP_NORESERVE: a reservation sized for the worst case (one record per 2 input bytes) costs
  // only the pages written; without it a large input's reservation alone could exceed memory.
  void* p = data_ == nullptr ? ::mmap(nullptr, capacity, PROT_READ | PROT_WRITE,
                                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
                             : ::mremap(data_, capacity_, capacity, MREMAP_MAYMOVE);
  if (p == MAP_FAILED) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
  ::madvise(p, capacity, MADV_HUGEPAGE);
#endif
  data_ = static_cast<char*>(p);
  capacity_ = capacity;
}

char* HugeBuffer::Grow(size_t bytes) {
  if (size_ + bytes > capacity_) Reserve(std::max(size_ + bytes, capacity_ * 2));
  char* at = data_ + size_;
  size_ += bytes;
  return at;
}

void HugeBuffer::Append(std::string_view bytes) {
  char* const at = Grow(bytes.size());
  if (!bytes.empty()) std::memcpy(at, bytes.data(), bytes.size());  // (never memcpy a null)
}

void RecordArena::Add(std::string_view r) {
  bytes_.Append(r);
  const uint64_t end = bytes_.size();
  std::memcpy(ends_.Grow(sizeof(end)), &end, sizeof(end));
}

void SlotRecords::Put(size_t slot, std::string_view r) {
  if (slot >= spans_.size()) spans_.resize(slot + 1);
  live_ = live_ - spans_[slot].size + r.size();
  spans_[slot] = Span{bytes_.size(), r.size()};
  bytes_.Append(r);
  if (bytes_.size() > std::max(2 * live_, min_compact_bytes_)) Compact();
}

void SlotRecords::Compact() {
  // Moving the records down in the order they lie in the buffer never overwrites one not yet
  // moved: each goes to at most where it was.
  std::vector<std::pair<uint64_t, size_t>> order(spans_.size());  // (begin, slot)
  for (size_t i = 0; i < order.size(); ++i) order[i] = {spans_[i].begin, i};
  std::sort(order.begin(), order.end());
  uint64_t to = 0;
  for (const auto& [begin, slot] : order) {
    Span& span = spans_[slot];
    std::memmove(bytes_.data() + to, bytes_.data() + span.begin, span.size);
    span.begin = to;
    to += span.size;
  }
  bytes_.Truncate(to);
}

}  // namespace urn::cli
