#include "table/line_reader.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace urn::table {
namespace {

constexpr size_t kMinBuffer = 4 << 20;

}  // namespace

LineReader::LineReader(std::vector<std::string> paths)
    : paths_(std::move(paths)), buffer_(kMinBuffer) {}

LineReader::~LineReader() {
  if (fd_ > 0) ::close(fd_);
}

bool LineReader::OpenNext() {
  if (fd_ > 0) ::close(fd_);
  fd_ = -1;
  if (next_path_ >= paths_.size()) return false;
  const std::string& path = paths_[next_path_++];
  line_number_ = 0;
  begin_ = end_ = 0;
  if (path == "-") {
    fd_ = 0;
    display_name_ = "stdin";
  } else {
    display_name_ = path;
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) {
      status_ = absl::NotFoundError(absl::StrCat(path, ": ", std::strerror(errno)));
      return false;
    }
#ifdef POSIX_FADV_SEQUENTIAL
    ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
  }
  eof_ = false;
  // A UTF-8 byte order mark at the start of a file is not data (as tsv-utils 2.x): dropped, so
  // that the first field reads the same with or without one. More is read only while the bytes
  // so far could start one, so a short first line of a pipe is not held back waiting for more.
  const auto may_start_mark = [this] {
    const size_t have = end_ - begin_;
    return have < 3 && std::memcmp(buffer_.data() + begin_, "\xEF\xBB\xBF", have) == 0;
  };
  while (may_start_mark() && Fill()) {
  }
  if (end_ - begin_ >= 3 && std::memcmp(buffer_.data() + begin_, "\xEF\xBB\xBF", 3) == 0) {
    begin_ += 3;
  }
  return status_.ok();
}

bool LineReader::Fill() {
  if (eof_) return false;
  if (begin_ > 0) {  // move the partial line to the front
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (end_ == buffer_.size()) buffer_.resize(buffer_.size() * 2);
  for (;;) {
    ssize_t n = ::read(fd_, buffer_.data() + end_, buffer_.size() - end_);
    if (n > 0) {
      end_ += static_cast<size_t>(n);
      bytes_read_ += n;
      return true;
    }
    if (n == 0) {
      eof_ = true;
      return false;
    }
    if (errno == EINTR) continue;
    status_ = absl::UnavailableError(absl::StrCat(display_name_, ": ", std::strerror(errno)));
    eof_ = true;
    return false;
  }
}

namespace {

// Newlines in [p, p + n), counted so that GCC vectorizes the loop.
size_t CountNewlines(const char* p, size_t n) {
  size_t count = 0;
  for (size_t i = 0; i < n; ++i) count += p[i] == '\n';
  return count;
}

}  // namespace

uint64_t LineReader::SkipLines(uint64_t m) {
  if (!status_.ok() || m == 0) return 0;
  if (fd_ < 0 && !OpenNext()) return 0;
  uint64_t skipped = 0;
  for (;;) {
    // Whole 4 KiB blocks while they hold fewer newlines than are left to skip.
    constexpr size_t kBlock = 4096;
    // (Only when many lines are left: a block holds ~100 typical lines.)
    while (m - skipped > 512 && end_ - begin_ >= kBlock) {
      const size_t c = CountNewlines(buffer_.data() + begin_, kBlock);
      if (skipped + c >= m) break;
      skipped += c;
      begin_ += kBlock;
    }
    // Then line by line.
    while (skipped < m) {
      const void* nl = std::memchr(buffer_.data() + begin_, '\n', end_ - begin_);
      if (nl == nullptr) break;
      begin_ = static_cast<const char*>(nl) - buffer_.data() + 1;
      ++skipped;
    }
    if (skipped == m) break;
    if (!Fill()) {
      // End of the file: a last line without a newline counts too.
      if (status_.ok() && end_ > begin_) {
        begin_ = end_;
        ++skipped;
      }
      break;
    }
  }
  line_number_ += static_cast<int64_t>(skipped);
  return skipped;
}

bool LineReader::NextLines(size_t max_lines, std::vector<std::string_view>* lines) {
  lines->clear();
  std::string_view first;
  // Next() handles file changes, refills and a last line without a newline; the lines after
  // it are taken from the buffer as it is, so that they all stay valid together.
  if (!Next(&first)) return false;
  lines->push_back(first);
  while (lines->size() < max_lines && begin_ < end_) {
    const void* nl = std::memchr(buffer_.data() + begin_, '\n', end_ - begin_);
    if (nl == nullptr) break;
    const size_t pos = static_cast<const char*>(nl) - buffer_.data();
    size_t len = pos - begin_;
    if (len > 0 && buffer_[pos - 1] == '\r') --len;
    lines->emplace_back(buffer_.data() + begin_, len);
    begin_ = pos + 1;
    ++line_number_;
  }
  return true;
}

bool LineReader::Next(std::string_view* line) {
  if (!status_.ok()) return false;
  for (;;) {
    if (fd_ < 0 && !OpenNext()) return false;
    size_t scan_from = begin_;
    for (;;) {
      const char* start = buffer_.data() + scan_from;
      const void* nl = std::memchr(start, '\n', end_ - scan_from);
      if (nl != nullptr) {
        const size_t pos = static_cast<const char*>(nl) - buffer_.data();
        size_t len = pos - begin_;
        crlf_ = len > 0 && buffer_[pos - 1] == '\r';
        if (crlf_) --len;
        *line = std::string_view(buffer_.data() + begin_, len);
        begin_ = pos + 1;
        ++line_number_;
        return true;
      }
      const size_t scanned = end_ - begin_;
      if (!Fill()) break;
      scan_from = begin_ + scanned;
    }
    if (!status_.ok()) return false;
    if (end_ > begin_) {  // last line without a terminator
      size_t len = end_ - begin_;
      crlf_ = false;  // no line break: a last '\r' is dropped like a break's
      if (buffer_[end_ - 1] == '\r') --len;
      *line = std::string_view(buffer_.data() + begin_, len);
      begin_ = end_;
      ++line_number_;
      return true;
    }
    if (fd_ > 0) ::close(fd_);
    fd_ = -1;
    if (next_path_ >= paths_.size()) return false;
  }
}

}  // namespace urn::table
