#include "codec/checked_record.h"

#include <xxhash.h>

#include "absl/strings/str_format.h"

namespace urn::codec {
namespace {

constexpr size_t kHeader = 8;   // tag, version
constexpr size_t kTrailer = 8;  // XXH3-64

}  // namespace

RecordWriter::RecordWriter(const char* tag, uint32_t version, size_t reserve) {
  out_.reserve(kHeader + reserve + kTrailer);
  out_.append(tag, 4);
  Put<uint32_t>(version);
}

void RecordWriter::PutString(std::string_view s) {
  Put<uint32_t>(static_cast<uint32_t>(s.size()));
  out_.append(s);
}

std::string RecordWriter::Finish() {
  Put<uint64_t>(XXH3_64bits(out_.data(), out_.size()));
  return std::move(out_);
}

absl::StatusOr<RecordReader> RecordReader::Open(std::string_view bytes, const char* tag,
                                                uint32_t version, std::string what) {
  if (bytes.size() < kHeader + kTrailer) {
    return absl::DataLossError(absl::StrFormat("%s: truncated (%d bytes, at least %d needed)", what,
                                               bytes.size(), kHeader + kTrailer));
  }
  const size_t body = bytes.size() - kTrailer;
  uint64_t sum;
  std::memcpy(&sum, bytes.data() + body, kTrailer);
  if (XXH3_64bits(bytes.data(), body) != sum) {
    return absl::DataLossError(
        absl::StrFormat("%s: checksum mismatch (damaged or truncated)", what));
  }
  if (std::memcmp(bytes.data(), tag, 4) != 0) {
    return absl::DataLossError(absl::StrFormat("%s: not a %s (wrong tag)", what, what));
  }
  uint32_t found;
  std::memcpy(&found, bytes.data() + 4, 4);
  if (found != version) {
    return absl::DataLossError(absl::StrFormat("%s: unknown version %d", what, found));
  }
  return RecordReader(bytes.substr(kHeader, body - kHeader), std::move(what));
}

bool RecordReader::GetString(std::string* s) {
  uint32_t n;
  if (remaining() < sizeof n) return false;
  std::memcpy(&n, at_, sizeof n);
  if (remaining() - sizeof n < n) return false;
  at_ += sizeof n;
  s->assign(at_, n);
  at_ += n;
  return true;
}

const char* RecordReader::Take(size_t n) {
  if (remaining() < n) return nullptr;
  const char* p = at_;
  at_ += n;
  return p;
}

absl::Status RecordReader::Damaged(std::string_view why) const {
  return absl::DataLossError(absl::StrFormat("%s: %s", what_, why));
}

}  // namespace urn::codec
