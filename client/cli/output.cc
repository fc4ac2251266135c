#include "output.h"

#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace urn::cli {

void Output::WriteDouble(double v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  Write(std::string_view(buf, ec == std::errc() ? end - buf : 0));
}

void Output::WriteRandomValue(double v) {
  if (!(v >= 1e-12 && v <= 1e15)) {
    WriteDouble(v);
    return;
  }
  char buf[64];  // at most 16 digits before the point, and 12 zeros and 17 digits after it
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed);
  Write(std::string_view(buf, ec == std::errc() ? end - buf : 0));
}

void Output::WriteAll(std::string_view s) {
  while (!s.empty() && !failed_) {
    ssize_t n = ::write(fd_, s.data(), s.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      failed_ = true;
      error_ = errno;
      return;
    }
    s.remove_prefix(static_cast<size_t>(n));
  }
}

void Output::Drain() {
  WriteAll(buffer_);
  buffer_.clear();
}

absl::Status Output::Flush() {
  Drain();
  // DATA_LOSS, not UNAVAILABLE: exit 1 ("the request failed"), not 5, which tells a script that
  // the server is unreachable and a retry may help.
  if (failed_) return absl::DataLossError(absl::StrCat("write error: ", std::strerror(error_)));
  return absl::OkStatus();
}

}  // namespace urn::cli
