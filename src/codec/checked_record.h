// Checked records: the byte framing urn's durable formats share (weights/weight_store_codec.h,
// table/table_codec.h). A record is a 4-byte tag, a uint32 version, little-endian fields, and
// the XXH3-64 of everything before it as its last 8 bytes. RecordReader verifies size,
// checksum, tag and version before any field is read, and then reads with bounds checks, so a
// damaged record is refused with DataLoss (naming the record) and never read out of bounds.
// Cost: O(size) to write and to verify.
// Thread safety: a writer or reader belongs to one thread.
#ifndef URN_CODEC_CHECKED_RECORD_H_
#define URN_CODEC_CHECKED_RECORD_H_

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace urn::codec {

static_assert(std::endian::native == std::endian::little,
              "urn's record formats are little-endian; add byte swapping for this host");

class RecordWriter {
 public:
  // `tag` is 4 characters; `reserve` the expected size of the fields.
  RecordWriter(const char* tag, uint32_t version, size_t reserve = 0);

  template <typename T>
  void Put(T value) {
    static_assert(std::is_trivially_copyable_v<T>);
    char bytes[sizeof(T)];
    std::memcpy(bytes, &value, sizeof(T));
    out_.append(bytes, sizeof(T));
  }
  void PutBytes(const void* data, size_t n) { out_.append(static_cast<const char*>(data), n); }
  // A uint32 length, then the bytes.
  void PutString(std::string_view s);
  // The record, checksum appended.
  std::string Finish();

 private:
  std::string out_;
};

class RecordReader {
 public:
  // Verifies `bytes` as a record of `tag` and `version`; `what` names it in errors.
  static absl::StatusOr<RecordReader> Open(std::string_view bytes, const char* tag,
                                           uint32_t version, std::string what);

  // Each returns false (reading nothing) when the record has too few bytes left.
  template <typename T>
  bool Get(T* value) {
    static_assert(std::is_trivially_copyable_v<T>);
    if (remaining() < sizeof(T)) return false;
    std::memcpy(value, at_, sizeof(T));
    at_ += sizeof(T);
    return true;
  }
  bool GetString(std::string* s);
  // The next n bytes, or nullptr.
  const char* Take(size_t n);

  size_t remaining() const { return static_cast<size_t>(end_ - at_); }
  // DataLoss: "<what>: <why>".
  absl::Status Damaged(std::string_view why) const;

 private:
  RecordReader(std::string_view fields, std::string what)
      : at_(fields.data()), end_(fields.data() + fields.size()), what_(std::move(what)) {}
  const char* at_;
  const char* end_;
  std::string what_;
};

}  // namespace urn::codec

#endif  // URN_CODEC_CHECKED_RECORD_H_
