#include "weights/page_array.h"

#include <sys/mman.h>

namespace urn::weights {

void* MapZeroedPages(size_t bytes, bool huge_pages) {
  if (bytes == 0) return nullptr;
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return nullptr;
#ifdef MADV_HUGEPAGE
  // Advice only: a kernel without transparent huge pages returns EINVAL, which is harmless.
  if (huge_pages) madvise(p, bytes, MADV_HUGEPAGE);
#else
  (void)huge_pages;
#endif
  return p;
}

void UnmapPages(void* data, size_t bytes) {
  if (data != nullptr) munmap(data, bytes);
}

}  // namespace urn::weights
