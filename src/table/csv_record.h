// CSV records (RFC 4180) in a byte stream: CsvRecordScanner finds where each record ends
// when the bytes arrive in arbitrary pieces, and SplitCsvRecord splits one complete record
// into its fields. See table/read_options.h for the dialect.
//
// Cost: both are O(bytes) with memchr over quoted text; no allocation beyond the caller's
// vectors. Never reads outside the views they are given.
//
// Thread safety: a scanner is used by one thread at a time; SplitCsvRecord is reentrant.
#ifndef URN_TABLE_CSV_RECORD_H_
#define URN_TABLE_CSV_RECORD_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace urn::table {

class CsvRecordScanner {
 public:
  explicit CsvRecordScanner(char delimiter) : delimiter_(delimiter) {}

  // Continues scanning the current record with `data`. Returns the index in `data` of the '\n'
  // that ends the record, or std::string_view::npos when the record goes on past `data`.
  // After a record ends, call Reset() before scanning the next one.
  size_t FindEnd(std::string_view data);

  // Starts a new record.
  void Reset() {
    state_ = State::kFieldStart;
    newlines_ = 0;
    field_ = 0;
    malformed_field_ = -1;
  }

  // True when the bytes scanned so far end inside a quoted field.
  bool in_quotes() const { return state_ == State::kQuoted; }
  // '\n' bytes inside quoted fields of the current record so far.
  int64_t newlines() const { return newlines_; }
  // The 0-based field of the current record where a closing quote was first followed by a
  // byte other than the delimiter, '\n' or a '\r' that the same `data` continues with '\n' (the
  // one malformation SplitCsvRecord finds in a record that ends outside quotes, with the field
  // it names); -1 when none was. Found while scanning, at no extra pass over the record.
  int malformed_field() const { return malformed_field_; }

 private:
  enum class State { kFieldStart, kUnquoted, kQuoted, kQuoteInQuoted };
  char delimiter_;
  State state_ = State::kFieldStart;
  int64_t newlines_ = 0;
  int field_ = 0;  // fields of the current record before the one being scanned
  int malformed_field_ = -1;
};

struct CsvSplitError {
  int field = 0;        // 0-based field index where the error is
  std::string message;  // e.g. "unexpected character 'x' after closing quote"
};

// Splits `record` (one complete record without its line terminator) on `delimiter` into
// `*fields`. Quoted fields without "" are views into `record`; the others are unescaped into
// `*scratch` (its old contents are discarded). The views are valid while `record` and
// `*scratch` are unchanged. Returns false and fills `*error` on a malformed record.
bool SplitCsvRecord(std::string_view record, char delimiter, std::string* scratch,
                    std::vector<std::string_view>* fields, CsvSplitError* error);

}  // namespace urn::table

#endif  // URN_TABLE_CSV_RECORD_H_
