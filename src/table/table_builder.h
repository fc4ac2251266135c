// TableBuilder: builds a Table from TSV, CSV or JSONL bytes that arrive in pieces of any size
// (a server upload in 1 MiB chunks, a file read in blocks). A piece may end anywhere: inside
// a line, a CSV quoted field or a UTF-8 character; the table and every error message are the
// same however the bytes are split. Formats, types and limits: table/read_options.h.
//
// Cost: O(input bytes) — records are found with memchr, fields kept as text, types settled
// in Finish(). Memory: while reading, the input text plus ~8 bytes per cell (JSONL: 9) plus the
// longest unfinished record; Finish() then needs the final table beside one column's text.
// Never reads outside the given bytes, never recurses; every buffer is bounded by the limits.
//
// After an error, every later call returns that same error.
//
// Thread safety: none; one builder per thread.
#ifndef URN_TABLE_TABLE_BUILDER_H_
#define URN_TABLE_TABLE_BUILDER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "table/column_builder.h"
#include "table/csv_record.h"
#include "table/json_line.h"
#include "table/read_options.h"
#include "table/table.h"

namespace urn::table {

class TableBuilder {
 public:
  explicit TableBuilder(ReadOptions options);
  TableBuilder(const TableBuilder&) = delete;
  TableBuilder& operator=(const TableBuilder&) = delete;

  // Starts another input (say, the next file) named `name`: ends the current one (its last
  // record may lack a line terminator), restarts line numbers at 1, and, with has_header,
  // expects the new input to start with the same header as the first. Errors then read
  // `name:N: ...` instead of `line N: ...`. Optional: without it, all bytes are one input.
  absl::Status StartInput(std::string name);

  // Feeds the next bytes of the current input.
  absl::Status Append(std::string_view bytes);

  // Ends the input and returns the table. Call once.
  absl::StatusOr<Table> Finish();

  // Data rows read so far.
  int64_t num_rows() const { return num_rows_; }
  // Columns so far (JSONL: keys seen so far).
  int64_t num_columns() const { return static_cast<int64_t>(columns_.size()); }

 private:
  absl::Status Feed(std::string_view data);  // after the byte order mark check
  absl::Status AppendLines(std::string_view data);
  absl::Status AppendCsv(std::string_view data);
  absl::Status EndInput();
  absl::Status ProcessLine(std::string_view line);
  absl::Status ProcessCsvRecord(std::string_view record, int64_t newlines);
  absl::Status AddFields(std::string_view raw);
  absl::Status AddHeader();
  absl::Status AddJsonLine(std::string_view line);
  absl::Status AddJsonColumn(std::string_view name, int* index);
  absl::Status EndRow(std::string_view raw);
  absl::Status CheckCells(int64_t rows, size_t columns);
  // With ReadOptions::require_utf8: the record is well-formed UTF-8; a column name holds no
  // control character.
  absl::Status CheckUtf8(std::string_view record);
  absl::Status CheckName(std::string_view name);
  absl::Status LineTooLong();
  // Records `status` as the builder's final error and returns it.
  absl::Status Fail(absl::Status status);
  // "line N: field 'name': message" (or "input:N: ...").
  absl::Status Error(absl::StatusCode code, int column, std::string_view message);
  std::string FieldName(int column) const;

  ReadOptions options_;
  char delimiter_;
  absl::Status status_;
  bool finished_ = false;

  std::string input_name_;
  int64_t line_ = 1;     // line number where the next record starts
  bool header_pending_;  // the next record is this input's header
  bool first_header_seen_ = false;
  int64_t total_bytes_ = 0;

  bool checking_bom_ = true;  // the input's first bytes may still be a byte order mark
  std::string bom_prefix_;    // the bytes of a byte order mark seen so far
  std::string pending_;       // the unfinished record
  CsvRecordScanner csv_scanner_;

  std::vector<ColumnBuilder> columns_;
  absl::flat_hash_map<std::string, int> json_columns_;
  std::vector<int64_t> json_last_row_;  // per column: last row that set it
  int64_t json_bytes_ = 0;              // bytes of the JSONL lines read, line feeds included
  int64_t num_rows_ = 0;
  std::string raw_;
  std::vector<uint64_t> raw_offsets_;

  std::vector<std::string_view> fields_;  // the record being added
  std::string scratch_;
  JsonLineParser json_;
};

}  // namespace urn::table

#endif  // URN_TABLE_TABLE_BUILDER_H_
