// RecordSource: the data records of `urn sample`'s inputs, with headers taken out and fields
// resolved. A record is a line of TSV, or an RFC 4180 CSV record (which may span lines).
#ifndef URN_CLIENT_CLI_RECORD_SOURCE_H_
#define URN_CLIENT_CLI_RECORD_SOURCE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "table/csv_record.h"
#include "table/field_list.h"
#include "table/line_reader.h"

namespace urn::cli {

class RecordSource {
 public:
  // With `header`, the first record of every file is a header; the first file's is kept.
  RecordSource(std::vector<std::string> files, bool header, bool csv, char delimiter);

  // Reads the first header (when there is one) so that field names can be resolved. Call once,
  // before Next().
  absl::Status Start();

  // The header record of the first file, or nullopt.
  const std::optional<std::string>& header() const { return header_; }

  // Parses a field list against the header. Errors read "-w/--weight-field: ...". Once a list
  // names a field, every later file's header must equal the first file's (else the name could
  // mean another column there): a different header ends the input with an error at FILE:1.
  absl::StatusOr<table::FieldList> ResolveFields(const std::string& flag, const std::string& spec);

  // The next data record; false at the end or on error (see status()).
  bool Next(std::string_view* record);
  const absl::Status& status() const { return status_; }

  // The next data records, at most `max` (for TSV, the lines already buffered), valid until
  // the next read. False at the end or on error (see status()).
  bool NextBatch(size_t max, std::vector<std::string_view>* records);

  // "file:line" of record `i` of the last batch.
  std::string WhereInBatch(size_t i) const;

  // Thread-safe parsing of one record's weight: the error (without a location) or OK.
  absl::Status ParseWeight(std::string_view record, int index, double* weight) const;
  // Thread-safe key hash of one record (see KeyHash).
  absl::Status ParseKeyHash(std::string_view record, const table::FieldList& fields,
                            uint64_t* hash) const;

  // Passes over up to `m` data records without returning them (fast for TSV: newlines are
  // counted in bulk). Returns how many it passed; fewer than m only at the end of the input.
  uint64_t Skip(uint64_t m);

  // "file:line" of the record last returned (its first line).
  std::string Where() const;

  // A non-negative finite weight from field `index`; errors name file:line and the text.
  absl::Status Weight(std::string_view record, int index, double* weight);

  // The key hash of `record` for `fields` (HashKeyColumns of the field values, or of the
  // whole record for field list "0").
  absl::Status KeyHash(std::string_view record, const table::FieldList& fields, uint64_t* hash);

  char delimiter() const { return delimiter_; }

  // The total size of the inputs that are regular files (standard input counts 0): a hint for
  // reserving memory.
  uint64_t InputBytesHint() const { return input_bytes_; }

 private:
  bool NextRaw(std::string_view* record);

  table::LineReader reader_;
  bool header_mode_;
  bool csv_;
  char delimiter_;
  bool started_ = false;
  std::optional<std::string> header_;
  bool fields_named_ = false;  // a field list used header names (ResolveFields)
  // True unless fields are named and `header` (a later file's) differs from the first file's;
  // then sets status_.
  bool SameHeader(std::string_view header);
  // Field `index` of `record` without location in errors; `scratch` for unescaped CSV.
  absl::Status FieldOf(std::string_view record, int index, const char* role, std::string* scratch,
                       std::string_view* field) const;

  // Every CSV record is checked whole, also where no field of it is read (-p, a shuffle): a
  // malformed one must not pass through to the output. `scanner` has scanned the whole record
  // (which ends outside quotes). Sets status_ when it is malformed.
  bool WellFormedCsv(const table::CsvRecordScanner& scanner);
  std::string csv_record_;            // a CSV record that spans lines
  std::vector<int64_t> batch_lines_;  // CSV: the first line of each record of the batch
  // CSV: (first record index, file) for each file the batch touches.
  std::vector<std::pair<size_t, std::string>> batch_files_;
  std::string batch_storage_;     // CSV: the batch's records
  int64_t batch_first_line_ = 0;  // TSV: the line of the batch's first record
  int64_t record_line_ = 0;
  uint64_t input_bytes_ = 0;
  absl::Status status_;
};

}  // namespace urn::cli

#endif  // URN_CLIENT_CLI_RECORD_SOURCE_H_
