// Output: buffered writes to a file descriptor (standard output), much faster than stdio
// for millions of short lines. A write error (a closed pipe, a full disk) is remembered and
// reported by Flush().
#ifndef URN_CLIENT_CLI_OUTPUT_H_
#define URN_CLIENT_CLI_OUTPUT_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace urn::cli {

class Output {
 public:
  explicit Output(int fd = 1) : fd_(fd) { buffer_.reserve(kCapacity); }
  ~Output() { (void)Flush(); }
  Output(const Output&) = delete;
  Output& operator=(const Output&) = delete;

  void Write(std::string_view s) {
    if (buffer_.size() + s.size() > kCapacity) Drain();
    if (s.size() > kCapacity) {
      WriteAll(s);
    } else {
      buffer_.append(s.data(), s.size());
    }
  }
  void Put(char c) {
    if (buffer_.size() + 1 > kCapacity) Drain();
    buffer_.push_back(c);
    if (c == '\n' && line_buffered_) [[unlikely]]
      Drain();
  }
  // A double as the shortest text that reads back to the same value.
  void WriteDouble(double v);
  // A random value (--print-random, --gen-random-inorder): as WriteDouble, but without an
  // exponent from 1e-12 to 1e15 (as tsv-sample), so that `sort -n` orders the lines.
  void WriteRandomValue(double v);

  // Writes out every line as soon as it ends (--line-buffered).
  void set_line_buffered(bool on) { line_buffered_ = on; }

  absl::Status Flush();
  // Whether a write failed (the reader closed the pipe, say): nothing more will be written.
  bool failed() const { return failed_; }

 private:
  static constexpr size_t kCapacity = 1 << 20;
  void Drain();
  void WriteAll(std::string_view s);

  int fd_;
  std::string buffer_;
  bool line_buffered_ = false;
  bool failed_ = false;
  int error_ = 0;
};

}  // namespace urn::cli

#endif  // URN_CLIENT_CLI_OUTPUT_H_
