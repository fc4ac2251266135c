// RecordArena: every input record of a whole-input mode (shuffle, with replacement) in one
// byte buffer plus an array of end offsets, in memory mapped with transparent huge pages so
// that the random reads of a shuffle cost one cache miss, not a cache and a TLB miss.
//
// Memory: the record bytes plus 8 bytes per record. Reserve() maps address space only; pages
// become resident as they are written, so reserving generously costs no memory.
#ifndef URN_CLIENT_CLI_RECORD_ARENA_H_
#define URN_CLIENT_CLI_RECORD_ARENA_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace urn::cli {

// A growable array of trivially copyable bytes in anonymous huge-page memory.
class HugeBuffer {
 public:
  HugeBuffer() = default;
  ~HugeBuffer();
  HugeBuffer(const HugeBuffer&) = delete;
  HugeBuffer& operator=(const HugeBuffer&) = delete;

  void Reserve(size_t bytes);
  char* Grow(size_t bytes);  // space for `bytes` more at the end; returns where
  char* data() const { return data_; }
  size_t size() const { return size_; }
  void clear() { size_ = 0; }

 private:
  char* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

class RecordArena {
 public:
  void Reserve(uint64_t bytes) {
    bytes_.Reserve(bytes);
    ends_.Reserve((bytes / 2 + 1) * sizeof(uint64_t));
  }
  void Add(std::string_view r);
  size_t size() const { return ends_.size() / sizeof(uint64_t); }
  std::string_view at(size_t i) const {
    const uint64_t* ends = reinterpret_cast<const uint64_t*>(ends_.data());
    const uint64_t begin = i == 0 ? 0 : ends[i - 1];
    return std::string_view(bytes_.data() + begin, ends[i] - begin);
  }
  // Hints the cache that record `i` will be read soon.
  void Prefetch(size_t i) const {
    const uint64_t* ends = reinterpret_cast<const uint64_t*>(ends_.data());
    __builtin_prefetch(bytes_.data() + (i == 0 ? 0 : ends[i - 1]));
  }
  void PrefetchOffsets(size_t i) const {
    __builtin_prefetch(reinterpret_cast<const uint64_t*>(ends_.data()) + i);
  }
  void clear() {
    bytes_.clear();
    ends_.clear();
  }

 private:
  HugeBuffer bytes_;
  HugeBuffer ends_;
};

}  // namespace urn::cli

#endif  // URN_CLIENT_CLI_RECORD_ARENA_H_
