// Table: a columnar, immutable, in-memory dataset — the rows that urn's query engine samples
// from and that the server holds for a registered dataset.
//
// Each Column stores one type densely: int64 and double as arrays, bool as one byte per row,
// strings as one byte arena plus uint64 offsets, lists of strings as an arena of elements plus
// element offsets plus per-row offsets into the elements. Nulls are a byte per row (1 = value
// present), kept only for columns that have a null; a null cell holds 0 / 0.0 / false / "" /
// an empty list in the typed arrays, so hot loops may read the arrays without branching and
// consult IsNull() only when nulls matter.
// Memory: about 8 bytes per numeric cell, the text plus 8 bytes per string cell or list
// element, 1 byte per cell of a column with nulls; MemoryBytes() reports it.
//
// Tables are built by TableBuilder (table/table_builder.h) or ReadTableFromFiles
// (table/read_table.h). Cell access takes 0-based column and row indices.
//
// Dictionaries: a long-lived table may index its low-cardinality string and list columns
// (BuildDictionaries) so that an expression over such a column is evaluated once per distinct
// value instead of once per row (query/program.h). Indexing costs one hash lookup per cell and
// 2 bytes per row; one-shot readers (the command line) skip it.
// REQUIRES (every accessor): indices in range; typed accessors only on columns of that type.
//
// Thread safety: a Table is immutable after it is built; any number of threads may read it.
#ifndef URN_TABLE_TABLE_H_
#define URN_TABLE_TABLE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "table/value.h"

namespace urn::table {

struct StringDictionary;

class Column {
 public:
  Column() = default;
  Column(std::string name, Type type) : name_(std::move(name)), type_(type) {}

  const std::string& name() const { return name_; }
  Type type() const { return type_; }
  int64_t size() const { return size_; }

  bool has_nulls() const { return !valid_.empty(); }
  bool IsNull(int64_t row) const { return !valid_.empty() && valid_[row] == 0; }

  // Typed arrays of size() entries.
  const int64_t* Int64Data() const { return ints_.data(); }
  const double* DoubleData() const { return doubles_.data(); }
  const uint8_t* BoolData() const { return bools_.data(); }  // 0 or 1

  // kString: the row's text ("" for null).
  std::string_view StringAt(int64_t row) const {
    return std::string_view(arena_.data() + offsets_[row], offsets_[row + 1] - offsets_[row]);
  }
  // kStringList: number of elements of the row and one element.
  int64_t ListSize(int64_t row) const {
    return static_cast<int64_t>(list_offsets_[row + 1] - list_offsets_[row]);
  }
  std::string_view ListElement(int64_t row, int64_t i) const {
    const uint64_t e = list_offsets_[row] + static_cast<uint64_t>(i);
    return std::string_view(arena_.data() + offsets_[e], offsets_[e + 1] - offsets_[e]);
  }

  // The cell as an owning Value (slow path).
  Value At(int64_t row) const;

  // kString and kStringList columns after Table::BuildDictionaries found few distinct values
  // (whole cells: a list is one value): the dictionary; otherwise null.
  const StringDictionary* dictionary() const { return dictionary_.get(); }

  // Bytes held by this column's arrays.
  int64_t MemoryBytes() const;

 private:
  friend class ColumnBuilder;
  friend class Table;
  friend class TableCodecAccess;

  // The dictionary of this kString or kStringList column, or null when it has over
  // `max_entries` distinct non-null values.
  std::shared_ptr<const StringDictionary> MakeDictionary(int64_t max_entries) const;
  // kString / kStringList: the bytes of a cell (a list's elements are contiguous), and whether
  // two cells hold the same value.
  std::string_view CellBytes(int64_t row) const;
  bool SameCell(int64_t row, const Column& other, int64_t other_row) const;

  std::string name_;
  Type type_ = Type::kString;
  int64_t size_ = 0;
  std::vector<uint8_t> valid_;  // empty: no nulls
  std::vector<int64_t> ints_;
  std::vector<double> doubles_;
  std::vector<uint8_t> bools_;
  std::string arena_;                                   // kString, kStringList: the bytes
  std::vector<uint64_t> offsets_;                       // kString: rows+1; kStringList: elements+1
  std::vector<uint64_t> list_offsets_;                  // kStringList: rows+1 indices into elements
  std::shared_ptr<const StringDictionary> dictionary_;  // after BuildDictionaries
};

// The distinct values of a string or list column, and each row's index among them.
struct StringDictionary {
  // A column of the same type holding the distinct values in order of first appearance, then,
  // if the column has nulls, one null row (the code of every null row).
  Column values;
  // codes[row] < values.size() for every row of the column (2 bytes per row).
  using Code = uint16_t;
  std::vector<Code> codes;
};

class Table {
 public:
  Table() = default;
  Table(Table&&) = default;
  Table& operator=(Table&&) = default;
  Table(const Table&) = delete;
  Table& operator=(const Table&) = delete;

  int num_columns() const { return static_cast<int>(columns_.size()); }
  int64_t num_rows() const { return num_rows_; }
  const Column& column(int col) const { return columns_[col]; }
  const std::vector<Column>& columns() const { return columns_; }

  // Index of the first column named `name`, or -1.
  int FindColumn(std::string_view name) const;

  Value At(int col, int64_t row) const { return columns_[col].At(row); }

  // The cell as output text: integers as digits, doubles in shortest round-trip form, bools
  // as true/false, lists joined by list_delimiter(), null as "". AppendCell appends to `out`.
  std::string RenderCell(int col, int64_t row) const;
  void AppendCell(int col, int64_t row, std::string* out) const;

  // The character that joins list elements in RenderCell ('|' unless the reader's
  // list_delimiter said otherwise).
  char list_delimiter() const { return list_delimiter_; }

  // The input text of each row (without its line terminator), when the reader was asked to
  // keep it (ReadOptions::keep_raw_rows); otherwise has_raw_rows() is false.
  bool has_raw_rows() const { return !raw_offsets_.empty(); }
  std::string_view RawRow(int64_t row) const {
    return std::string_view(raw_.data() + raw_offsets_[row],
                            raw_offsets_[row + 1] - raw_offsets_[row]);
  }

  // Bytes held by the columns and raw rows.
  int64_t MemoryBytes() const;

  // Indexes every kString and kStringList column with at most `max_entries` distinct non-null
  // values (at most kDefaultDictionaryEntries, so that codes fit 16 bits) by a
  // StringDictionary; columns with more are left as they are. Call before the table is
  // shared: this is the last step of building it. Time: one hash lookup per string cell.
  static constexpr int64_t kDefaultDictionaryEntries = (int64_t{1} << 16) - 1;
  void BuildDictionaries(int64_t max_entries = kDefaultDictionaryEntries);

 private:
  friend class TableBuilder;
  friend class TableCodecAccess;

  std::vector<Column> columns_;
  int64_t num_rows_ = 0;
  char list_delimiter_ = '|';
  std::string raw_;
  std::vector<uint64_t> raw_offsets_;  // empty, or rows+1
};

}  // namespace urn::table

#endif  // URN_TABLE_TABLE_H_
