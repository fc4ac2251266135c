// PageArray<T>: a fixed-size, zero-initialized array of trivially copyable T, allocated
// straight from the kernel (anonymous mmap) and, when asked, backed by transparent huge pages
// (madvise(MADV_HUGEPAGE)).
//
// Why: a sum tree over 2^27 slots is a gigabyte touched at random. With 4 KiB pages nearly
// every descent step also misses the TLB; 2 MiB pages make the page walk mostly hit. Where the
// kernel does not offer huge pages the advice is ignored and the array still works.
//
// Cost: O(size) virtual memory; pages are zero-filled lazily by the kernel on first touch.
// Alignment: the data is page aligned (so every 64-byte node starts a cache line).
// Thread safety: like a std::vector (const access may be shared; writes need exclusion).
#ifndef URN_WEIGHTS_PAGE_ARRAY_H_
#define URN_WEIGHTS_PAGE_ARRAY_H_

#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

namespace urn::weights {

// Untyped part: maps and unmaps zeroed memory. Returns nullptr when the mapping fails.
void* MapZeroedPages(size_t bytes, bool huge_pages);
void UnmapPages(void* data, size_t bytes);

template <typename T>
class PageArray {
  static_assert(std::is_trivially_copyable_v<T>, "PageArray holds plain data");

 public:
  PageArray() = default;
  // REQUIRES: enough address space; aborts (std::bad_alloc) when the kernel refuses.
  PageArray(size_t size, bool huge_pages)
      : data_(static_cast<T*>(MapZeroedPages(size * sizeof(T), huge_pages))), size_(size) {
    if (size > 0 && data_ == nullptr) throw std::bad_alloc();
  }
  ~PageArray() { UnmapPages(data_, size_ * sizeof(T)); }

  PageArray(PageArray&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
  PageArray& operator=(PageArray&& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
    return *this;
  }
  PageArray(const PageArray&) = delete;
  PageArray& operator=(const PageArray&) = delete;

  T* data() { return data_; }
  const T* data() const { return data_; }
  size_t size() const { return size_; }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }

 private:
  T* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace urn::weights

#endif  // URN_WEIGHTS_PAGE_ARRAY_H_
