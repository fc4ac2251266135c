// LineReader: the lines of a sequence of files (or standard input, "-"), one at a time, with
// the file name and line number of each so that errors can say `file:line`.
//
// Reads with large read(2) calls into one growing buffer; a line is a view into that buffer
// valid until the next call to Next(). Memory: the buffer, which is at least 4 MiB and at
// most twice the longest line. The line terminator ("\n", or "\r\n") is not part of the line.
// A last line without a terminator is still a line. A UTF-8 byte order mark (EF BB BF) at the
// start of a file is skipped.
//
// Thread safety: none; one reader per thread.
#ifndef URN_TABLE_LINE_READER_H_
#define URN_TABLE_LINE_READER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace urn::table {

class LineReader {
 public:
  // `paths` are read in order; "-" is standard input. Files are opened lazily, so a missing
  // file is reported by Next() when the reader reaches it (after the lines before it).
  explicit LineReader(std::vector<std::string> paths);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // Sets `*line` to the next line and returns true; returns false at the end of the last file
  // or on error (then status() says why, naming the file).
  bool Next(std::string_view* line);

  // Appends to `lines` the complete lines now in the buffer, up to `max_lines`, all of the
  // current file; they stay valid until the next call to any reading method. Returns false at
  // the end of the last file or on error. The first line appended is line `line_number() -
  // lines->size() + 1` of file(), and the lines are consecutive (the batch never spans files).
  bool NextLines(size_t max_lines, std::vector<std::string_view>* lines);

  // Passes over up to `m` lines of the current file without returning them, much faster than
  // m calls to Next() (it counts newlines in bulk). Returns how many lines it passed: fewer
  // than m only at the end of the current file; the next Next() then moves to the next file.
  uint64_t SkipLines(uint64_t m);

  // OK, or the error that ended reading.
  const absl::Status& status() const { return status_; }

  // The file and 1-based line number of the line last returned. "-" shows as "stdin".
  const std::string& file() const { return display_name_; }
  int64_t line_number() const { return line_number_; }
  // True when the line last returned is the first line of its file.
  bool first_line_of_file() const { return line_number_ == 1; }
  // Whether the line last returned by Next() ended with "\r\n" (the '\r' is not in the line).
  bool ended_with_crlf() const { return crlf_; }

  // Total bytes read so far.
  int64_t bytes_read() const { return bytes_read_; }

 private:
  bool OpenNext();
  bool Fill();  // reads more input; false at end of the current file or on error

  std::vector<std::string> paths_;
  size_t next_path_ = 0;
  int fd_ = -1;
  bool eof_ = true;
  std::string display_name_;
  int64_t line_number_ = 0;
  bool crlf_ = false;
  int64_t bytes_read_ = 0;
  std::vector<char> buffer_;
  size_t begin_ = 0;  // start of unread data in buffer_
  size_t end_ = 0;    // end of valid data in buffer_
  absl::Status status_;
};

}  // namespace urn::table

#endif  // URN_TABLE_LINE_READER_H_
