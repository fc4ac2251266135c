// Record storage of the local sampler, in memory mapped with transparent huge pages (HugeBuffer)
// so that random reads of records cost one cache miss, not a cache and a TLB miss.
//
// RecordArena: every input record of a whole-input mode (shuffle, with replacement) in one
// byte buffer plus an array of end offsets. Memory: the record bytes plus 8 bytes per record.
// Reserve() maps address space only; pages become resident as they are written, so reserving
// generously costs no memory.
//
// SlotRecords: the records of a reservoir's slots (below).
#ifndef URN_CLIENT_CLI_RECORD_ARENA_H_
#define URN_CLIENT_CLI_RECORD_ARENA_H_

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

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
  void Append(std::string_view bytes);
  // Drops the bytes past the first `bytes` (the memory stays mapped, for the next Grow).
  // REQUIRES: bytes <= size().
  void Truncate(size_t bytes) { size_ = bytes; }
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

// SlotRecords: one record per slot, each slot overwritten any number of times (a reservoir's
// lines). Records are appended to one buffer, so a replacement allocates nothing. When the
// buffer holds more than twice the live bytes (and more than a minimum, kMinCompactBytes unless
// the constructor says otherwise), the live records are moved down in place, in buffer order.
// A compaction moves fewer bytes than the dead ones it drops, so all compactions together move
// fewer bytes than were appended (amortized O(1) per byte), plus O(k log k) per compaction to
// order the k slots, each after at least the minimum of appended bytes.
//
// Memory: at most about twice the live bytes (or the minimum), plus 16 bytes per slot, and 16
// more per slot during a compaction.
class SlotRecords {
 public:
  static constexpr size_t kMinCompactBytes = size_t{64} << 20;

  explicit SlotRecords(size_t min_compact_bytes = kMinCompactBytes)
      : min_compact_bytes_(min_compact_bytes) {}

  // Sets slot `slot`'s record. A slot never set reads empty. REQUIRES: `r` does not point into
  // this object's records (the buffer may move).
  void Put(size_t slot, std::string_view r);
  std::string_view at(size_t slot) const {
    if (slot >= spans_.size()) return std::string_view();
    return std::string_view(bytes_.data() + spans_[slot].begin, spans_[slot].size);
  }
  size_t buffer_bytes() const { return bytes_.size(); }  // for tests
  size_t live_bytes() const { return live_; }

 private:
  void Compact();

  struct Span {
    uint64_t begin = 0;
    uint64_t size = 0;
  };
  const size_t min_compact_bytes_;
  HugeBuffer bytes_;
  std::vector<Span> spans_;
  size_t live_ = 0;
};

}  // namespace urn::cli

#endif  // URN_CLIENT_CLI_RECORD_ARENA_H_
