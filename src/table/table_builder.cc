#include "table/table_builder.h"

#include <cstring>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "table/utf8.h"

namespace urn::table {
namespace {

constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";

absl::Status CheckOptions(const ReadOptions& o, char delimiter) {
  if (delimiter == '\n' || delimiter == '\r') {
    return absl::InvalidArgumentError("the field delimiter cannot be a line break");
  }
  if (o.format == Format::kCsv && delimiter == '"') {
    return absl::InvalidArgumentError("the CSV field delimiter cannot be '\"'");
  }
  if (o.list_delimiter && (*o.list_delimiter == '\n' || *o.list_delimiter == '\r')) {
    return absl::InvalidArgumentError("the list delimiter cannot be a line break");
  }
  for (const auto& [name, type] : o.column_types) {
    if (type == Type::kNull) {
      return absl::InvalidArgumentError(
          absl::StrCat("column types: '", name, "' cannot be declared null"));
    }
  }
  if (o.max_rows < 0 || o.max_columns < 1 || o.max_field_bytes < 0 || o.max_line_bytes < 0 ||
      o.max_total_bytes < 0 || o.max_cells < 0 || o.max_cells_per_byte < 0) {
    return absl::InvalidArgumentError("read limits must not be negative (max_columns at least 1)");
  }
  return absl::OkStatus();
}

}  // namespace

TableBuilder::TableBuilder(ReadOptions options)
    : options_(std::move(options)),
      delimiter_(options_.delimiter.value_or(options_.format == Format::kCsv ? ',' : '\t')),
      header_pending_(options_.has_header && options_.format != Format::kJsonl),
      csv_scanner_(delimiter_) {
  status_ = CheckOptions(options_, delimiter_);
}

absl::Status TableBuilder::Fail(absl::Status status) {
  status_ = std::move(status);
  return status_;
}

std::string TableBuilder::FieldName(int column) const {
  if (column < 0 || static_cast<size_t>(column) >= columns_.size()) return std::string();
  return columns_[column].name();
}

absl::Status TableBuilder::Error(absl::StatusCode code, int column, std::string_view message) {
  std::string text =
      input_name_.empty() ? absl::StrCat("line ", line_) : absl::StrCat(input_name_, ":", line_);
  if (column >= 0 && static_cast<size_t>(column) < columns_.size()) {
    absl::StrAppend(&text, ": field '", FieldName(column), "'");
  }
  absl::StrAppend(&text, ": ", std::string(message));
  return Fail(absl::Status(code, text));
}

absl::Status TableBuilder::CheckUtf8(std::string_view record) {
  if (!options_.require_utf8) return absl::OkStatus();
  const size_t valid = Utf8Prefix(record);
  if (valid == record.size()) return absl::OkStatus();
  return Error(absl::StatusCode::kInvalidArgument, -1,
               absl::StrCat("byte ", valid + 1, " of the line is not valid UTF-8 (0x",
                            absl::Hex(static_cast<unsigned char>(record[valid]), absl::kZeroPad2),
                            "); urnd keeps text as UTF-8"));
}

absl::Status TableBuilder::CheckName(std::string_view name) {
  if (name.size() > static_cast<uint64_t>(options_.max_name_bytes)) {
    return Error(
        absl::StatusCode::kResourceExhausted, -1,
        absl::StrCat("a column name of ", name.size(), " bytes, longer than max_name_bytes (",
                     options_.max_name_bytes, ")"));
  }
  if (!options_.require_utf8) return absl::OkStatus();
  for (const char c : name) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return Error(absl::StatusCode::kInvalidArgument, -1,
                   absl::StrCat("column name '",
                                absl::CHexEscape(absl::string_view(name.data(), name.size())),
                                "' holds a control character"));
    }
  }
  return absl::OkStatus();
}

absl::Status TableBuilder::LineTooLong() {
  return Error(absl::StatusCode::kResourceExhausted, -1,
               absl::StrCat("record longer than max_line_bytes (", options_.max_line_bytes, ")"));
}

absl::Status TableBuilder::StartInput(std::string name) {
  if (!status_.ok()) return status_;
  if (finished_) return Fail(absl::FailedPreconditionError("StartInput after Finish"));
  if (absl::Status s = EndInput(); !s.ok()) return s;
  input_name_ = std::move(name);
  line_ = 1;
  checking_bom_ = true;
  header_pending_ = options_.has_header && options_.format != Format::kJsonl;
  return absl::OkStatus();
}

absl::Status TableBuilder::Append(std::string_view data) {
  if (!status_.ok()) return status_;
  if (finished_) return Fail(absl::FailedPreconditionError("Append after Finish"));
  bool over = false;
  const uint64_t room = static_cast<uint64_t>(options_.max_total_bytes - total_bytes_);
  if (data.size() > room) {
    data = data.substr(0, room);
    over = true;
  }
  total_bytes_ += static_cast<int64_t>(data.size());
  if (checking_bom_) {
    while (!data.empty() && bom_prefix_.size() < kByteOrderMark.size() &&
           data.front() == kByteOrderMark[bom_prefix_.size()]) {
      bom_prefix_.push_back(data.front());
      data.remove_prefix(1);
    }
    if (bom_prefix_.size() == kByteOrderMark.size()) {  // drop it
      checking_bom_ = false;
      bom_prefix_.clear();
    } else if (!data.empty()) {  // not a byte order mark: the bytes are data
      checking_bom_ = false;
      const std::string prefix = std::move(bom_prefix_);
      bom_prefix_.clear();
      if (absl::Status s = Feed(prefix); !s.ok()) return s;
    }
  }
  if (absl::Status s = Feed(data); !s.ok()) return s;
  if (over) {
    return Error(
        absl::StatusCode::kResourceExhausted, -1,
        absl::StrCat("input longer than max_total_bytes (", options_.max_total_bytes, ")"));
  }
  return absl::OkStatus();
}

absl::Status TableBuilder::Feed(std::string_view data) {
  return options_.format == Format::kCsv ? AppendCsv(data) : AppendLines(data);
}

absl::Status TableBuilder::AppendLines(std::string_view data) {
  const uint64_t max_line = static_cast<uint64_t>(options_.max_line_bytes);
  while (!data.empty()) {
    const void* nl = std::memchr(data.data(), '\n', data.size());
    if (nl == nullptr) {
      if (pending_.size() + data.size() > max_line) return LineTooLong();
      pending_.append(data);
      return absl::OkStatus();
    }
    const size_t k = static_cast<size_t>(static_cast<const char*>(nl) - data.data());
    absl::Status s;
    if (pending_.empty()) {
      s = ProcessLine(data.substr(0, k));
    } else {
      if (pending_.size() + k > max_line) return LineTooLong();
      pending_.append(data.data(), k);
      s = ProcessLine(pending_);
      pending_.clear();
    }
    if (!s.ok()) return s;
    data.remove_prefix(k + 1);
  }
  return absl::OkStatus();
}

absl::Status TableBuilder::AppendCsv(std::string_view data) {
  const uint64_t max_line = static_cast<uint64_t>(options_.max_line_bytes);
  while (!data.empty()) {
    const size_t k = csv_scanner_.FindEnd(data);
    if (k == std::string_view::npos) {
      if (pending_.size() + data.size() > max_line) return LineTooLong();
      pending_.append(data);
      return absl::OkStatus();
    }
    const int64_t newlines = csv_scanner_.newlines();
    csv_scanner_.Reset();
    absl::Status s;
    if (pending_.empty()) {
      s = ProcessCsvRecord(data.substr(0, k), newlines);
    } else {
      if (pending_.size() + k > max_line) return LineTooLong();
      pending_.append(data.data(), k);
      s = ProcessCsvRecord(pending_, newlines);
      pending_.clear();
    }
    if (!s.ok()) return s;
    data.remove_prefix(k + 1);
  }
  return absl::OkStatus();
}

absl::Status TableBuilder::EndInput() {
  if (checking_bom_ && !bom_prefix_.empty()) {  // an input shorter than a byte order mark
    const std::string prefix = std::move(bom_prefix_);
    bom_prefix_.clear();
    if (absl::Status s = Feed(prefix); !s.ok()) return s;
  }
  absl::Status s;
  if (options_.format == Format::kCsv) {
    if (csv_scanner_.in_quotes()) {
      return Error(absl::StatusCode::kInvalidArgument, -1, "unterminated quoted field");
    }
    if (!pending_.empty()) s = ProcessCsvRecord(pending_, csv_scanner_.newlines());
    csv_scanner_.Reset();
  } else if (!pending_.empty()) {
    s = ProcessLine(pending_);
  }
  pending_.clear();
  checking_bom_ = false;
  return s;
}

absl::Status TableBuilder::ProcessLine(std::string_view line) {
  if (line.size() > static_cast<uint64_t>(options_.max_line_bytes)) return LineTooLong();
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.empty()) {
    ++line_;
    return absl::OkStatus();
  }
  if (absl::Status s = CheckUtf8(line); !s.ok()) return s;
  absl::Status s;
  if (options_.format == Format::kJsonl) {
    s = AddJsonLine(line);
  } else {
    fields_.clear();
    const char* p = line.data();
    const char* const end = p + line.size();
    for (;;) {
      const void* d = std::memchr(p, delimiter_, static_cast<size_t>(end - p));
      if (d == nullptr) {
        fields_.emplace_back(p, static_cast<size_t>(end - p));
        break;
      }
      const char* delim = static_cast<const char*>(d);
      fields_.emplace_back(p, static_cast<size_t>(delim - p));
      p = delim + 1;
    }
    s = AddFields(line);
  }
  if (!s.ok()) return s;
  ++line_;
  return absl::OkStatus();
}

absl::Status TableBuilder::ProcessCsvRecord(std::string_view record, int64_t newlines) {
  if (record.size() > static_cast<uint64_t>(options_.max_line_bytes)) return LineTooLong();
  if (!record.empty() && record.back() == '\r') record.remove_suffix(1);
  if (!record.empty()) {
    if (absl::Status s = CheckUtf8(record); !s.ok()) return s;
    CsvSplitError error;
    if (!SplitCsvRecord(record, delimiter_, &scratch_, &fields_, &error)) {
      return Error(absl::StatusCode::kInvalidArgument, header_pending_ ? -1 : error.field,
                   error.message);
    }
    if (absl::Status s = AddFields(record); !s.ok()) return s;
  }
  line_ += 1 + newlines;
  return absl::OkStatus();
}

absl::Status TableBuilder::AddHeader() {
  header_pending_ = false;
  if (fields_.size() > static_cast<size_t>(options_.max_columns)) {
    return Error(absl::StatusCode::kResourceExhausted, -1,
                 absl::StrCat("more than max_columns (", options_.max_columns, ") columns"));
  }
  if (first_header_seen_) {
    bool same = fields_.size() == columns_.size();
    for (size_t i = 0; same && i < fields_.size(); ++i) same = fields_[i] == columns_[i].name();
    if (!same) {
      return Error(absl::StatusCode::kInvalidArgument, -1,
                   "header differs from the first input's header");
    }
    return absl::OkStatus();
  }
  first_header_seen_ = true;
  absl::flat_hash_set<std::string> seen;
  for (std::string_view name : fields_) {
    if (name.size() > static_cast<uint64_t>(options_.max_field_bytes)) {
      return Error(
          absl::StatusCode::kResourceExhausted, -1,
          absl::StrCat("column name longer than max_field_bytes (", options_.max_field_bytes, ")"));
    }
    if (absl::Status s = CheckName(name); !s.ok()) return s;
    if (!seen.insert(std::string(name)).second) {
      return Error(absl::StatusCode::kInvalidArgument, -1,
                   absl::StrCat("duplicate column name '", std::string(name), "'"));
    }
  }
  columns_.reserve(fields_.size());
  for (std::string_view name : fields_) {
    std::string n(name);
    auto it = options_.column_types.find(n);
    columns_.emplace_back(
        std::move(n),
        it == options_.column_types.end() ? std::nullopt : std::optional<Type>(it->second),
        /*json=*/false);
  }
  return absl::OkStatus();
}

absl::Status TableBuilder::AddFields(std::string_view raw) {
  if (header_pending_) return AddHeader();
  if (columns_.empty()) {  // the first row of headerless input names the columns "1", "2", ...
    if (fields_.size() > static_cast<size_t>(options_.max_columns)) {
      return Error(absl::StatusCode::kResourceExhausted, -1,
                   absl::StrCat("more than max_columns (", options_.max_columns, ") columns"));
    }
    columns_.reserve(fields_.size());
    for (size_t i = 0; i < fields_.size(); ++i) {
      std::string n = std::to_string(i + 1);
      auto it = options_.column_types.find(n);
      columns_.emplace_back(
          std::move(n),
          it == options_.column_types.end() ? std::nullopt : std::optional<Type>(it->second),
          /*json=*/false);
    }
  }
  if (fields_.size() != columns_.size()) {
    const std::string message =
        absl::StrCat("expected ", columns_.size(), " fields, got ", fields_.size());
    return Error(absl::StatusCode::kInvalidArgument,
                 fields_.size() < columns_.size() ? static_cast<int>(fields_.size()) : -1, message);
  }
  const uint64_t max_field = static_cast<uint64_t>(options_.max_field_bytes);
  std::string error;
  for (size_t i = 0; i < fields_.size(); ++i) {
    if (fields_[i].size() > max_field) {
      return Error(absl::StatusCode::kResourceExhausted, static_cast<int>(i),
                   absl::StrCat("field longer than max_field_bytes (", max_field, ")"));
    }
    if (!columns_[i].AppendText(fields_[i], &error)) {
      return Error(absl::StatusCode::kInvalidArgument, static_cast<int>(i), error);
    }
  }
  return EndRow(raw);
}

absl::Status TableBuilder::CheckCells(int64_t rows, size_t columns) {
  if (columns > 0 && rows > options_.max_cells / static_cast<int64_t>(columns)) {
    return Error(
        absl::StatusCode::kResourceExhausted, -1,
        absl::StrCat("more than max_cells (", options_.max_cells, ") cells (rows times columns)"));
  }
  // rows * columns <= max_cells < 2^63 here; the product with the byte count may not be.
  const int64_t per_byte = options_.max_cells_per_byte;
  if (per_byte > 0 && options_.format == Format::kJsonl &&
      rows * static_cast<int64_t>(columns) > ReadOptions::kCellsBelowAnyRatio &&
      static_cast<unsigned __int128>(rows) * columns >
          static_cast<unsigned __int128>(per_byte) * static_cast<uint64_t>(json_bytes_)) {
    return Error(
        absl::StatusCode::kResourceExhausted, -1,
        absl::StrCat(rows * static_cast<int64_t>(columns),
                     " cells (rows times keys; a missing key is a null cell) from ", json_bytes_,
                     " bytes of JSONL, more than max_cells_per_byte (", per_byte, ") per byte"));
  }
  return absl::OkStatus();
}

absl::Status TableBuilder::EndRow(std::string_view raw) {
  if (num_rows_ >= options_.max_rows) {
    return Error(absl::StatusCode::kResourceExhausted, -1,
                 absl::StrCat("more than max_rows (", options_.max_rows, ") rows"));
  }
  if (absl::Status s = CheckCells(num_rows_ + 1, columns_.size()); !s.ok()) return s;
  ++num_rows_;
  if (options_.keep_raw_rows) {
    if (raw_offsets_.empty()) raw_offsets_.push_back(0);
    raw_.append(raw);
    raw_offsets_.push_back(raw_.size());
  }
  return absl::OkStatus();
}

absl::Status TableBuilder::AddJsonColumn(std::string_view name, int* index) {
  auto it = json_columns_.find(absl::string_view(name.data(), name.size()));
  if (it != json_columns_.end()) {
    *index = it->second;
    return absl::OkStatus();
  }
  if (columns_.size() >= static_cast<size_t>(options_.max_columns)) {
    return Error(absl::StatusCode::kResourceExhausted, -1,
                 absl::StrCat("more than max_columns (", options_.max_columns, ") keys"));
  }
  if (absl::Status s = CheckCells(num_rows_ + 1, columns_.size() + 1); !s.ok()) return s;
  if (absl::Status s = CheckName(name); !s.ok()) return s;
  std::string n(name);
  auto declared = options_.column_types.find(n);
  columns_.emplace_back(n,
                        declared == options_.column_types.end()
                            ? std::nullopt
                            : std::optional<Type>(declared->second),
                        /*json=*/true);
  for (int64_t r = 0; r < num_rows_; ++r) columns_.back().AppendNull();
  *index = static_cast<int>(columns_.size() - 1);
  json_columns_.emplace(std::move(n), *index);
  json_last_row_.push_back(-1);
  return absl::OkStatus();
}

absl::Status TableBuilder::AddJsonLine(std::string_view line) {
  json_bytes_ += static_cast<int64_t>(line.size()) + 1;  // and its line feed
  if (!json_.Parse(line)) return Error(absl::StatusCode::kInvalidArgument, -1, json_.error());
  if (json_.empty()) return absl::OkStatus();
  const int64_t row = num_rows_;
  const uint64_t max_field = static_cast<uint64_t>(options_.max_field_bytes);
  std::string error;
  for (const JsonField& f : json_.fields()) {
    int col;
    if (absl::Status s = AddJsonColumn(f.key, &col); !s.ok()) return s;
    if (json_last_row_[col] == row) {
      return Error(absl::StatusCode::kInvalidArgument, col, "duplicate key");
    }
    json_last_row_[col] = row;
    uint64_t bytes = f.text.size();
    for (size_t e = f.elements_begin; e < f.elements_end; ++e) bytes += json_.element(e).size();
    if (bytes > max_field) {
      return Error(absl::StatusCode::kResourceExhausted, col,
                   absl::StrCat("field longer than max_field_bytes (", max_field, ")"));
    }
    if (!columns_[col].AppendJson(f, json_.elements(), line_, &error)) {
      return Error(absl::StatusCode::kInvalidArgument, col, error);
    }
  }
  for (size_t c = 0; c < columns_.size(); ++c) {
    if (json_last_row_[c] != row) columns_[c].AppendNull();
  }
  return EndRow(line);
}

absl::StatusOr<Table> TableBuilder::Finish() {
  if (!status_.ok()) return status_;
  if (finished_) return Fail(absl::FailedPreconditionError("Finish called twice"));
  if (absl::Status s = EndInput(); !s.ok()) return s;
  finished_ = true;
  for (const auto& [name, type] : options_.column_types) {
    bool found = false;
    for (const ColumnBuilder& c : columns_) found = found || c.name() == name;
    if (!found) {
      return Fail(absl::InvalidArgumentError(
          absl::StrCat("column types: the input has no column named '", name, "'")));
    }
  }
  Table table;
  table.num_rows_ = num_rows_;
  table.list_delimiter_ = options_.list_delimiter.value_or('|');
  table.columns_.reserve(columns_.size());
  for (ColumnBuilder& c : columns_) table.columns_.push_back(c.Finish(options_.list_delimiter));
  columns_.clear();
  table.raw_ = std::move(raw_);
  table.raw_offsets_ = std::move(raw_offsets_);
  if (options_.keep_raw_rows && table.raw_offsets_.empty()) table.raw_offsets_.push_back(0);
  return table;
}

}  // namespace urn::table
