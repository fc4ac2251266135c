// ColumnBuilder: collects one column's cells as text while a table is read, then settles the
// column's type (declared, or inferred from every value) and builds the typed Column.
// The rules are those of table/read_options.h.
//
// Memory while reading: the cell text plus 8 bytes per cell (plus 1 byte per cell for JSONL);
// Finish() converts in one pass per candidate type and releases the text of numeric and bool
// columns. String columns keep the text buffers as they are (no copy).
//
// Thread safety: none; one builder per thread.
#ifndef URN_TABLE_COLUMN_BUILDER_H_
#define URN_TABLE_COLUMN_BUILDER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "table/json_line.h"
#include "table/table.h"
#include "table/value.h"

namespace urn::table {

class ColumnBuilder {
 public:
  // `json` selects JSONL cells (AppendJson) rather than TSV/CSV text cells (AppendText).
  ColumnBuilder(std::string name, std::optional<Type> declared, bool json);

  const std::string& name() const { return name_; }
  int64_t size() const { return static_cast<int64_t>(offsets_.size()) - 1; }

  void AppendNull();

  // A TSV/CSV field; "" is null. Returns false with `*error` set when the text does not fit
  // the declared type.
  bool AppendText(std::string_view text, std::string* error);

  // A JSONL value at input line `line` (elements: the array's elements for kArray). Returns
  // false with `*error` set when it conflicts with the declared type or with the kind of
  // earlier values.
  bool AppendJson(const JsonField& field, const std::vector<std::string_view>& elements,
                  int64_t line, std::string* error);

  // Builds the column; the builder is left empty.
  Column Finish(std::optional<char> list_delimiter);

 private:
  bool IsNullCell(size_t i) const {
    return json_ ? kinds_[i] == static_cast<uint8_t>(JsonKind::kNull)
                 : offsets_[i] == offsets_[i + 1];
  }
  std::string_view Cell(size_t i) const {
    return std::string_view(bytes_.data() + offsets_[i], offsets_[i + 1] - offsets_[i]);
  }
  Type InferJsonType() const;
  // Infers a TSV/CSV column's type, filling `c`'s typed array when it is numeric or bool.
  Type FillInferredText(std::optional<char> list_delimiter, Column* c) const;
  // Parses every non-null cell into `*out`; false (and `*out` emptied) at the first failure.
  template <typename T, typename Parse>
  bool TryFill(Parse parse, std::vector<T>* out) const;
  void FillValidity(Column* c) const;
  void BuildList(std::optional<char> list_delimiter, Column* c);

  std::string name_;
  std::optional<Type> declared_;
  bool json_;
  std::string bytes_;                     // the text of every cell, back to back
  std::vector<uint64_t> offsets_;         // cell i is bytes_[offsets_[i], offsets_[i+1])
  std::vector<uint8_t> kinds_;            // JSONL: JsonKind of each cell
  std::vector<uint64_t> elem_ends_;       // JSONL arrays: end offset in bytes_ of each element
  std::vector<uint32_t> array_sizes_;     // JSONL arrays: element count of each array cell
  bool all_int_ = true;                   // JSONL: every number so far parses as int64
  bool all_integer_text_ = true;          // JSONL: every number so far is an integer's text
  JsonKind json_kind_ = JsonKind::kNull;  // JSONL: kind of the first non-null value
  int64_t json_kind_line_ = 0;
};

}  // namespace urn::table

#endif  // URN_TABLE_COLUMN_BUILDER_H_
