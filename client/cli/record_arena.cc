#include "record_arena.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

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

void RecordArena::Add(std::string_view r) {
  std::memcpy(bytes_.Grow(r.size()), r.data(), r.size());
  const uint64_t end = bytes_.size();
  std::memcpy(ends_.Grow(sizeof(end)), &end, sizeof(end));
}

}  // namespace urn::cli
