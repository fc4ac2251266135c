#include "record_source.h"

#include <sys/stat.h>

#include <charconv>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "exit_codes.h"
#include "samplers/group_key.h"
#include "table/cell_text.h"
#include "table/csv_record.h"

namespace urn::cli {
RecordSource::RecordSource(std::vector<std::string> files, bool header, bool csv, char delimiter)
    : reader_(files), header_mode_(header), csv_(csv), delimiter_(delimiter) {
  for (const std::string& f : files) {
    struct stat st {};
    if (f != "-" && ::stat(f.c_str(), &st) == 0 && S_ISREG(st.st_mode)) input_bytes_ += st.st_size;
  }
}

absl::Status RecordSource::Start() {
  started_ = true;
  if (!header_mode_) return absl::OkStatus();
  std::string_view first;
  if (NextRaw(&first)) {
    header_ = std::string(first);
  }
  return status_;
}

bool RecordSource::NextRaw(std::string_view* record) {
  // An error ends the input for good: a later call must neither read on nor replace it.
  if (!status_.ok()) return false;
  std::string_view line;
  if (!reader_.Next(&line)) {
    status_ = reader_.status();
    return false;
  }
  record_line_ = reader_.line_number();
  if (!csv_) {
    *record = line;
    return true;
  }
  table::CsvRecordScanner scanner(delimiter_);
  scanner.FindEnd(line);
  if (!scanner.in_quotes()) {
    *record = line;
    return WellFormedCsv(scanner);
  }
  // A quoted CSV field spans lines: join them with the line break they contained ("\r\n" or
  // "\n": the field's bytes are kept as they are).
  csv_record_.assign(line.data(), line.size());
  const std::string where = Where();  // the record's file and first line, for an error
  while (scanner.in_quotes()) {
    const bool crlf = reader_.ended_with_crlf();
    if (!reader_.Next(&line) || reader_.line_number() == 1) {
      status_ = reader_.status().ok() ? absl::InvalidArgumentError(absl::StrCat(
                                            where, ": unterminated quoted field at end of file"))
                                      : reader_.status();
      return false;
    }
    scanner.FindEnd(crlf ? "\r\n" : "\n");
    scanner.FindEnd(line);
    csv_record_.append(crlf ? "\r\n" : "\n");
    csv_record_.append(line.data(), line.size());
  }
  *record = csv_record_;
  return WellFormedCsv(scanner);
}

bool RecordSource::WellFormedCsv(const table::CsvRecordScanner& scanner) {
  if (scanner.malformed_field() < 0) return true;
  status_ = absl::InvalidArgumentError(absl::StrCat(Where(), ": malformed CSV record in field ",
                                                    scanner.malformed_field() + 1,
                                                    ": unexpected character after closing quote"));
  return false;
}

bool RecordSource::Next(std::string_view* record) {
  for (;;) {
    if (!NextRaw(record)) return false;
    // Every file's first record is its header; the first file's was read by Start().
    if (header_mode_ && record_line_ == 1) {
      if (!SameHeader(*record)) return false;
      continue;
    }
    return true;
  }
}

uint64_t RecordSource::Skip(uint64_t m) {
  uint64_t done = 0;
  std::string_view record;
  while (done < m) {
    // Bulk skipping only inside a started TSV file, so that a header is never skipped as data.
    if (!csv_ && reader_.line_number() >= 1) {
      done += reader_.SkipLines(m - done);
      if (done == m) break;
    }
    if (!Next(&record)) break;  // the next file (its header handled by Next) or the end
    ++done;
  }
  return done;
}

bool RecordSource::SameHeader(std::string_view header) {
  if (!fields_named_ || !header_ || header == *header_) return true;
  status_ = absl::InvalidArgumentError(absl::StrCat(
      reader_.file(), ":1: header '", std::string(header), "' differs from the first file's '",
      *header_, "', so the fields named by -w/-k would be other columns here"));
  return false;
}

std::string RecordSource::Where() const { return absl::StrCat(reader_.file(), ":", record_line_); }

absl::StatusOr<table::FieldList> RecordSource::ResolveFields(const std::string& flag,
                                                             const std::string& spec) {
  if (header_ && spec.find_first_not_of("0123456789,- ") != std::string::npos) {
    fields_named_ = true;
  }
  std::vector<std::string_view> names;
  std::string scratch;
  if (header_mode_ && !header_ && status_.ok()) {
    // An empty input has no header to name fields with, and no line to read them from: any
    // spec selects nothing (the sample is empty, as for field numbers).
    return table::FieldList{.whole_line = false, .indices = {0}};
  }
  if (header_) {
    if (csv_) {
      table::CsvSplitError error;
      if (!table::SplitCsvRecord(*header_, delimiter_, &scratch, &names, &error)) {
        return absl::InvalidArgumentError(
            absl::StrCat(flag, ": the CSV header is malformed: ", error.message));
      }
    } else {
      names = table::SplitFields(*header_, delimiter_);
    }
  }
  absl::StatusOr<table::FieldList> fields = table::ParseFieldList(spec, header_ ? &names : nullptr);
  if (!fields.ok()) {
    // A name the input's header lacks is about the input (exit 1); the rest is bad usage.
    const absl::Status s = absl::InvalidArgumentError(
        absl::StrCat(flag, ": ", std::string(fields.status().message())));
    return absl::IsNotFound(fields.status()) ? s : UsageError(s);
  }
  return fields;
}

absl::Status RecordSource::FieldOf(std::string_view record, int index, const char* role,
                                   std::string* scratch, std::string_view* field) const {
  if (!csv_) {
    if (table::FieldAt(record, delimiter_, index, field)) return absl::OkStatus();
    return absl::InvalidArgumentError(
        absl::StrCat("no field ", index + 1, " (", role, "): the line has fewer fields"));
  }
  std::vector<std::string_view> fields;
  table::CsvSplitError error;
  if (!table::SplitCsvRecord(record, delimiter_, scratch, &fields, &error)) {
    return absl::InvalidArgumentError(
        absl::StrCat("malformed CSV record in field ", error.field + 1, ": ", error.message));
  }
  if (static_cast<size_t>(index) >= fields.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("no field ", index + 1, " (", role, "): the record has fewer fields"));
  }
  *field = fields[index];
  return absl::OkStatus();
}

absl::Status RecordSource::ParseWeight(std::string_view record, int index, double* weight) const {
  std::string scratch;
  std::string_view text;
  if (absl::Status s = FieldOf(record, index, "weight", &scratch, &text); !s.ok()) return s;
  const std::string_view t = table::TrimSpaces(text);
  double w = 0;
  if (!table::ParseDouble(t, &w)) {
    return absl::InvalidArgumentError(absl::StrCat("weight '", table::TextForMessage(text),
                                                   "' in field ", index + 1, " is not a number"));
  }
  if (!std::isfinite(w) || w < 0) {
    return absl::InvalidArgumentError(absl::StrCat("weight '", table::TextForMessage(text),
                                                   "' in field ", index + 1,
                                                   " must be finite and >= 0"));
  }
  if (w == 0 && table::IsOutOfDoubleRange(t)) {
    // 1e-400 would silently be 0 (never drawn), as 1e400 is refused for being too large.
    return absl::InvalidArgumentError(
        absl::StrCat("weight '", table::TextForMessage(text), "' in field ", index + 1,
                     " is too small for a double (the least is about 4.9e-324): it would be 0"));
  }
  *weight = w;
  return absl::OkStatus();
}

absl::Status RecordSource::ParseKeyHash(std::string_view record, const table::FieldList& fields,
                                        uint64_t* hash) const {
  if (fields.whole_line) {
    const std::string_view parts[1] = {record};
    *hash = samplers::HashKeyColumns(parts);
    return absl::OkStatus();
  }
  if (!csv_ && fields.indices.size() == 1) {  // the common case: one TSV field, no copies
    std::string_view f;
    if (!table::FieldAt(record, delimiter_, fields.indices[0], &f)) {
      return absl::InvalidArgumentError(
          absl::StrCat("no field ", fields.indices[0] + 1, " (key): the line has fewer fields"));
    }
    const std::string_view parts[1] = {f};
    *hash = samplers::HashKeyColumns(parts);
    return absl::OkStatus();
  }
  std::vector<std::string> storage(fields.indices.size());
  std::vector<std::string_view> views(fields.indices.size());
  for (size_t i = 0; i < fields.indices.size(); ++i) {
    std::string_view f;
    if (absl::Status s = FieldOf(record, fields.indices[i], "key", &storage[i], &f); !s.ok()) {
      return s;
    }
    views[i] = f;
  }
  *hash = samplers::HashKeyColumns(views);
  return absl::OkStatus();
}

absl::Status RecordSource::Weight(std::string_view record, int index, double* weight) {
  absl::Status s = ParseWeight(record, index, weight);
  if (s.ok()) return s;
  return absl::InvalidArgumentError(absl::StrCat(Where(), ": ", std::string(s.message())));
}

absl::Status RecordSource::KeyHash(std::string_view record, const table::FieldList& fields,
                                   uint64_t* hash) {
  absl::Status s = ParseKeyHash(record, fields, hash);
  if (s.ok()) return s;
  return absl::InvalidArgumentError(absl::StrCat(Where(), ": ", std::string(s.message())));
}

bool RecordSource::NextBatch(size_t max, std::vector<std::string_view>* records) {
  records->clear();
  if (!status_.ok()) return false;
  if (csv_) {
    batch_storage_.clear();
    batch_lines_.clear();
    batch_files_.clear();
    std::vector<size_t> ends;
    std::string_view record;
    while (ends.size() < max && Next(&record)) {
      if (batch_files_.empty() || batch_files_.back().second != reader_.file()) {
        batch_files_.emplace_back(ends.size(), reader_.file());
      }
      batch_storage_.append(record.data(), record.size());
      ends.push_back(batch_storage_.size());
      batch_lines_.push_back(record_line_);
    }
    size_t begin = 0;
    for (size_t end : ends) {
      records->emplace_back(batch_storage_.data() + begin, end - begin);
      begin = end;
    }
    return !records->empty();
  }
  for (;;) {
    if (!reader_.NextLines(max, records)) {
      status_ = reader_.status();
      return false;
    }
    batch_first_line_ = reader_.line_number() - static_cast<int64_t>(records->size()) + 1;
    if (header_mode_ && batch_first_line_ == 1) {  // a file's header
      if (!SameHeader(records->front())) {
        records->clear();
        return false;
      }
      records->erase(records->begin());
      ++batch_first_line_;
      if (records->empty()) continue;
    }
    record_line_ = reader_.line_number();
    return true;
  }
}

std::string RecordSource::WhereInBatch(size_t i) const {
  if (!csv_) return absl::StrCat(reader_.file(), ":", batch_first_line_ + static_cast<int64_t>(i));
  std::string file = reader_.file();
  for (const auto& [first, name] : batch_files_) {
    if (first <= i) file = name;
  }
  return absl::StrCat(file, ":", batch_lines_[i]);
}

}  // namespace urn::cli
